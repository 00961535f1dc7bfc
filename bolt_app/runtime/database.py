"""Opening the (upgraded) database and the `SecretBox` a process runs with.

The only place that builds the engine for DATABASE_URL and the AWS KMS client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from botocore.exceptions import BotoCoreError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bolt_app.crypto import KmsKeyring, SecretBox
from bolt_app.errors import ConfigError, SecretError, StorageError
from bolt_app.runtime.clock import utc_now
from bolt_app.settings import Settings
from bolt_app.storage.engine import create_engine, describe_url, upgrade_database
from bolt_app.storage.secrets import open_secret_box


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The engine for DATABASE_URL, upgraded to the latest schema first; disposed on exit.

    A database error inside the `async with` body becomes a one-sentence StorageError: the
    SQLAlchemy text would add a traceback and the SQL parameters (ciphertexts among them).
    """
    engine = create_engine(settings.database_url)
    where = describe_url(settings.database_url)
    try:
        try:
            await upgrade_database(engine)
        except (DBAPIError, OSError) as error:
            raise ConfigError(
                f"Cannot open the database at DATABASE_URL {where} ({_reason(error)})."
            ) from None
        try:
            yield engine
        except DBAPIError as error:
            raise StorageError(
                f"The database at DATABASE_URL {where} failed ({_reason(error)})."
            ) from None
    finally:
        await engine.dispose()


def _reason(error: Exception) -> str:
    """The driver's own exception (not SQLAlchemy's wrapper with its SQL and parameters)."""
    reason = getattr(error, "orig", None) or error
    return f"{type(reason).__name__}: {reason}"


def kms_keyring(settings: Settings) -> KmsKeyring | None:
    """A keyring over a boto3 KMS client when MLC_KMS_KEY_ID is set (region from AWS_REGION)."""
    if settings.kms_key_id is None:
        return None
    import boto3  # here, not at the top: boto3 costs every other command a second to import

    try:
        client = boto3.client("kms")
    except BotoCoreError as error:
        raise SecretError(f"Cannot reach AWS KMS for MLC_KMS_KEY_ID ({error}).") from None
    return KmsKeyring(client, settings.kms_key_id)


async def open_box(session: AsyncSession, settings: Settings) -> SecretBox:
    """The SecretBox this process runs with; a clear SecretError when no key is configured."""
    return await open_secret_box(
        session,
        encryption_keys=settings.encryption_keys,
        keyring=kms_keyring(settings),
        now=utc_now(),
    )
