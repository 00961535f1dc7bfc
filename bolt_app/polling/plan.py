"""The poll plan: what a batch of a poll's records means, decided without any I/O.

A poll streams the agent's listing a batch at a time. For each batch, `plan_batch` takes the
records (ascending change stamps, as the agent lists them), what each channel was last told of
their keys (seen rows), the rules, the window and the state carried from earlier batches, and
returns a `PollPlan`, the messages to queue, the seen versions to store, the bursts' running
summaries, the cursor the batch allows and its counts, with the state for the next batch.
`plan_finish` turns what is still carried into the poll's last plan. The service only executes
plans (enqueue, resolve parents, upsert seen, write the cursor, audit), each in its own short
transaction.

Parents are never a field patched after an insert: a message refers to an earlier delivery by
the id in its seen row, or to a POST of the same plan by (record key, channel) (`Posted`).

Bursts (`bursts.py`): up to `burst_threshold` new (or changed) records of one channel are held
as singles in the state; their seen rows are not stored, and the cursor stays at the oldest
held one, until the poll's end posts them one by one. The next one makes the channel a burst:
the held singles and every later record of that kind are digest members, stored with their
batch, and the digest's summary (count, total, first rows, mentions) is stored with them. The
poll's last plan turns each summary into one POST; a crash leaves the summaries stored for the
next poll to announce first (`plan_leftovers`), and the cursor never passes a held single, so
what a crash loses is re-read and posted once. A change burst also updates the newest
`burst_updates` earlier messages in place: those are kept in the state only, so a crash loses
these cosmetic updates, never the digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from bolt_app.blocks.messages import (
    DigestSummary,
    SlackMessage,
    build_change_digest_message,
    build_change_reply,
    build_connected_message,
    build_digest_message,
    describe_change,
    summarize,
)
from bolt_app.delivery.outbox import DeliveryKind
from bolt_app.polling import messages
from bolt_app.polling.registers import (
    REGISTER_QUIET,
    merge_register,
    register_key,
    split_registers,
)
from bolt_app.polling.routing import destinations
from bolt_app.polling.snapshots import record_snapshot, snapshot_record
from bolt_app.polling.store import PollKey, SeenRecord
from bolt_app.polling.tracking import ChangeKind, classify, version_of
from bolt_app.polling.window import PollWindow, advance_cursor, is_due
from bolt_app.records.description import RecordDescription
from bolt_app.workspace.rules import RoutingRule
from sage.records import APInvoice, GLAccount, GLPosting, GLRegister, PurchaseOrder, SageRecord

Shown = APInvoice | PurchaseOrder | GLRegister | GLAccount
Bucket = tuple[str, ChangeKind]  # (channel, NEW or CHANGED): what a burst is counted over


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What stays the same for every batch of one poll."""

    key: PollKey
    description: RecordDescription
    window: PollWindow
    zone: ZoneInfo
    default_channel: str | None
    rules: tuple[RoutingRule, ...] = ()
    record_url: str | None = None
    burst_threshold: int = 20
    burst_updates: int = 50
    first: bool = False  # first connection: each channel gets a "connected" note


@dataclass(frozen=True, slots=True)
class Posted:
    """A POST planned in the same plan, by the record and channel it announces."""

    record_key: str
    channel: str


Parent = int | Posted | None  # an existing delivery id, a POST of this plan, or none


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    channel: str
    kind: DeliveryKind
    message: SlackMessage
    record_key: str
    parent: int | None = None  # the delivery it updates or replies to
    announces: bool = False  # the record's own POST in this channel: its id goes in the seen row


@dataclass(frozen=True, slots=True)
class PlannedSeen:
    """What one channel is now told about one record; `delivery` is the message to update next."""

    record_key: str
    channel: str
    version: str
    snapshot: object
    delivery: Parent


@dataclass(frozen=True, slots=True)
class BurstSummary:
    """A channel's burst so far: the digest's summary, the rules' mentions of its members, and
    (changes) how many members have an earlier message that could be updated."""

    channel: str
    kind: ChangeKind
    digest: DigestSummary
    mentions: tuple[str, ...] = ()
    with_parent: int = 0

    def as_json(self) -> dict[str, Any]:
        digest = self.digest
        return {
            "company": digest.company,
            "count": digest.count,
            "total": None if digest.total is None else str(digest.total),
            "rows": list(digest.rows),
            "changes": list(digest.changes),
            "same_change": digest.same_change,
            "mentions": list(self.mentions),
            "with_parent": self.with_parent,
        }

    @classmethod
    def from_json(cls, channel: str, kind: ChangeKind, data: Mapping[str, Any]) -> BurstSummary:
        total = data["total"]
        digest = DigestSummary(
            company=data["company"],
            count=data["count"],
            total=None if total is None else Decimal(total),
            rows=tuple(data["rows"]),
            changes=tuple(data["changes"]),
            same_change=data["same_change"],
        )
        return cls(channel, kind, digest, tuple(data["mentions"]), data["with_parent"])


