"""What the agent answers, over the readers: change listings, single records, key listings.

A change listing runs one scan per source table, filtered by date in SQL (the only filter the
ProvideX driver can apply without comparing decimal-hour strings) and then by the exact
(stamp, RecordKey) in Python. The sorted scan is kept for `cache_seconds` under an id that the
page token carries, so the pages of one listing read the file once; a listing's first page
always scans afresh. A token outliving its scan still works: positions are (stamp, key), so a
new scan continues exactly after the last record served.

One connection per company, opened on first use, used by one thread at a time and dropped
after a connection failure so the next request reconnects. Calls block: the server runs them
in worker threads.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import hashlib
import json
import operator
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sage import parsing
from sage.agent.connection import Connector
from sage.agent.errors import AgentReadError, SourceUnavailable
from sage.agent.layout import Table
from sage.agent.readers import (
    Lookup,
    Reader,
    children_statement,
    count_statement,
    is_date,
    key_template,
    lookup_statement,
    probe_statement,
    split_key,
)
from sage.agent.values import converter, hours, served
from sage.errors import ParseError

API_VERSION = "1.1"
CAPABILITIES = ("keys",)
DEFAULT_CACHE_SECONDS = 60.0
FETCH_SIZE = 5000

Converter = Callable[[object], str]
Stamp = tuple[str, Decimal]
"""A change stamp: ("YYYYMMDD" or "" when missing, decimal hours)."""


class InvalidParameter(ValueError):
    """A query parameter or page token is malformed (400 invalid_parameter)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One scanned row: its place in the listing (change stamp, then RecordKey) and the raw
    values as the driver gave them."""

    position: tuple[str, Decimal, str]
    source: int
    raw: tuple

    @property
    def key(self) -> str:
        return self.position[2]


_POSITION = operator.attrgetter("position")


@dataclass(frozen=True, slots=True)
class _Serving:
    """How one source's scanned rows are placed and served, worked out once: the converter and
    place in the scanned row of each stamp, key and served field (not looked up by name for
    every row). A scan converts only what places a row (its stamp and RecordKey); the rest is
    converted for the rows a page serves."""

    reader: Reader
    created: tuple[tuple[Converter, int], ...]  # DateCreated, TimeCreated
    updated: tuple[tuple[Converter, int], ...] | None  # DateUpdated, TimeUpdated, where read
    key_template: str
    key_on: tuple[tuple[Converter, int], ...]
    names: tuple[str, ...]  # the served fields, in the contract's order
    converters: tuple[Converter, ...]
    places: tuple[int, ...]
    lookups: tuple[tuple[Lookup, tuple[tuple[Converter, int], ...]], ...]
    children_on: tuple[tuple[Converter, int], ...]

    @classmethod
    def of(cls, reader: Reader, index: int) -> _Serving:
        source = reader.sources[index]
        selected = reader.selected(source)

        def placed(names: Sequence[str]) -> tuple[tuple[Converter, int], ...]:
            return tuple(
                (converter(source.table.column(name)), selected.index(name)) for name in names
            )

        names = (*source.columns, *(column.name for column in reader.audit))
        fields = placed(names)
        lookups = tuple((lookup, placed(lookup.on)) for lookup in reader.lookups)
        children_on = placed(reader.children.on) if reader.children is not None else ()
        return cls(
            reader,
            placed(("DateCreated", "TimeCreated")),
            placed(("DateUpdated", "TimeUpdated")) if reader.has_updated else None,
            key_template(source),
            placed(source.table.key),
            names,
            tuple(convert for convert, _ in fields),
            tuple(place for _, place in fields),
            lookups,
            children_on,
        )

    def position(self, raw: tuple) -> tuple[str, Decimal, str]:
        """A scanned row's place in the listing: its change stamp (the updated one once Sage
        has set DateUpdated, the created one before), then its RecordKey."""
        day = ""
        if self.updated is not None:
            (convert_day, day_at), (convert_clock, clock_at) = self.updated
            day = convert_day(raw[day_at])
        if not day:
            (convert_day, day_at), (convert_clock, clock_at) = self.created
            day = convert_day(raw[day_at])
        key = self.key_template.format(*[convert(raw[at]) for convert, at in self.key_on])
        return day, hours(convert_clock(raw[clock_at])), key

    def fields(self, raw: tuple) -> Iterator[tuple[str, str]]:
        """A scanned row's served fields as (name, value), in the contract's order."""
        values = map(operator.call, self.converters, map(raw.__getitem__, self.places))
        return zip(self.names, values, strict=True)


@dataclass(slots=True)
class _Scan:
    id: str
    taken_at: float
    entries: list[Entry]  # in listing order
    names: dict[tuple[str, tuple[str, ...]], dict[str, str]] = field(default_factory=dict)
    positions: list[tuple[str, Decimal, str]] = field(default_factory=list)  # for bisect
    _by_key: list[Entry] = field(default_factory=list)
    _keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.positions = [entry.position for entry in self.entries]

    def by_key(self) -> tuple[list[Entry], list[str]]:
        """The entries in RecordKey order and their keys (for bisect), sorted once per scan:
        every page of a keys listing reads the same order."""
        if len(self._by_key) != len(self.entries):
            self._by_key = sorted(self.entries, key=lambda entry: entry.key)
            self._keys = [entry.key for entry in self._by_key]
        return self._by_key, self._keys


@dataclass(frozen=True, slots=True)
class Page:
    records: list[dict[str, object]]
    next_page_token: str | None


def parse_since(since_date: str | None, since_time: str | None) -> Stamp | None:
    """The listing's inclusive lower bound; InvalidParameter names the bad parameter."""
    if since_date is None:
        if since_time is not None:
            raise InvalidParameter("since_time needs since_date")
        return None
    try:
        if parsing.parse_date(since_date) is None or len(since_date) != 8:
            raise ParseError("empty")
    except ParseError:
        raise InvalidParameter("since_date must be a calendar date as YYYYMMDD") from None
    if since_time in (None, ""):
        return since_date, Decimal(0)
    try:
        parsing.parse_time(since_time)
    except ParseError:
        raise InvalidParameter("since_time must be decimal hours from 0 to 23.99999") from None
    return since_date, Decimal(since_time)


