"""`ml-connector keys generate|rotate`: make a Fernet key; re-encrypt every stored secret.

`rotate` runs in one transaction: every encrypted column (the registry in
`bolt_app.storage.tables`) is re-encrypted under the newest key, or all or nothing. With
MLC_ENCRYPTION_KEYS the newest key is the first one; with MLC_KMS_KEY_ID a new data key is made.
"""

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import SecretBox, generate_key
from bolt_app.errors import SecretError
from bolt_app.runtime.clock import utc_now
from bolt_app.runtime.database import kms_keyring, open_database
from bolt_app.settings import Settings
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.secrets import NO_KEY_MESSAGE, add_kms_data_key, reencrypt_all


def register(subparsers) -> None:
    parser = subparsers.add_parser("keys", help="encryption keys")
    actions = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    actions.add_parser("generate", help="print a new Fernet key").set_defaults(handler=run_generate)
    actions.add_parser(
        "rotate", help="re-encrypt every stored secret under the newest key"
    ).set_defaults(handler=run_rotate)


def run_generate(args) -> int:
    print(generate_key())
    return 0


def run_rotate(args) -> int:
    count = asyncio.run(_rotate(args.settings))
    print(f"Re-encrypted {count} stored secret(s) under the newest key.")
    return 0


async def _rotate(settings: Settings) -> int:
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
