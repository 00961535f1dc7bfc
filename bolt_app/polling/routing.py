"""Where a record goes: the record type's channel, then every matching rule's channel and mention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bolt_app.workspace.rules import RoutingRule
from sage.records import RecordType


@dataclass(frozen=True, slots=True)
class Destination:
    channel: str
    mentions: tuple[str, ...] = ()


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
