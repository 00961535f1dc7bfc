"""A checker for the SQL the ProvideX ODBC driver (4.10) accepts, as far as the agent needs it.

    statement   SELECT columns FROM tables [WHERE condition] [ORDER BY key column, ...]
    columns     * | COUNT(*) | column, ...
    tables      table, ... | {oj table LEFT OUTER JOIN table ON condition}
    condition   disjunctions of conjunctions of [NOT] predicates, parenthesised as needed
    predicate   column (= <> < <= > >=) operand | column IS [NOT] NULL | column LIKE 'text'
    operand     ? | 'text' | number | {d 'yyyy-mm-dd'} | column

Anything else is refused with the reason: a bare JOIN, LIMIT/OFFSET, UNION, CASE, COALESCE,
CAST, a CTE, a derived table, a row value, a function call, ORDER BY on an expression or a
non-key column, a comparison of TimeCreated/TimeUpdated text, any statement but SELECT.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|<>|[=<>?,().*{}]))"
)
COMPARISONS = {"=", "<>", "<", "<=", ">", ">="}
TIME_STRINGS = {"TIMECREATED", "TIMEUPDATED"}
RESERVED = {
    "SELECT", "FROM", "WHERE", "ORDER", "BY", "AND", "OR", "NOT", "IS", "NULL", "LIKE", "JOIN",
    "LEFT", "OUTER", "INNER", "ON", "UNION", "LIMIT", "OFFSET", "CASE", "COALESCE", "CAST",
    "WITH", "AS", "TOP", "GROUP", "HAVING", "COUNT",
}  # fmt: skip


class GrammarError(ValueError):
    """The statement is outside the ProvideX grammar; the message says where."""


def tokens(sql: str) -> list[str]:
    out, position = [], 0
    while position < len(sql.rstrip()):
        match = _TOKEN.match(sql, position)
        if not match or match.end() == position:
            raise GrammarError(f"unexpected text at {sql[position : position + 12]!r}")
        out.append(match.group(match.lastgroup or ""))
        position = match.end()
    return out


class _Parser:
    def __init__(self, sql: str, keys: Mapping[str, Sequence[str]]) -> None:
        self.items = tokens(sql)
        self.at = 0
        self.keys = keys
        self.tables: list[str] = []

    def peek(self) -> str:
        return self.items[self.at].upper() if self.at < len(self.items) else ""

    def take(self, expected: str | None = None) -> str:
        if self.at >= len(self.items):
            raise GrammarError(f"statement ends where {expected or 'more'} was expected")
        token = self.items[self.at]
        if expected is not None and token.upper() != expected:
            raise GrammarError(f"{expected} expected, found {token!r}")
        self.at += 1
        return token

    def name(self) -> str:
        token = self.take()
        if token.upper() in RESERVED:
            raise GrammarError(f"{token.upper()} is outside the grammar here")
        if not re.fullmatch(r"[A-Za-z_]\w*", token):
            raise GrammarError(f"a name was expected, found {token!r}")
        return token

    def column(self) -> str:
        name = self.name()
        if self.peek() == "(":
            raise GrammarError(f"function call {name}(...) is outside the grammar")
        if self.peek() == ".":
            self.take(".")
            name = self.name()
        return name

    def statement(self) -> None:
        if self.peek() != "SELECT":
            raise GrammarError(f"only SELECT is allowed, not {self.peek() or 'nothing'}")
        self.take("SELECT")
        self.select_list()
        self.take("FROM")
        self.table_refs()
        if self.peek() == "WHERE":
            self.take("WHERE")
            self.condition()
        if self.peek() == "ORDER":
            self.take("ORDER")
            self.take("BY")
            self.order_by()
        if self.at != len(self.items):
            raise GrammarError(f"{self.items[self.at]!r} is outside the grammar")

    def select_list(self) -> None:
        if self.peek() == "*":
            self.take("*")
            return
        if self.peek() == "COUNT":
            self.take("COUNT")
            self.take("(")
            self.take("*")
            self.take(")")
            return
        self.column()
        while self.peek() == ",":
            self.take(",")
            self.column()

    def table(self) -> None:
        if self.peek() == "(":
            raise GrammarError("a derived table (subquery in FROM) is outside the grammar")
        self.tables.append(self.name())

    def table_refs(self) -> None:
        if self.peek() == "{":
            self.take("{")
            self.take("OJ")
            self.table()
            self.take("LEFT")
            self.take("OUTER")
            self.take("JOIN")
            self.table()
            self.take("ON")
            self.condition()
            self.take("}")
            return
        self.table()
        while self.peek() == ",":
            self.take(",")
            self.table()
        if self.peek() in {"JOIN", "INNER", "LEFT"}:
            raise GrammarError("a bare JOIN is outside the grammar: use a comma join or {oj ...}")

    def condition(self) -> None:
        self.conjunction()
        while self.peek() == "OR":
            self.take("OR")
            self.conjunction()

    def conjunction(self) -> None:
        self.factor()
        while self.peek() == "AND":
            self.take("AND")
            self.factor()

    def factor(self) -> None:
        if self.peek() == "NOT":
            self.take("NOT")
        if self.peek() == "(":
            self.take("(")
            if self.peek() == "SELECT":
                raise GrammarError("a subquery is outside the grammar")
            if self.at + 1 < len(self.items) and self.items[self.at + 1] == ",":
                raise GrammarError("a row-value comparison is outside the grammar")
            self.condition()
            self.take(")")
            return
        self.predicate()

    def predicate(self) -> None:
        left = self.column()
        if left.upper() in TIME_STRINGS:
            raise GrammarError(f"{left} is decimal-hour text: never compare it in SQL")
        operator = self.take().upper()
        if operator == "IS":
            if self.peek() == "NOT":
                self.take("NOT")
            self.take("NULL")
            return
        if operator == "LIKE":
            if not self.take().startswith("'"):
                raise GrammarError("LIKE needs a quoted pattern")
            return
        if operator not in COMPARISONS:
            raise GrammarError(f"{operator!r} is not a comparison the grammar allows")
        self.operand()

    def operand(self) -> None:
        token = self.peek()
        if token == "?" or token.startswith("'") or re.fullmatch(r"\d+(\.\d+)?", token):
            self.take()
            return
        if token == "{":
            self.take("{")
            self.take("D")
            if not re.fullmatch(r"'\d{4}-\d{2}-\d{2}'", self.take()):
                raise GrammarError("a {d ...} literal needs 'yyyy-mm-dd'")
            self.take("}")
            return
        if token == "(":
            raise GrammarError(
                "a parenthesised operand (row value or subquery) is outside the grammar"
            )
        right = self.column()
        if right.upper() in TIME_STRINGS:
            raise GrammarError(f"{right} is decimal-hour text: never compare it in SQL")

    def order_by(self) -> None:
        while True:
            column = self.column()
            if self.peek() in COMPARISONS or self.peek() in {"+", "-", "("}:
                raise GrammarError("ORDER BY on an expression is outside the grammar")
            keys = {name for table in self.tables for name in self.keys.get(table, ())}
            if column not in keys:
                raise GrammarError(
                    f"ORDER BY {column}: not a key column of {', '.join(self.tables)}"
                )
            if self.peek() in {"ASC", "DESC"}:
                self.take()
            if self.peek() != ",":
                return
            self.take(",")


def check(sql: str, keys: Mapping[str, Sequence[str]]) -> None:
    """Raise GrammarError unless `sql` is inside the grammar; `keys`: each table's key columns."""
    _Parser(sql, keys).statement()
