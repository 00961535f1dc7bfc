"""Upserting many rows of one table: one prepared statement, the driver's executemany, and each
value made ready for the driver once, not once a row.

SQLAlchemy's own executemany runs every bound value of every row through its type's processing
in Python: on SQLite a datetime becomes text, a JSON value is encoded, each TypeDecorator is
called. For a poll's seen rows that was about 20 µs a row, most of it spent on values every
row shares (the poll's `now`, its team, company and record type). Here the statement is
compiled once per table and dialect, the shared values are processed once a call, and only the
values that differ from row to row go through their column's processing (the same processors
SQLAlchemy itself would use, so what is stored is what it would store).
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.storage.engine import insert_of

CHUNK_ROWS = 1000  # rows a call, so a huge write never holds the event loop long
_SQLITE_VARIABLES = 999  # bound variables a statement may have on every SQLite (32,766 from 3.32)
# Keys one IN list binds: a poll batch's 1,000 in one statement where SQLite takes that many
# values (3.32 and later; PostgreSQL far more), else in statements of 500. Each statement
# waits its turn for Python's lock behind the poll's planning: fewer of them is time back.
IN_LIST_KEYS = 1000 if sqlite3.sqlite_version_info >= (3, 32) else 500

Processor = Callable[[Any], Any] | None


async def upsert_many(
    session: AsyncSession,
    table: sa.Table,
    shared: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    *,
    updated: Sequence[str],
) -> None:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE the `updated` columns, on SQLite and
    PostgreSQL alike. `shared` holds the values every row has; each row, the others. Together
    they name every column of the table (nothing is left to a column default)."""
    pending = iter(rows)
    first = next(pending, None)
    if first is None:
        return
    varying = tuple(first)
    given = set(shared) | set(varying)
    if given != set(table.c.keys()) or len(given) != len(shared) + len(varying):
        raise ValueError(
            f"an upsert of {table.name} names each of its columns once: "
            f"{', '.join(sorted(table.c.keys()))}"
        )
    connection = await session.connection()
    dialect = connection.dialect
    sql, order, processors = _compiled(table, tuple(updated), dialect)
    template = [None] * len(order)
    for name, value in shared.items():
        index = order.index(name)
        processor = processors[index]
        template[index] = value if processor is None else processor(value)
    slots = [(index, processors[index]) for index in map(order.index, varying)]
    rest = itertools.chain((first,), pending)
    while chunk := list(itertools.islice(rest, CHUNK_ROWS)):
        parameters = []
        for row in chunk:
            values = template.copy()
            for (index, processor), name in zip(slots, varying, strict=True):
                value = row[name]
                values[index] = value if processor is None else processor(value)
            parameters.append(tuple(values))
        if dialect.name == "sqlite":
            await _sqlite_execute(connection, sql, parameters)
        else:
            await connection.exec_driver_sql(sql, parameters)


async def _sqlite_execute(connection: Any, sql: str, parameters: list[tuple[Any, ...]]) -> None:
    """Many rows to a statement on SQLite. Its driver lets go of Python's lock around every
    statement it steps, and takes it back before the next: a row a statement made a write
    of 1,000 rows wait 1,000 times for the lock, which the poll's planning and parsing hold
    meanwhile (most of the write's time, measured). Rows are grouped within SQLite's oldest
    limit of bound variables; a call of `CHUNK_ROWS` rows is one executemany."""
    columns = len(parameters[0])
    per_statement = _rows_per_statement(columns)
    groups = [
        tuple(itertools.chain.from_iterable(parameters[start : start + per_statement]))
        for start in range(0, len(parameters), per_statement)
    ]
    full = [group for group in groups if len(group) == per_statement * columns]
    if full:
        await connection.exec_driver_sql(_rows_sql(sql, columns, per_statement), full)
    if len(full) < len(groups):
        last = groups[-1]
        await connection.exec_driver_sql(_rows_sql(sql, columns, len(last) // columns), last)


@functools.cache
def _rows_per_statement(columns: int) -> int:
    """The most rows a statement can bind that also divide a call's rows evenly, so a call of
    `CHUNK_ROWS` rows is one executemany."""
    most = max(1, _SQLITE_VARIABLES // columns)
    return max(rows for rows in range(1, most + 1) if CHUNK_ROWS % rows == 0)


@functools.lru_cache(maxsize=64)
def _rows_sql(sql: str, columns: int, rows: int) -> str:
    """A one-row INSERT of qmark parameters made an INSERT of `rows` rows."""
    one = "(" + ", ".join(["?"] * columns) + ")"
    if sql.count(one) != 1:
        raise TypeError(f"cannot see the row of parameters in {sql!r}")
    return sql.replace(one, ", ".join([one] * rows))


@functools.lru_cache(maxsize=64)
def _compiled(
    table: sa.Table, updated: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[str, ...], tuple[Processor, ...]]:
    """The upsert's SQL in the dialect's positional paramstyle, its columns in parameter order
    and each one's bind processor (None: the value goes to the driver as it is)."""
    insert = insert_of(dialect, table)
    statement = insert.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key],
        set_={name: insert.excluded[name] for name in updated},
    )
    compiled = statement.compile(dialect=dialect)
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(table.c.keys()):
        raise TypeError(f"{dialect.name} did not compile the upsert with positional parameters")
    processors = tuple(
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order
    )
    return compiled.string, order, processors