def _encode(payload: Mapping[str, object]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, company: str, resource: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if payload["c"] != company or payload["r"] != resource:
            raise ValueError("another listing's token")
        return payload
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidParameter("page_token is not one this agent issued") from None


def version(record: Mapping[str, object]) -> str:
    """A record's version for the keys listing: changes whenever anything served changes
    (lines, looked-up names, an import that left the stamps alone)."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class CompanyReader:
    """One company's data through one connector."""

    def __init__(
        self,
        code: str,
        connector: Connector,
        *,
        clock: Callable[[], float] = time.monotonic,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
    ) -> None:
        self.code = code
        self.connector = connector
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._connection: Any = None
        self._scans: dict[tuple[str, str | None], _Scan] = {}
        self._servings: dict[tuple[str, int], _Serving] = {}

    # --- the connection ------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            # A broken connection may fail to close; it is gone either way.
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def _rows(self, sql: str, params: Sequence[object] = ()) -> Iterator[tuple]:
        """Rows of one statement; driver errors become AgentReadErrors. Caller holds the lock."""
        try:
            if self._connection is None:
                self._connection = self.connector.connect()
            cursor = self._connection.cursor()
            try:
                cursor.execute(sql, tuple(params))
                while batch := cursor.fetchmany(FETCH_SIZE):
                    yield from map(tuple, batch)
            finally:
                cursor.close()
        except AgentReadError:
            self._drop()
            raise
        except Exception as error:
            translated = self.connector.translate(error)
            if translated is None:
                raise
            if isinstance(translated, SourceUnavailable):
                self._drop()
            raise translated from None

    def _first(self, sql: str, params: Sequence[object] = ()) -> tuple | None:
        """The first row (every row is read, so the statement is finished before the next)."""
        rows = list(self._rows(sql, params))
        return rows[0] if rows else None

    def _param(self, table: Table, name: str, value: str) -> object:
        if is_date(table, name):
            day = parsing.parse_date(value) if value else None
            return self.connector.date_parameter(day) if day else None
        return value

    # --- scans ---------------------------------------------------------------------------

    def _scan(self, reader: Reader, since_day: str | None) -> _Scan:
        entries: list[Entry] = []
        for index, source in enumerate(reader.sources):
            position = self._serving(reader, index).position
            params: list[object] = []
            if since_day is not None:
                day = self.connector.date_parameter(parsing.parse_date(since_day) or date.min)
                params = [day] * (2 if reader.has_updated else 1)
            sql = reader.scan_statement(source, since=since_day is not None)
            entries += [Entry(position(raw), index, raw) for raw in self._rows(sql, params)]
        entries.sort(key=_POSITION)
        return _Scan(uuid.uuid4().hex[:12], self._clock(), entries)

    def _cached(self, reader: Reader, since_day: str | None, scan_id: str | None) -> _Scan:
        now = self._clock()
        for name, scan in list(self._scans.items()):
            if now - scan.taken_at > self._cache_seconds:
                del self._scans[name]
        slot = (reader.resource, since_day)
        scan = self._scans.get(slot)
        if scan_id is None or scan is None or scan.id != scan_id:
            scan = self._scan(reader, since_day)
            self._scans[slot] = scan
        return scan

    # --- serving rows --------------------------------------------------------------------

    def _serving(self, reader: Reader, index: int) -> _Serving:
        serving = self._servings.get((reader.resource, index))
        if serving is None or serving.reader is not reader:
            serving = self._servings[(reader.resource, index)] = _Serving.of(reader, index)
        return serving

    def _record(self, reader: Reader, entry: Entry, names: dict) -> dict[str, object]:
        source = reader.sources[entry.source]
        serving = self._serving(reader, entry.source)
        raw = entry.raw
        record: dict[str, object] = {"RecordKey": entry.key, **source.constants}
        record.update(serving.fields(raw))
        for lookup, on_columns in serving.lookups:
            on = tuple([convert(raw[position]) for convert, position in on_columns])
            slot = (lookup.table.name, on)
            if slot not in names:
                params = [
                    self._param(lookup.table, k, v)
                    for k, v in zip(lookup.table.key, on, strict=True)
                ]
                found = self._first(lookup_statement(lookup), params)
                names[slot] = {
                    name: served(lookup.table.column(name), found[i]) if found else ""
                    for i, name in enumerate(lookup.fields)
                }
            record.update(names[slot])
        if reader.children is not None:
            children = reader.children
            columns = tuple(dict.fromkeys((*children.table.key, *children.columns)))
            params = [convert(raw[position]) for convert, position in serving.children_on]
            lines = [
                {
                    name: served(children.table.column(name), value)
                    for name, value in zip(columns, row, strict=True)
                }
                for row in self._rows(children_statement(children), params)
            ]
            lines.sort(key=lambda line: tuple(line[name] for name in children.order))
            record[children.field] = [{n: line[n] for n in children.columns} for line in lines]
        return record

    # --- answers -------------------------------------------------------------------------

    def changes(
        self, reader: Reader, since: Stamp | None, page_token: str | None, page_size: int
    ) -> Page:
        bound = None if since is None else [since[0], str(since[1])]
        token = _decode(page_token, self.code, reader.resource) if page_token else None
        if token is not None and token.get("q") != bound:
            raise InvalidParameter("page_token belongs to a listing with another since bound")
        with self._lock:
            scan = self._cached(reader, since[0] if since else None, token and token["s"])
            keys = scan.positions
            start = bisect.bisect_left(keys, (*since, "")) if since else 0
            if token is not None:
                try:
                    after = (str(token["a"][0]), Decimal(token["a"][1]), str(token["a"][2]))
                except (KeyError, IndexError, TypeError, InvalidOperation):
                    raise InvalidParameter("page_token is not one this agent issued") from None
                start = max(start, bisect.bisect_right(keys, after))
            window = scan.entries[start : start + page_size]
            records = [self._record(reader, entry, scan.names) for entry in window]
        more = start + page_size < len(scan.entries)
        next_token = None
        if more:
            last = window[-1].position
            next_token = _encode(
                {
                    "c": self.code,
                    "r": reader.resource,
                    "s": scan.id,
                    "q": bound,
                    "a": [last[0], str(last[1]), last[2]],
                }
            )
        return Page(records, next_token)

    def record(self, reader: Reader, key: str) -> dict[str, object] | None:
        found = split_key(reader, key)
        if found is None:
            return None
        source, values = found
        params = [self._param(source.table, name, values[name]) for name in source.table.key]
        if any(param is None for param in params):
            return None
        with self._lock:
            raw = self._first(reader.key_statement(source), params)
            if raw is None:
                return None
            entry = Entry(("", Decimal(0), key), reader.sources.index(source), raw)
            return self._record(reader, entry, {})

    def keys(self, reader: Reader, page_token: str | None, page_size: int) -> Page:
        token = _decode(page_token, self.code, reader.resource) if page_token else None
        with self._lock:
            scan = self._cached(reader, None, token and token["s"])
            ordered, keys = scan.by_key()
            start = 0
            if token is not None:
                start = bisect.bisect_right(keys, str(token.get("k")))
            window = ordered[start : start + page_size]
            records: list[dict[str, object]] = []
            for entry in window:
                record = self._record(reader, entry, scan.names)
                records.append({"RecordKey": entry.key, "version": version(record)})
        next_token = None
        if start + page_size < len(ordered):
            next_token = _encode(
                {"c": self.code, "r": reader.resource, "s": scan.id, "k": window[-1].key}
            )
        return Page(records, next_token)

    # --- for `agent check` ---------------------------------------------------------------

    def connect(self) -> None:
        with self._lock:
            if self._connection is None:
                self._connection = self.connector.connect()

    def count(self, table: Table) -> int:
        with self._lock:
            row = self._first(count_statement(table))
        return int(row[0]) if row else 0

    def missing_columns(self, table: Table, columns: Sequence[str]) -> list[str]:
        """The columns a table lacks (each probed alone, so the answer names them)."""
        missing = []
        with self._lock:
            for name in columns:
                try:
                    self._first(
                        probe_statement(table, (name,)), [self._param(table, table.key[0], "")]
                    )
                except AgentReadError:
                    missing.append(name)
        return missing

    def idle_scan(self, reader: Reader, today: date) -> tuple[int, float]:
        """How long the scan of an idle poll takes (changes since today): rows, seconds."""
        started = time.perf_counter()
        with self._lock:
            entries = self._scan(reader, f"{today:%Y%m%d}").entries
        return len(entries), time.perf_counter() - started


class AgentService:
    """Every configured company; what the HTTP layer calls."""

    def __init__(
        self,
        companies: Mapping[str, CompanyReader],
        *,
        agent_version: str,
        sage_version: str,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.companies = dict(companies)
        self.agent_version = agent_version
        self.sage_version = sage_version
        self._now = now

    def health(self) -> dict[str, object]:
        """The OS local clock: the Sage server's wall time, in Sage's formats."""
        local = self._now()
        return {
            "status": "ok",
            "agent_version": self.agent_version,
            "sage_version": self.sage_version,
            "api_version": API_VERSION,
            "capabilities": list(CAPABILITIES),
            "companies": list(self.companies),
            "server_date": parsing.format_date(local.date()),
            "server_time": parsing.format_time(local.time().replace(microsecond=0)),
        }

    def close(self) -> None:
        for company in self.companies.values():
            company.close()
