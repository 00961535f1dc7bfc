from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.errors import ConfigError
from bolt_app.storage.engine import (
    HEAD_REVISION,
    MIGRATIONS,
    create_engine,
    database_url_for_async,
    upgrade_database,
)
from bolt_app.storage.tables import audit_events, metadata


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///ml_connector.db", "sqlite+aiosqlite:///ml_connector.db"),
        ("sqlite:////var/lib/mlc.db", "sqlite+aiosqlite:////var/lib/mlc.db"),
        ("postgresql://u:p@db:5432/mlc", "postgresql+asyncpg://u:p@db:5432/mlc"),
        ("postgres://u@db/mlc", "postgresql+asyncpg://u@db/mlc"),
        ("postgresql+asyncpg://u@db/mlc", "postgresql+asyncpg://u@db/mlc"),
    ],
)
def test_operator_urls_map_to_async_drivers(url, expected):
    assert database_url_for_async(url) == expected


@pytest.mark.parametrize("url", ["mysql://u@db/x", "ml_connector.db", ""])
def test_unsupported_database_urls_name_the_variable(url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        database_url_for_async(url)


async def test_upgrade_creates_every_table_and_is_idempotent(engine):
    await upgrade_database(engine)  # second run: nothing to do, nothing breaks
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    assert set(metadata.tables) <= names
    assert "alembic_version" in names


async def test_times_come_back_aware_and_in_utc(engine):
    stamp = datetime(2026, 3, 8, 1, 30, tzinfo=timezone(timedelta(hours=-6)))
    async with AsyncSession(engine) as session, session.begin():
        await session.execute(
            sa.insert(audit_events).values(
                occurred_at=stamp, kind="test", actor="t", summary="s", details={}
            )
        )
    async with AsyncSession(engine) as session:
        stored = (await session.execute(sa.select(audit_events.c.occurred_at))).scalar_one()
    assert stored == stamp
    assert stored.utcoffset() == timedelta(0)


async def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await engine.dispose()
    assert (journal, foreign_keys) == ("wal", 1)
    assert busy >= 1000


async def test_the_migrations_build_exactly_the_schema_of_tables_py(engine):
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


def test_the_head_revision_a_current_database_is_checked_against_is_alembics_head():
    """A migration added without moving HEAD_REVISION would never run on an existing
    database: the check would find it current."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
