"""Routing beyond one channel per record type: optional rules from the workspace file.

A rule names a record type, optional conditions (warehouse, minimum amount) and what to do when
they hold: also post to `channel`, and/or mention a Slack user group. A rule without a channel
adds its mention to the record type's own channel. Mentions are built only from validated
user-group IDs, so no Sage text can ever become a ping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bolt_app.errors import ConfigError
from sage.records import GLRegister, PurchaseOrder, RecordType

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_USER_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
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


@dataclass(frozen=True, slots=True)
class Destination:
    channel: str
    mentions: tuple[str, ...] = ()


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


def destinations(
    record_type: RecordType,
    record: object,
    default_channel: str | None,
    rules: Sequence[RoutingRule],
) -> list[Destination]:
    """The record type's channel first, then each rule's, each channel once with its mentions."""
    mentions: dict[str, list[str]] = {}
    if default_channel:
        mentions[default_channel] = []
    for rule in rules:
        if not rule.matches(record_type, record):
            continue
        channel = rule.channel or default_channel
        if channel is None:
            continue
        wanted = mentions.setdefault(channel, [])
        if rule.mention and rule.mention not in wanted:
            wanted.append(rule.mention)
    return [Destination(channel, tuple(groups)) for channel, groups in mentions.items()]


def mention_text(group_id: str) -> str:
    """Slack's user-group mention; the ID was validated when the rule was parsed."""
    if not _USER_GROUP_ID.match(group_id):
        raise ValueError(f"not a user group ID: {group_id!r}")
    return f"<!subteam^{group_id}>"


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
    if channel is not None and not _CHANNEL_ID.match(channel):
        raise ConfigError(f"{where}.channel must be a Slack channel ID like C0123ABCD")
    mention = _optional_str(item, "mention", where)
    if mention is not None and not _USER_GROUP_ID.match(mention):
        raise ConfigError(f"{where}.mention must be a Slack user group ID like S0123ABCD")
    if channel is None and mention is None:
        raise ConfigError(f"{where} needs a channel, a mention, or both")
    warehouse = _optional_str(item, "warehouse", where)
    if warehouse is not None and record_type is not RecordType.PURCHASE_ORDER:
        raise ConfigError(f"{where}.warehouse applies to purchase_order rules only")
    min_amount = None
    if "min_amount" in item:
        if record_type is RecordType.GL_ACCOUNT:
            raise ConfigError(f"{where}.min_amount does not apply to gl_account rules")
        try:
            min_amount = Decimal(str(item["min_amount"]))
        except InvalidOperation:
            raise ConfigError(f"{where}.min_amount must be a number") from None
        if isinstance(item["min_amount"], bool) or not min_amount.is_finite():
            raise ConfigError(f"{where}.min_amount must be a number")
    return RoutingRule(record_type, channel, warehouse, min_amount, mention)


def _optional_str(item: Mapping, name: str, where: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{name} must be a non-empty string")
    return value.strip()
