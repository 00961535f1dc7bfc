"""Encryption of stored secrets: `SecretBox` over Fernet keys, newest first.

The keys come either straight from `MLC_ENCRYPTION_KEYS` or from Fernet data keys that AWS KMS
generated and wrapped (`KmsKeyring`); the wrapped blobs live in the database (table
`kms_data_keys`, see `bolt_app.storage.secrets`) and are unwrapped once at start. Either way the
newest key encrypts and every key decrypts, so a rotation can re-encrypt at leisure and the old
key can be dropped afterwards. Errors never carry key material or plaintext.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bolt_app.errors import SecretError


def generate_key() -> str:
    """A new random Fernet key, as `MLC_ENCRYPTION_KEYS` takes it."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts with the first (newest) key, decrypts with any of them."""

    __slots__ = ("_fernet", "key_count")

    def __init__(self, keys: Sequence[str | bytes], *, source: str = "MLC_ENCRYPTION_KEYS"):
        if not keys:
            raise SecretError(f"{source} holds no encryption key.")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                raise SecretError(
                    f"Key {position} in {source} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes; `ml-connector keys generate` makes one)."
                ) from None
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)

    def __repr__(self) -> str:
        return f"SecretBox(<{self.key_count} key(s)>)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except (InvalidToken, TypeError, ValueError):
            raise SecretError(
                "A stored secret cannot be decrypted with the configured keys: it was tampered "
                "with or encrypted under a key that is no longer configured."
            ) from None

    def reencrypt(self, token: str) -> str:
        """The same secret encrypted under the newest key (for `keys rotate`)."""
        try:
            return self._fernet.rotate(token).decode("ascii")
        except (InvalidToken, TypeError, ValueError):
            raise SecretError(
                "A stored secret cannot be re-encrypted: no configured key decrypts it."
            ) from None


class KmsKeyring:
    """Generates and unwraps Fernet data keys with one AWS KMS key (the client is injected)."""

    def __init__(self, kms_client: Any, key_id: str) -> None:
        self._client = kms_client
        self.key_id = key_id

    def new_data_key(self) -> tuple[bytes, bytes]:
        """(Fernet key, KMS-wrapped blob); only the blob may be stored."""
        try:
            response = self._client.generate_data_key(KeyId=self.key_id, KeySpec="AES_256")
        except (BotoCoreError, ClientError) as error:
            raise self._failure("GenerateDataKey", error) from None
        return base64.urlsafe_b64encode(response["Plaintext"]), response["CiphertextBlob"]

    def unwrap(self, wrapped: bytes) -> bytes:
        """The Fernet key inside a blob from `new_data_key`."""
        try:
            response = self._client.decrypt(CiphertextBlob=wrapped, KeyId=self.key_id)
        except (BotoCoreError, ClientError) as error:
            raise self._failure("Decrypt", error) from None
        return base64.urlsafe_b64encode(response["Plaintext"])

    def _failure(self, operation: str, error: Exception) -> SecretError:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        return SecretError(
            f"AWS KMS {operation} with MLC_KMS_KEY_ID {self.key_id!r} failed "
            f"({code or type(error).__name__})."
        )