@dataclass(frozen=True, slots=True)
class Counts:
    read: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    waiting: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.read + other.read,
            self.new + other.new,
            self.changed + other.changed,
            self.unchanged + other.unchanged,
            self.waiting + other.waiting,
        )


@dataclass(frozen=True, slots=True)
class PollPlan:
    messages: tuple[PlannedMessage, ...] = ()
    seen: tuple[PlannedSeen, ...] = ()
    bursts: tuple[BurstSummary, ...] = ()  # running summaries to store
    bursts_done: tuple[Bucket, ...] = ()  # summaries announced: delete them
    cursor: datetime | None = None  # None: the cursor stays where it is
    counts: Counts = Counts()


@dataclass(frozen=True, slots=True)
class Verdict:
    """How an item compares with what one channel was last told, and what to show now."""

    kind: ChangeKind
    version: str
    snapshot: object
    record: Shown
    previous: Shown | None  # the record as last shown, for "old -> new"


@dataclass(frozen=True, slots=True)
class _Item:
    """One thing a channel hears about: an invoice, an order, a register, an account."""

    key: str
    record: Shown  # what routing rules look at
    stamps: tuple[datetime, ...]
    judge: Callable[[SeenRecord | None], Verdict]


@dataclass(frozen=True, slots=True)
class Held:
    """A single not posted yet: it waits for the poll's end, or to join its channel's digest."""

    key: str
    channel: str
    verdict: Verdict
    parent: int | None  # the delivery its channel was last told of it in
    mentions: tuple[str, ...]
    stamp: datetime | None  # the oldest stamp it was read with: the cursor stays at or before it


@dataclass(frozen=True, slots=True)
class _Newest:
    """A change-burst member whose earlier message is among the newest: updated at the end."""

    parent: int
    key: str
    record: Shown
    mentions: tuple[str, ...]


_NOTHING: Mapping = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PlanState:
    """What a poll carries from batch to batch (all bounded: at most `burst_threshold` held
    singles and `burst_updates` newest parents per channel)."""

    cursor: datetime | None  # the cursor as committed
    handled: datetime | None = None  # the newest stamp passed
    waiting_from: datetime | None = None  # the oldest stamp left for the next poll
    held: Mapping[Bucket, Mapping[str, Held]] = field(default_factory=lambda: _NOTHING)
    bursts: Mapping[Bucket, BurstSummary] = field(default_factory=lambda: _NOTHING)
    newest: Mapping[str, tuple[_Newest, ...]] = field(default_factory=lambda: _NOTHING)
    batches: int = 0


def tracked_keys(context: PlanContext, records: Iterable[SageRecord]) -> list[str]:
    """The keys whose seen rows a batch of records needs."""
    description = context.description
    if description.register_lines:
        return sorted({register_key(r.register_key) for r in records if isinstance(r, GLPosting)})
    assert description.tracked_key is not None
    keys = set()
    for record in records:
        _require_record(description, record)
        keys.add(description.tracked_key(record))
    return sorted(keys)


def _require_record(description: RecordDescription, record: SageRecord) -> None:
    if not isinstance(record, description.record_class):
        raise TypeError(f"{type(record).__name__} is not a {description.record_type} record")


