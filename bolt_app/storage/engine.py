"""Opening the database: URL mapping to async drivers, engine set-up, schema upgrades.

Operators write plain URLs (`sqlite:///x.db`, `postgresql://...`); the async drivers
(aiosqlite, asyncpg) are chosen here. Alembic runs programmatically from the migrations shipped
inside this package, so an installed wheel can upgrade its own database.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from bolt_app.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration (a test holds it to Alembic's head): a database already there is
# opened without loading Alembic, a few tenths of a second of every command's start.
HEAD_REVISION = "0011_prune_indexes"
# orjson would write datetimes and dataclasses itself; the json module refuses them.
_AS_THE_JSON_MODULE_DOES = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_SQLITE_BUSY_TIMEOUT_MS = 5000
log = logging.getLogger(__name__)


def database_url_for_async(url: str) -> str:
    """The same URL with the async driver: sqlite -> aiosqlite, postgresql -> asyncpg."""
    scheme, separator, rest = url.partition("://")
    driver = _DRIVERS.get(scheme)
    if not separator or driver is None:
        raise ConfigError(
            "DATABASE_URL must start with sqlite:///, postgresql:// or postgres://, "
            f"not {scheme + separator!r}."
        )
    return f"{driver}://{rest}"


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


# asyncpg prepares every statement, and PostgreSQL switches a prepared statement to a generic
# plan after five runs. A poll's tables grow while it runs (a first big poll writes 100,000 seen
# rows a batch at a time): a generic plan made while `seen_records` was nearly empty goes on
# scanning it whole for every batch (0.9 s a lookup at 30,000 rows). Planning each run for
# the table as it is costs a fraction of a millisecond.
_POSTGRES_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, enforced foreign keys and a busy timeout."""
    async_url = database_url_for_async(url)
    try:
        if async_url.startswith("sqlite"):
            _check_sqlite_directory(url)
            engine = create_async_engine(
                async_url,
                connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000},
                json_serializer=encode_json,
            )
            event.listen(engine.sync_engine, "connect", _configure_sqlite)
            return engine
        return create_async_engine(
            async_url,
            pool_pre_ping=True,
            connect_args={"server_settings": _POSTGRES_SETTINGS},
            json_serializer=encode_json,
        )
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL {describe_url(url)!r} is not a valid URL.") from None


def encode_json(value: Any) -> str:
    """A JSON column's text: orjson's where it takes the value (several times faster: a poll
    writes a snapshot per record), else the json module's, which also takes integers past 64
    bits and lone surrogates; what neither takes (a datetime, a dataclass) is a TypeError."""
    try:
        return orjson.dumps(value, option=_AS_THE_JSON_MODULE_DOES).decode("utf-8")
    except TypeError:
        return json.dumps(value)


def _check_sqlite_directory(url: str) -> None:
    """A missing directory is the usual SQLite mistake; say so before the driver fails vaguely."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        directory = Path(database).expanduser().absolute().parent
        if not directory.is_dir():
            raise ConfigError(
                f"DATABASE_URL points into the directory {directory}, which does not exist."
            )


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (idempotent: a current schema is left alone)."""
    async with engine.begin() as connection:
        if revision == "head" and await _current_revision(connection) == HEAD_REVISION:
            return
        await connection.run_sync(_upgrade, revision)


async def _current_revision(connection: AsyncConnection) -> str | None:
    """The revision Alembic recorded, or None (a new database), in a savepoint, so a missing
    table leaves the transaction usable on PostgreSQL."""
    try:
        async with connection.begin_nested():
            result = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return result.scalar_one_or_none()
    except DBAPIError:
        return None


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    before = MigrationContext.configure(connection).get_current_revision()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    after = MigrationContext.configure(connection).get_current_revision()
    if after != before:
        log.info("database schema upgraded", extra={"from_revision": before, "to_revision": after})


def dialect_insert(session: AsyncSession, table: sa.Table) -> Any:
    """The session's dialect's INSERT, which has ON CONFLICT (PostgreSQL and SQLite have it)."""
    return insert_of(session.bind.dialect, table)


def insert_of(dialect: Dialect, table: sa.Table) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both PostgreSQL and SQLite have it)."""
    return (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(table)
