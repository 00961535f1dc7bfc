"""The simulator's rows are what the agent serves from Sage's tables: the same fields, within
Sage's widths, with RecordKeys made from the real primary keys. Fails when either side drifts."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from sage.agent.layout import Kind
from sage.agent.readers import READERS, Reader, split_key
from sage.simulator import SimulatorData

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> SimulatorData:
    return SimulatorData.seeded(NOW, rng=random.Random(5))


def served_fields(reader: Reader, index: int) -> set[str]:
    source = reader.sources[index]
    names = {"RecordKey", *source.constants, *source.columns, *(c.name for c in reader.audit)}
    for lookup in reader.lookups:
        names |= set(lookup.fields)
    if reader.children is not None:
        names.add(reader.children.field)
    return names


@pytest.mark.parametrize("resource", list(READERS))
def test_every_simulated_row_has_the_agents_fields_keys_and_widths(data, resource):
    reader = READERS[resource]
    rows = [row for company in data.companies for row in data.rows(company, resource)]
    assert rows
    for row in rows:
        found = split_key(reader, str(row["RecordKey"]))
        assert found is not None, f"{row['RecordKey']!r} is no {resource} primary key"
        source, key = found
        assert set(row) == served_fields(reader, reader.sources.index(source))
        for name, value in key.items():
            if name in row:
                assert str(row[name]).rstrip() == value, (name, row["RecordKey"])
        for column in source.table.columns:
            if column.name in row and column.kind is Kind.TEXT:
                assert len(str(row[column.name]).rstrip()) <= column.length, (column, row)
        if reader.children is not None:
            for line in row[reader.children.field]:
                assert set(line) == set(reader.children.columns)
                for name, value in line.items():
                    column = reader.children.table.column(name)
                    if column.kind is Kind.TEXT:
                        assert len(str(value).rstrip()) <= column.length, (column, line)


def test_names_looked_up_by_the_agent_are_the_master_tables(data):
    vendors = {
        (row["APDivisionNo"], row["VendorNo"]): row["VendorName"]
        for row in data.rows("ABC", "ap-invoices")
    }
    assert len(set(vendors.values())) == len(vendors)
    accounts = {row["AccountKey"]: row["AccountDesc"] for row in data.rows("ABC", "gl-accounts")}
    for posting in data.rows("ABC", "gl-postings"):
        assert posting["AccountDesc"] == str(accounts[posting["AccountKey"]]).rstrip()
        assert len(posting["SequenceNo"]) == 14 and len(posting["SourceModule"]) == 2