def plan_batch(
    context: PlanContext,
    state: PlanState,
    records: Sequence[SageRecord],
    seen: Mapping[tuple[str, str], SeenRecord],
    page_stamps: Iterable[datetime | None] = (),
) -> tuple[PollPlan, PlanState]:
    """One batch: compare, hold or fold into bursts, and the cursor the batch allows."""
    items, waiting_from, later = _items(context, records)
    out = _Planner(context, state)
    if context.first and not context.window.baseline and state.batches == 0:
        out.connected()
    kinds: dict[str, ChangeKind] = {}
    for item in items:
        for destination in destinations(
            context.key.record_type, item.record, context.default_channel, context.rules
        ):
            previous = seen.get((item.key, destination.channel))
            verdict = item.judge(previous)
            current = kinds.get(item.key, ChangeKind.UNCHANGED)
            if current is ChangeKind.UNCHANGED or verdict.kind is ChangeKind.NEW:
                kinds[item.key] = verdict.kind
            if verdict.kind is ChangeKind.UNCHANGED:
                continue
            parent = previous.delivery_id if previous else None
            if context.window.baseline:  # remembered, not news
                out.remember(item.key, destination.channel, verdict, None)
                continue
            stamp = min(item.stamps, default=None)
            out.route(
                Held(item.key, destination.channel, verdict, parent, destination.mentions, stamp)
            )
    stamps = [s for item in items for s in item.stamps]
    stamps += [s for s in page_stamps if s is not None]
    handled = max([*stamps, *([state.handled] if state.handled else [])], default=None)
    waiting = min([s for s in (state.waiting_from, waiting_from) if s is not None], default=None)
    counted = [] if context.window.baseline else list(kinds.values())
    new, changed = counted.count(ChangeKind.NEW), counted.count(ChangeKind.CHANGED)
    counts = Counts(len(records), new, changed, len(items) - new - changed, later)
    held = out.held_state()
    touched = out.touched_bursts()
    cursor = None
    if not context.window.baseline and handled is not None:
        holds = [s for s in (waiting, *(h.stamp for h in _all_held(held))) if s is not None]
        cursor = advance_cursor(
            state.cursor, context.window, [handled], hold_from=min(holds, default=None)
        )
    next_state = PlanState(
        cursor=cursor if cursor is not None else state.cursor,
        handled=handled,
        waiting_from=waiting,
        held=held,
        bursts=out.bursts,
        newest=out.newest,
        batches=state.batches + 1,
    )
    return out.plan(cursor=cursor, counts=counts, bursts=touched), next_state


def plan_finish(context: PlanContext, state: PlanState) -> PollPlan:
    """The poll's last plan: the held singles posted, each burst's digest (and a change burst's
    newest parents updated), its summary deleted, and the cursor past everything handled."""
    out = _Planner(context, state)
    if context.first and (context.window.baseline or state.batches == 0):
        out.connected()
    held = list(_all_held(state.held))
    for single in held:
        if single.verdict.kind is ChangeKind.CHANGED:
            out.single_change(single)
    for bucket, burst in state.bursts.items():
        if bucket[1] is ChangeKind.CHANGED:
            out.change_digest(burst, state.newest.get(bucket[0], ()))
    for bucket, burst in state.bursts.items():
        if bucket[1] is ChangeKind.NEW:
            out.digest(burst)
    for single in held:
        if single.verdict.kind is ChangeKind.NEW:
            out.single_post(single)
    cursor = advance_cursor(
        state.cursor, context.window, [state.handled], hold_from=state.waiting_from
    )
    return out.plan(cursor=cursor, bursts_done=tuple(state.bursts))


def plan_leftovers(context: PlanContext, leftovers: Sequence[BurstSummary]) -> PollPlan:
    """Digests a crashed poll stored but never queued: what was committed is announced (their
    newest parents' updates were lost with the crash: the digest says they were not updated)."""
    out = _Planner(context, PlanState(cursor=None))
    for burst in leftovers:
        if burst.kind is ChangeKind.CHANGED:
            out.change_digest(burst, ())
        else:
            out.digest(burst)
    return out.plan(bursts_done=tuple((burst.channel, burst.kind) for burst in leftovers))


def _all_held(held: Mapping[Bucket, Mapping[str, Held]]) -> Iterable[Held]:
    for singles in held.values():
        yield from singles.values()


# --- records -> items ---------------------------------------------------------------------


def _items(
    context: PlanContext, records: Sequence[SageRecord]
) -> tuple[list[_Item], datetime | None, int]:
    """Tracked items due now, the oldest stamp left waiting, and how many records wait."""
    window = context.window
    if context.description.register_lines:
        lines = [r for r in records if isinstance(r, GLPosting)]
        split = split_registers(lines, window)
        items = [_register_item(context, key, group) for key, group in split.settled]
        return items, split.hold_from, split.held_count
    due: list[SageRecord] = []
    pending: list[SageRecord] = []
    for record in records:
        if is_due(record.stamps.changed_at, window):
            (pending if _lines_pending(context, record) else due).append(record)
    waiting_from = min((s for r in pending if (s := r.stamps.changed_at)), default=None)
    latest: dict[str, _Item] = {}
    for record in due:  # ascending stamps: a later row of a key wins
        item = _record_item(context, record)
        latest.pop(item.key, None)
        latest[item.key] = item
    return list(latest.values()), waiting_from, len(records) - len(due)


