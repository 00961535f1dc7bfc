import base64
from datetime import UTC, datetime

import boto3
import pytest
from cryptography.fernet import Fernet
from moto import mock_aws
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import KmsKeyring, SecretBox, generate_key
from bolt_app.errors import SecretError
from bolt_app.storage.secrets import add_kms_data_key, open_secret_box
from bolt_app.storage.tables import kms_data_keys

SECRET = "xoxb-very-secret-token-value"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_round_trip_and_ciphertext_hides_the_plaintext():
    box = SecretBox([generate_key()])
    token = box.encrypt(SECRET)
    assert SECRET not in token
    assert box.decrypt(token) == SECRET
    assert box.encrypt(SECRET) != token  # fresh IV every time


def test_tampered_ciphertext_is_rejected_without_showing_the_secret():
    box = SecretBox([generate_key()])
    token = box.encrypt(SECRET)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[40] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(SecretError) as caught:
        box.decrypt(tampered)
    assert SECRET not in str(caught.value)
    assert "tampered" in str(caught.value)
    with pytest.raises(SecretError):
        box.decrypt("not a token at all")


def test_a_token_from_an_unknown_key_is_rejected():
    token = SecretBox([generate_key()]).encrypt(SECRET)
    with pytest.raises(SecretError):
        SecretBox([generate_key()]).decrypt(token)


def test_rotation_old_key_still_decrypts_reencrypt_uses_the_newest_then_old_is_removable():
    old_key, new_key = generate_key(), generate_key()
    old_token = SecretBox([old_key]).encrypt(SECRET)
    rotated_box = SecretBox([new_key, old_key])
    assert rotated_box.decrypt(old_token) == SECRET
    new_token = rotated_box.reencrypt(old_token)
    assert Fernet(new_key).decrypt(new_token).decode() == SECRET
    assert SecretBox([new_key]).decrypt(new_token) == SECRET
    with pytest.raises(SecretError):
        SecretBox([new_key]).decrypt(old_token)


def test_an_invalid_key_is_a_clear_error_naming_its_position_not_its_value():
    bad = "definitely-not-a-fernet-key"
    with pytest.raises(SecretError) as caught:
        SecretBox([generate_key(), bad])
    assert "Key 2 in MLC_ENCRYPTION_KEYS" in str(caught.value)
    assert bad not in str(caught.value)


def test_repr_shows_no_key_material():
    key = generate_key()
    assert key not in repr(SecretBox([key]))


async def test_no_key_at_all_is_a_clear_error(engine):
    async with AsyncSession(engine) as session:
        with pytest.raises(SecretError, match="MLC_ENCRYPTION_KEYS"):
            await open_secret_box(session, encryption_keys=(), keyring=None, now=NOW)


@pytest.fixture
def kms_keyring():
    with mock_aws():
        client = boto3.client("kms", region_name="eu-west-1")
        key_id = client.create_key(Description="ml-connector test")["KeyMetadata"]["KeyId"]
        yield KmsKeyring(client, key_id)


def test_kms_data_key_unwraps_to_the_same_fernet_key(kms_keyring):
    key, blob = kms_keyring.new_data_key()
    assert base64.urlsafe_b64decode(key) not in blob
    assert kms_keyring.unwrap(blob) == key
    assert SecretBox([key]).decrypt(SecretBox([kms_keyring.unwrap(blob)]).encrypt(SECRET)) == SECRET


def test_kms_failures_become_a_secret_error_naming_the_variable():
    with mock_aws():
        client = boto3.client("kms", region_name="eu-west-1")
        keyring = KmsKeyring(client, "alias/does-not-exist")
        with pytest.raises(SecretError, match="MLC_KMS_KEY_ID"):
            keyring.new_data_key()


async def test_kms_box_stores_only_the_wrapped_key_and_reopens_with_it(engine, kms_keyring):
    async with AsyncSession(engine) as session, session.begin():
        box = await open_secret_box(session, encryption_keys=(), keyring=kms_keyring, now=NOW)
        token = box.encrypt(SECRET)
    async with AsyncSession(engine) as session, session.begin():
        reopened = await open_secret_box(session, encryption_keys=(), keyring=kms_keyring, now=NOW)
        assert reopened.decrypt(token) == SECRET
        rows = (await session.execute(kms_data_keys.select())).all()
    assert len(rows) == 1
    assert rows[0].kms_key_id == kms_keyring.key_id


async def test_a_new_kms_data_key_encrypts_while_older_ones_still_decrypt(engine, kms_keyring):
    async with AsyncSession(engine) as session, session.begin():
        first = await open_secret_box(session, encryption_keys=(), keyring=kms_keyring, now=NOW)
        old_token = first.encrypt(SECRET)
        second = await add_kms_data_key(session, kms_keyring, now=NOW)
    assert second.key_count == 2
    new_token = second.reencrypt(old_token)
    with pytest.raises(SecretError):
        first.decrypt(new_token)
    async with AsyncSession(engine) as session:
        reopened = await open_secret_box(session, encryption_keys=(), keyring=kms_keyring, now=NOW)
    assert reopened.decrypt(new_token) == reopened.decrypt(old_token) == SECRET
