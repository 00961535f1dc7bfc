"""What every table module shares: the one `metadata`, aware datetimes, encrypted columns.

Encrypted columns are declared with `encrypted_column`, which tags them in `Column.info`;
`encrypted_columns()` collects every tagged column of the metadata, so `keys rotate` finds the
secrets of tables added later (Slack installations, ...) without a second list to maintain.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class AwareDateTime(sa.TypeDecorator[datetime]):
    """Stores UTC, returns aware datetimes on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encrypted_column(name: str, *, nullable: bool = True) -> sa.Column[str]:
    """A column holding a `SecretBox` token; `keys rotate` re-encrypts it."""
    return sa.Column(name, sa.Text, nullable=nullable, info={"encrypted": True})


def encrypted_columns(meta: sa.MetaData = metadata) -> dict[sa.Table, list[sa.Column]]:
    """Every encrypted column, by table (the registry `keys rotate` walks)."""
    found: dict[sa.Table, list[sa.Column]] = {}
    for table in meta.sorted_tables:
        columns = [column for column in table.columns if column.info.get("encrypted")]
        if columns:
            found[table] = columns
    return found
