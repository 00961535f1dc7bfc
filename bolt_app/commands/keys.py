"""`ml-connector keys generate|rotate`: make a Fernet key; re-encrypt every stored secret.

`rotate` runs in one transaction: every encrypted column (the registry in
`bolt_app.storage.tables`) is re-encrypted under the newest key, or all or nothing. With
MLC_ENCRYPTION_KEYS the newest key is the first one; with MLC_KMS_KEY_ID a new data key is made.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bolt_app.commands.parsing import STORE, add_command

if TYPE_CHECKING:
    from bolt_app.settings import Settings


def register(subparsers) -> None:
    parser = add_command(subparsers, "keys", "encryption keys")
    actions = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    add_command(
        actions,
        "generate",
        "print a new Fernet key",
        description="Print a new Fernet key, for MLC_ENCRYPTION_KEYS; keep it: it decrypts the "
        "database.",
    ).set_defaults(handler=run_generate)
    add_command(
        actions,
        "rotate",
        "re-encrypt every stored secret under the newest key",
        description="Re-encrypt every stored secret under the newest key, in one transaction: "
        "the first of MLC_ENCRYPTION_KEYS, or a new data key of MLC_KMS_KEY_ID.",
        environment=STORE,
    ).set_defaults(handler=run_rotate)


def run_generate(args) -> int:
    from bolt_app.crypto import generate_key

    print(generate_key())
    return 0


def run_rotate(args) -> int:
    count = asyncio.run(_rotate(args.settings))
    print(f"Re-encrypted {count} stored secret(s) under the newest key.")
    return 0


async def _rotate(settings: Settings) -> int:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bolt_app.crypto import SecretBox
    from bolt_app.errors import SecretError
    from bolt_app.runtime.clock import utc_now
    from bolt_app.runtime.database import kms_keyring, open_database
    from bolt_app.storage.audit import record_audit_event
    from bolt_app.storage.secrets import NO_KEY_MESSAGE, add_kms_data_key, reencrypt_all

    async with (
        open_database(settings) as engine,
        AsyncSession(engine) as session,
        session.begin(),
    ):
        now = utc_now()
        keyring = kms_keyring(settings)
        if settings.encryption_keys:
            box = SecretBox(settings.encryption_keys)
            source = "MLC_ENCRYPTION_KEYS"
        elif keyring is not None:
            box = await add_kms_data_key(session, keyring, now=now)
            source = "a new KMS data key"
        else:
            raise SecretError(NO_KEY_MESSAGE)
        count = await reencrypt_all(session, box)
        await record_audit_event(
            session,
            team_id=None,
            kind="keys.rotated",
            actor="cli",
            summary=f"Re-encrypted {count} stored secret(s) under the newest key ({source}).",
            details={"secrets": count, "key_source": source},
            now=now,
        )
    return count
