"""Opening the `SecretBox` a process runs with, and re-encrypting every stored secret.

With `MLC_KMS_KEY_ID` the Fernet keys are KMS data keys whose wrapped blobs live in
`kms_data_keys`, newest first; the first start creates one. Older data keys are kept, so a
process that started before a rotation can still read what it and others wrote.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import KmsKeyring, SecretBox
from bolt_app.errors import SecretError
from bolt_app.storage.schema import encrypted_columns
from bolt_app.storage.tables import kms_data_keys

NO_KEY_MESSAGE = (
    "No encryption key is configured: set MLC_ENCRYPTION_KEYS (make one with "
    "`ml-connector keys generate`) or MLC_KMS_KEY_ID."
)


async def open_secret_box(
    session: AsyncSession,
    *,
    encryption_keys: tuple[str, ...],
    keyring: KmsKeyring | None,
    now: datetime,
) -> SecretBox:
    """The box from the configured keys, or from the KMS data keys (creating the first)."""
    if encryption_keys:
        return SecretBox(encryption_keys)
    if keyring is None:
        raise SecretError(NO_KEY_MESSAGE)
    wrapped = (
        (
            await session.execute(
                sa.select(kms_data_keys.c.wrapped_key)
                .where(kms_data_keys.c.kms_key_id == keyring.key_id)
                .order_by(kms_data_keys.c.id.desc())
            )
        )
        .scalars()
        .all()
    )
    if not wrapped:
        return await add_kms_data_key(session, keyring, now=now)
    keys = [await asyncio.to_thread(keyring.unwrap, blob) for blob in wrapped]
    return SecretBox(keys, source="the KMS data keys")


async def add_kms_data_key(
    session: AsyncSession, keyring: KmsKeyring, *, now: datetime
) -> SecretBox:
    """Generate and store a new data key; returns the box with it first and older ones after."""
    key, blob = await asyncio.to_thread(keyring.new_data_key)
    await session.execute(
        sa.insert(kms_data_keys).values(kms_key_id=keyring.key_id, wrapped_key=blob, created_at=now)
    )
    older = (
        (
            await session.execute(
                sa.select(kms_data_keys.c.wrapped_key)
                .where(kms_data_keys.c.kms_key_id == keyring.key_id)
                .order_by(kms_data_keys.c.id.desc())
                .offset(1)
            )
        )
        .scalars()
        .all()
    )
    keys = [key] + [await asyncio.to_thread(keyring.unwrap, blob) for blob in older]
    return SecretBox(keys, source="the KMS data keys")


async def reencrypt_all(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every value of every encrypted column under the box's newest key.

    Runs in the caller's transaction, so a failure leaves every secret as it was. Returns the
    number of values re-encrypted.
    """
    count = 0
    for table, columns in encrypted_columns().items():
        primary_key = list(table.primary_key.columns)
        rows = (await session.execute(sa.select(*primary_key, *columns))).all()
        for row in rows:
            values = {
                column.name: box.reencrypt(row._mapping[column])
                for column in columns
                if row._mapping[column] is not None
            }
            if not values:
                continue
            condition = sa.and_(*(column == row._mapping[column] for column in primary_key))
            await session.execute(sa.update(table).where(condition).values(**values))
            count += len(values)
    return count
