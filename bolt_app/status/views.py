"""Block Kit for /sage-status (the App Home in `bolt_app.home.views` reuses some of it).

Pure functions of a workspace status (`bolt_app.status.model.WorkspaceStatus`, the object behind
`status --json`), so they are tested without Slack and stay within Slack's block limits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bolt_app.blockkit.kit import text_length
from bolt_app.blockkit.limits import MAX_MESSAGE_BLOCKS, MAX_MESSAGE_BLOCKS_TEXT
from bolt_app.blockkit.text import escape, truncate
from bolt_app.polling.store import SkippedRow
from bolt_app.records.registry import describe
from bolt_app.status.model import ResourceStatus, WorkspaceStatus
from sage.records import RecordType

_RESERVED_BLOCKS = 4  # header, queue, overflow note, divider
_MAX_ERROR_CHARS = 300
_MAX_SKIPPED_SHOWN = 3
_RESERVED_TEXT = 500  # the overflow note and the queue line


def _when(moment: datetime | None, *, never: str = "never") -> str:
    """Slack shows the reader's own time zone; the fallback is ISO 8601 with offset."""
    if moment is None:
        return never
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment.isoformat()}>"


def status_summary(status: WorkspaceStatus) -> str:
    """One line for notifications and screen readers (the `text` beside the blocks)."""
    state = "paused" if status.paused else "polling"
    return (
        f"Sage 100 connector for {status.team_id}: {state}, {len(status.resources)} resources, "
        f"{status.queue.pending} messages pending, {status.queue.dead} failed."
    )


def build_status_blocks(status: WorkspaceStatus) -> list[dict[str, Any]]:
    """Per company and record type: channel, last and next poll, records seen, last error."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "Sage 100 connector status"},
        }
    ]
    if status.paused:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":double_vertical_bar: *Polling is paused* for this workspace"
                    + (
                        f" ({truncate(escape(status.paused_reason), _MAX_ERROR_CHARS)})."
                        if getattr(status, "paused_reason", None)
                        else "."
                    ),
                },
            }
        )
    room = MAX_MESSAGE_BLOCKS - len(blocks) - _RESERVED_BLOCKS
    resources = sorted(
        status.resources, key=lambda r: (r.company, list(RecordType).index(r.record_type))
    )
    budget = MAX_MESSAGE_BLOCKS_TEXT - _RESERVED_TEXT - text_length(blocks)
    shown = 0
    for resource in resources[:room]:
        error = resource.last_error
        fields = [
            f"*Channel*\n<#{resource.channel}>" if resource.channel else "*Channel*\nnot routed",
            f"*Schedule*\n{escape(_schedule(resource))}",
            f"*Last poll*\n{_when(resource.last_poll_at)}",
            f"*Next poll*\n{_when(resource.next_poll_at, never='not scheduled')}",
            "*Records seen last poll*\n"
            + (
                "–"
                if resource.records_seen_last_poll is None
                else str(resource.records_seen_last_poll)
            ),
            "*Last error*\n"
            + (
                f":warning: {truncate(escape(error), _MAX_ERROR_CHARS)}"
                if error
                else ":white_check_mark: none"
            ),
            *(
                [f"*Last reconcile*\n{resource.reconcile.describe(_when, _quoted)}"]
                if resource.reconcile is not None
                else []
            ),
            *(
                [f"*Rows that did not read*\n{_skipped(resource.skipped_rows)}"]
                if resource.skipped_rows
                else []
            ),
        ]
        block = {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{escape(resource.company)} · {describe(resource.record_type).label}*",
            },
            "fields": [{"type": "mrkdwn", "text": field} for field in fields],
        }
        budget -= text_length(block)
        if budget < 0:  # the rest would take the message past Slack's total text
            break
        blocks.append(block)
        shown += 1
    if not resources:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Nothing is polled yet: no company and record type is configured.",
                },
            }
        )
    if len(resources) > shown:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"…and {len(resources) - shown} more; "
                        "`ml-connector status` lists them all.",
                    }
                ],
            }
        )
    blocks.append({"type": "divider"})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Queue: *{status.queue.pending}* pending, "
                    f"*{status.queue.dead}* failed for good",
                }
            ],
        }
    )
    return blocks


def build_not_configured_blocks(team_id: str) -> list[dict[str, Any]]:
    """What to do next when the app is installed but no Sage agent is configured yet."""
    steps = (
        "1. Write a workspace file (see the README) with "
        f'`team_id = "{team_id}"`, your agent\'s URL, companies and channels.\n'
        "2. Run `ml-connector workspace apply workspace.toml`.\n"
        f"3. Run `ml-connector check --team {team_id}`: every line should pass.\n"
        "4. Invite the app to private channels you routed records to, then type `/sage-status`."
    )
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Connect your Sage 100 agent*\nThe app is installed; it has no "
                "Sage 100 agent to poll yet.",
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": steps}},
    ]


def _skipped(rows: tuple[SkippedRow, ...]) -> str:
    """The first rows that did not read (Sage text, so escaped), and how many more."""
    lines = [f":warning: {escape(truncate(str(row), 200))}" for row in rows[:_MAX_SKIPPED_SHOWN]]
    if len(rows) > _MAX_SKIPPED_SHOWN:
        lines.append(f"and {len(rows) - _MAX_SKIPPED_SHOWN} more")
    return "\n".join(lines)


def _quoted(sentence: str) -> str:
    return truncate(escape(sentence), _MAX_ERROR_CHARS)


def _schedule(resource: ResourceStatus) -> str:
    if not resource.schedule:
        return "not scheduled"
    return resource.schedule_words or resource.schedule
