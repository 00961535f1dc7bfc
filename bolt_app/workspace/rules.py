"""Routing rules: the workspace file's and the App Home's `[[rules]]`, parsed and matched.

A rule names a record type, optional conditions (warehouse, minimum amount) and what to do when
they hold: also post to `channel`, and/or mention a Slack user group. A rule without a channel
adds its mention to the record type's own channel. Mentions are built only from validated
user-group IDs, so no Sage text can ever become a ping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from bolt_app.errors import ConfigError
from bolt_app.workspace.values import CHANNEL_ID, USER_GROUP_ID, check_min_amount, check_warehouse
from sage.records import GLRegister, PurchaseOrder, RecordType

_T = TypeVar("_T")
_RULE_KEYS = {"record_type", "channel", "warehouse", "min_amount", "mention"}


@dataclass(frozen=True, slots=True)
class RoutingRule:
    record_type: RecordType
    channel: str | None = None
    warehouse: str | None = None
    min_amount: Decimal | None = None
    mention: str | None = None  # a user group ID, "S0123ABCD"

    def matches(self, record_type: RecordType, record: object) -> bool:
        if record_type is not self.record_type:
            return False
        if self.warehouse is not None and self.warehouse not in _warehouses(record):
            return False
        if self.min_amount is not None:
            amount = _amount(record)
            if amount is None or amount < self.min_amount:
                return False
        return True


def _warehouses(record: object) -> set[str]:
    """The order's own warehouse (its header), as Sage users speak of "an EST order"."""
    if isinstance(record, PurchaseOrder):
        return {record.warehouse_code.strip()}
    return set()


def _amount(record: object) -> Decimal | None:
    if isinstance(record, PurchaseOrder):
        return record.total
    if isinstance(record, GLRegister):
        return record.total_debit
    return getattr(record, "amount", None)


def parse_rules(raw: object, *, source: str = "workspace file") -> tuple[RoutingRule, ...]:
    """`[[rules]]` tables -> rules; a bad value is a ConfigError naming `rules[N].field`."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: rules must be a list of [[rules]] tables")
    return tuple(_parse_rule(item, f"{source}: rules[{n}]") for n, item in enumerate(raw, 1))


def _parse_rule(item: object, where: str) -> RoutingRule:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(item) - _RULE_KEYS)
    if unknown:
        raise ConfigError(f"{where} has unknown field {unknown[0]!r}")
    try:
        record_type = RecordType(item.get("record_type"))
    except ValueError:
        allowed = ", ".join(t.value for t in RecordType)
        raise ConfigError(f"{where}.record_type must be one of {allowed}") from None
    channel = _optional_str(item, "channel", where)
    if channel is not None and not CHANNEL_ID.match(channel):
        raise ConfigError(f"{where}.channel must be a Slack channel ID like C0123ABCD")
    mention = _optional_str(item, "mention", where)
    if mention is not None and not USER_GROUP_ID.match(mention):
        raise ConfigError(f"{where}.mention must be a Slack user group ID like S0123ABCD")
    if channel is None and mention is None:
        raise ConfigError(f"{where} needs a channel, a mention, or both")
    warehouse = _optional_str(item, "warehouse", where)
    if warehouse is not None:
        if record_type is not RecordType.PURCHASE_ORDER:
            raise ConfigError(f"{where}.warehouse applies to purchase_order rules only")
        warehouse = _checked(check_warehouse, warehouse, f"{where}.warehouse")
    min_amount = None
    if "min_amount" in item:
        if record_type is RecordType.GL_ACCOUNT:
            raise ConfigError(f"{where}.min_amount does not apply to gl_account rules")
        min_amount = _checked(check_min_amount, item["min_amount"], f"{where}.min_amount")
    return RoutingRule(record_type, channel, warehouse, min_amount, mention)


def _checked(checker: Callable[[Any], _T], value: object, where: str) -> _T:
    try:
        return checker(value)
    except ValueError as error:
        raise ConfigError(f"{where} {error}") from None


def _optional_str(item: Mapping, name: str, where: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{name} must be a non-empty string")
    return value.strip()