def _lines_pending(context: PlanContext, record: SageRecord) -> bool:
    """A new record read without its lines (an order with a total but no lines: the agent
    can serve a header before its lines, which arrive without a new stamp). It waits
    (holding the cursor) until it is `REGISTER_QUIET` old, so the first message shows them."""
    awaiting_lines = context.description.awaiting_lines
    if context.window.baseline or awaiting_lines is None:
        return False
    stamp = record.stamps.changed_at
    young = stamp is not None and stamp > context.window.signpost - REGISTER_QUIET
    return young and awaiting_lines(record)


def _record_item(context: PlanContext, record: SageRecord) -> _Item:
    description = context.description
    _require_record(description, record)
    assert description.tracked_key is not None and description.tracked_fields is not None
    version = version_of(description.tracked_fields(record))
    snapshot = record_snapshot(record)
    zone = context.zone
    shown: Shown = record  # type: ignore[assignment]  # the description's record class

    def judge(previous: SeenRecord | None) -> Verdict:
        kind = classify(version, previous.version if previous else None)
        old = None
        if kind is ChangeKind.CHANGED and previous is not None:
            old = snapshot_record(type(record), previous.snapshot, zone, like=record)
        return Verdict(kind, version, snapshot, shown, old)

    stamp = record.stamps.changed_at
    return _Item(description.tracked_key(record), shown, (stamp,) if stamp else (), judge)


def _register_item(
    context: PlanContext, register: tuple[str, str], lines: Sequence[GLPosting]
) -> _Item:
    company, zone = context.key.company, context.zone

    def judge(previous: SeenRecord | None) -> Verdict:
        merged = merge_register(
            company, register, previous.snapshot if previous else None, lines, zone
        )
        if previous is None:
            kind = ChangeKind.NEW
        else:
            kind = ChangeKind.CHANGED if merged.added else ChangeKind.UNCHANGED
        return Verdict(kind, merged.version, merged.snapshot, merged.register, merged.previous)

    alone = merge_register(company, register, None, lines, zone).register
    stamps = tuple(s for line in lines if (s := line.stamps.changed_at) is not None)
    return _Item(register_key(register), alone, stamps, judge)


# --- the plan being built -------------------------------------------------------------------


