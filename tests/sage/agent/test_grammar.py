"""Every statement the agent can send is inside the ProvideX ODBC 4.10 grammar."""

from __future__ import annotations

import pytest

from sage.agent.layout import TABLES
from sage.agent.readers import all_statements
from tests.sage.agent.providex_grammar import GrammarError, check

KEYS = {table.name: table.key for table in TABLES}


@pytest.mark.parametrize("sql", sorted(set(all_statements())))
def test_every_statement_the_readers_emit_is_inside_the_grammar(sql):
    check(sql, KEYS)


def test_the_readers_emit_scans_lookups_and_child_reads_for_each_table():
    statements = all_statements()
    for table in TABLES:
        assert any(f"FROM {table.name}" in sql for sql in statements), table.name
    assert any("WHERE DateUpdated >= ? OR DateCreated >= ?" in sql for sql in statements)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT InvoiceNo FROM AP_OpenInvoice LIMIT 10", "LIMIT"),
        ("SELECT a FROM AP_OpenInvoice JOIN AP_Vendor ON a = b", "bare JOIN"),
        ("SELECT a FROM AP_OpenInvoice UNION SELECT a FROM AP_InvoiceHeader", "UNION"),
        ("SELECT COALESCE(DateUpdated, DateCreated) FROM AP_OpenInvoice", "COALESCE is outside"),
        ("SELECT CASE WHEN a = 1 THEN 2 END FROM GL_Account", "CASE is outside"),
        ("SELECT CAST(a AS INT) FROM GL_Account", "CAST is outside"),
        ("WITH x AS (SELECT a FROM GL_Account) SELECT a FROM x", "only SELECT"),
        ("SELECT a FROM (SELECT a FROM GL_Account)", "derived table"),
        ("SELECT a FROM GL_Account WHERE (a, b) > (?, ?)", "row-value"),
        ("SELECT a FROM GL_Account ORDER BY AccountDesc", "not a key column"),
        ("SELECT a FROM AP_OpenInvoice WHERE TimeUpdated >= ?", "decimal-hour text"),
        (
            "SELECT a FROM GL_DetailPosting WHERE DateCreated = ? AND TimeCreated > '9.5'",
            "decimal-hour",
        ),
        ("DELETE FROM GL_Account", "only SELECT"),
        ("UPDATE GL_Account SET Status = 'I'", "only SELECT"),
    ],
)
def test_the_checker_refuses_statements_outside_the_grammar(sql, reason):
    with pytest.raises(GrammarError, match=reason):
        check(sql, KEYS)


def test_the_checker_accepts_what_the_grammar_allows():
    check("SELECT * FROM GL_Account WHERE AccountKey = ? ORDER BY AccountKey", KEYS)
    check("SELECT a FROM GL_DetailPosting WHERE PostingDate >= {d '2026-11-01'}", KEYS)
    check(
        "SELECT a FROM {oj AP_OpenInvoice LEFT OUTER JOIN AP_Vendor ON "
        "AP_OpenInvoice.VendorNo = AP_Vendor.VendorNo}",
        KEYS,
    )
    check("SELECT a, b FROM AP_OpenInvoice, AP_Vendor WHERE a = b AND NOT c IS NULL", KEYS)