class _Planner:
    """Collects one plan's messages and seen rows, and the state's held singles and bursts."""

    def __init__(self, context: PlanContext, state: PlanState) -> None:
        self.context = context
        self.messages: list[PlannedMessage] = []
        self.seen: list[PlannedSeen] = []
        self.held: dict[Bucket, dict[str, Held]] = {b: dict(h) for b, h in state.held.items()}
        self.bursts: dict[Bucket, BurstSummary] = dict(state.bursts)
        self.newest: dict[str, tuple[_Newest, ...]] = dict(state.newest)
        self.members: dict[Bucket, list[Held]] = {}  # this batch's new digest members

    # routing: hold, or fold into the channel's burst

    def route(self, single: Held) -> None:
        bucket = (single.channel, single.verdict.kind)
        if bucket in self.bursts or bucket in self.members:
            self.members.setdefault(bucket, []).append(single)
            return
        held = self.held.setdefault(bucket, {})
        held.pop(single.key, None)  # re-read in the same poll: the later version waits instead
        held[single.key] = single
        if len(held) > self.context.burst_threshold:
            self.members[bucket] = list(held.values())
            del self.held[bucket]

    def held_state(self) -> Mapping[Bucket, Mapping[str, Held]]:
        return {bucket: dict(singles) for bucket, singles in self.held.items() if singles}

    def touched_bursts(self) -> tuple[BurstSummary, ...]:
        """Folds this batch's members into their bursts: seen rows stored with the batch, the
        summaries updated, the newest earlier messages of a change burst kept."""
        record_type = self.context.key.record_type
        budget = 0 if self.context.description.changes_post_fresh else self.context.burst_updates
        touched = []
        for bucket, members in self.members.items():
            channel, kind = bucket
            changes = None
            if kind is ChangeKind.CHANGED:
                changes = [
                    describe_change(m.verdict.previous or m.verdict.record, m.verdict.record)
                    for m in members
                ]
            burst = self.bursts.get(bucket)
            digest = summarize(
                record_type,
                [m.verdict.record for m in members],
                changes,
                burst.digest if burst else None,
            )
            mentions = tuple(
                dict.fromkeys(
                    [*(burst.mentions if burst else ()), *(g for m in members for g in m.mentions)]
                )
            )
            with_parent = (burst.with_parent if burst else 0) + sum(
                1 for m in members if kind is ChangeKind.CHANGED and m.parent is not None
            )
            self.bursts[bucket] = BurstSummary(channel, kind, digest, mentions, with_parent)
            touched.append(self.bursts[bucket])
            for m in members:  # a digest member keeps the message it had, to update later
                delivery = m.parent if kind is ChangeKind.CHANGED else None
                self.remember(m.key, channel, m.verdict, delivery)
            if kind is ChangeKind.CHANGED and budget:
                candidates = [
                    *self.newest.get(channel, ()),
                    *(
                        _Newest(m.parent, m.key, m.verdict.record, m.mentions)
                        for m in members
                        if m.parent is not None
                    ),
                ]
                candidates.sort(key=lambda newest: newest.parent)
                self.newest[channel] = tuple(candidates[-budget:])
        return tuple(touched)

    # what gets queued

    def remember(self, key: str, channel: str, verdict: Verdict, delivery: Parent) -> None:
        self.seen.append(PlannedSeen(key, channel, verdict.version, verdict.snapshot, delivery))

    def _queue(
        self,
        channel: str,
        kind: DeliveryKind,
        message: SlackMessage,
        record_key: str,
        parent: int | None = None,
        *,
        announces: bool = False,
    ) -> None:
        self.messages.append(PlannedMessage(channel, kind, message, record_key, parent, announces))

    def _message(self, record: Shown, mentions: Sequence[str], previous: Shown | None = None):
        return messages.record_message(
            record, previous=previous, record_url=self.context.record_url, mentions=mentions
        )

    def connected(self) -> None:
        """One short note per channel of this record type, so a quiet channel is not a mystery."""
        context = self.context
        channels = [context.default_channel] if context.default_channel else []
        for rule in context.rules:
            if rule.record_type is context.key.record_type and rule.channel not in (
                None,
                *channels,
            ):
                channels.append(rule.channel)
        message = build_connected_message(context.key.company, context.key.record_type)
        for channel in channels:
            self._queue(channel, DeliveryKind.POST, message, "connected")

    def single_post(self, single: Held) -> None:
        message = self._message(single.verdict.record, single.mentions)
        self._queue(single.channel, DeliveryKind.POST, message, single.key, announces=True)
        self.remember(
            single.key, single.channel, single.verdict, Posted(single.key, single.channel)
        )

    def single_change(self, single: Held) -> None:
        """An update in place plus a one-line reply; a fresh post when there is nothing to
        update (baseline, digest) and for types whose changes are events of their own."""
        verdict, channel, parent = single.verdict, single.channel, single.parent
        if parent is None or self.context.description.changes_post_fresh:
            message = self._message(verdict.record, single.mentions, verdict.previous)
            self._queue(channel, DeliveryKind.POST, message, single.key, announces=True)
            self.remember(single.key, channel, verdict, Posted(single.key, channel))
            return
        message = self._message(verdict.record, single.mentions)
        self._queue(channel, DeliveryKind.UPDATE, message, single.key, parent)
        reply = build_change_reply(verdict.previous, verdict.record)
        self._queue(channel, DeliveryKind.REPLY, reply, single.key, parent)
        self.remember(single.key, channel, verdict, parent)

    def digest(self, burst: BurstSummary) -> None:
        message = build_digest_message(self.context.key.record_type, burst.digest)
        self._digest(burst, message)

    def change_digest(self, burst: BurstSummary, newest: Sequence[_Newest]) -> None:
        """One digest of the changes, and the newest earlier messages updated in place (no
        reply each); the others keep their delivery id, so a later change still updates them."""
        message = build_change_digest_message(
            self.context.key.record_type,
            burst.digest,
            left_as_posted=burst.with_parent - len(newest),
        )
        self._digest(burst, message)
        for member in newest:
            update = self._message(member.record, member.mentions)
            self._queue(burst.channel, DeliveryKind.UPDATE, update, member.key, member.parent)

    def _digest(self, burst: BurstSummary, digest: SlackMessage) -> None:
        # A rule's user group is still pinged when its record is folded into a digest.
        message = messages.with_mentions(digest, burst.mentions)
        self._queue(burst.channel, DeliveryKind.POST, message, f"digest:{burst.digest.count}")

    def plan(
        self,
        *,
        cursor: datetime | None = None,
        counts: Counts = Counts(),
        bursts: tuple[BurstSummary, ...] = (),
        bursts_done: tuple[Bucket, ...] = (),
    ) -> PollPlan:
        return PollPlan(tuple(self.messages), tuple(self.seen), bursts, bursts_done, cursor, counts)
