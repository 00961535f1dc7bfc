"""App Home, its modals and the "Details" button: the Bolt listeners.

Who may change what is decided here, on every action and every submission, from Slack's own
answer (`users.info`: workspace admins and owners, asked through `home.roles`) and the
workspace's stored admins; nothing in a view or its private metadata is trusted for it. A
refused change re-publishes the user's Home with one sentence saying who can make it.

Anything slow (the agent, a poll) runs after `ack()`: modals open at once with a "loading"
view and are filled through `views.update`, so Slack's 3-second trigger is never missed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.blockkit.kit import modal, section
from bolt_app.blocks.messages import DETAILS_ACTION_ID, OPEN_IN_SAGE_ACTION_ID, RecordRef
from bolt_app.crypto import SecretBox
from bolt_app.delivery.store import retry_dead_letters
from bolt_app.home import admin as home_admin
from bolt_app.home.admin import FormErrors, load_or_new_workspace
from bolt_app.home.details import fetch_details_live, register_written_at
from bolt_app.home.roles import SlackRoles
from bolt_app.home.state import load_home_state
from bolt_app.home.views import home as home_views
from bolt_app.home.views import reminders as reminder_form
from bolt_app.home.views import rules as rule_form
from bolt_app.home.views.connection import (
    CONNECTION_CALLBACK_ID,
    build_connection_modal,
    build_test_connection_loading,
    build_test_connection_result,
    read_connection_form,
)
from bolt_app.home.views.details import (
    build_details_loading_modal,
    build_details_modal,
    build_details_unreachable_modal,
)
from bolt_app.polling.outcome import PollOutcome
from bolt_app.polling.service import PollService
from bolt_app.records.registry import describe
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.workspaces import load_polling_settings, pause_state
from bolt_app.workspace.rules import RoutingRule
from sage.check import CheckResult, check_agent
from sage.connection import ConnectionSettings
from sage.errors import SageError
from sage.records import RecordType

log = logging.getLogger(__name__)

# (client for a token, token for a team, team_id=, channels=, paused=, paused_reason=) -> results
SlackCheck = Callable[..., Awaitable[Sequence[CheckResult]]]

_ROUTE_ACTION = re.compile(
    "^" + re.escape(home_views.ROUTE_ACTION_PREFIX) + "(" + "|".join(RecordType) + ")$"
)


ROLE_UNKNOWN = (
    ":hourglass: Slack did not say in time whether you are a workspace admin. "
    "Nothing was changed: try again in a moment."
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HomeServices:
    """What the listeners need beyond Slack; the agent calls are seams tests can replace."""

    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    poller: PollService  # "Poll now" polls in this process; the delivery worker posts
    check_slack: SlackCheck  # the Slack half of Test connection (`bolt_app.slack.check`)
    check_agent: Callable[[ConnectionSettings], Awaitable[Sequence[CheckResult]]] = check_agent
    # (settings, record, when a GL register's seen lines were written) -> the whole record
    fetch_record: Callable[[ConnectionSettings, RecordRef, datetime | None], Awaitable[object]] = (
        fetch_details_live
    )
    now: Callable[[], datetime] = field(default=_utcnow)
    agent_timeout: float = 30.0  # Details and Test connection give up on the agent after this


def register(app: AsyncApp, services: HomeServices) -> None:
    """Adds every App Home, connection, schedule and Details listener to `app`."""
    home = _HomeListeners(services)
    app.event("app_home_opened")(home.home_opened)
    app.action(_ROUTE_ACTION)(home.route_chosen)
    app.action(home_views.ACTION_EDIT_CONNECTION)(home.edit_connection)
    app.view(CONNECTION_CALLBACK_ID)(home.connection_submitted)
    app.action(home_views.ACTION_TEST_CONNECTION)(home.test_connection)
    app.action(home_views.ACTION_EDIT_SCHEDULES)(home.edit_schedules)
    app.view(home_views.SCHEDULES_CALLBACK_ID)(home.schedules_submitted)
    app.action(home_views.ACTION_MANAGE_RULES)(home.manage_rules)
    app.view(rule_form.RULES_CALLBACK_ID)(home.rule_submitted)
    app.action(rule_form.ACTION_REMOVE_RULE)(home.remove_rule)
    app.action(home_views.ACTION_PAUSE)(home.pause)
    app.action(home_views.ACTION_RESUME)(home.resume)
    app.action(home_views.ACTION_POLL_NOW)(home.poll_now)
    app.action(home_views.ACTION_RETRY_DEAD_LETTER)(home.retry_dead_letter)
    app.action(home_views.ACTION_RETRY_ALL_DEAD_LETTERS)(home.retry_all_dead_letters)
    app.action(DETAILS_ACTION_ID)(home.details)
    app.action(OPEN_IN_SAGE_ACTION_ID)(_ack_only)
    app.action(home_views.ACTION_MANAGE_REMINDERS)(home.manage_reminders)
    app.view(reminder_form.REMINDERS_CALLBACK_ID)(home.reminder_submitted)
    app.action(reminder_form.ACTION_REMOVE_REMINDER)(home.remove_reminder)


class _HomeListeners:
    def __init__(self, services: HomeServices) -> None:
        self.services = services
        self.roles = SlackRoles(now=services.now)

    # ---- shared ------------------------------------------------------------------------------

    async def is_admin(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool | None:
        """Stored admins, or Slack's own word that the user is an admin or owner right now;
        None when Slack would not say (rate limited past the click's budget, an error)."""
        async with self.services.sessions() as session:
            config = await load_or_new_workspace(session, team_id, self.services.box)
        if user_id in config.admins:
            return True
        return await self.roles.is_admin(client, team_id, user_id)

    async def publish(
        self,
        client: AsyncWebClient,
        team_id: str,
        user_id: str,
        notice: str | None = None,
        *,
        is_admin: bool | None = None,
    ) -> None:
        """Draw the user's Home; `is_admin` when already known, else Slack is asked."""
        if is_admin is None:
            is_admin = await self.is_admin(client, team_id, user_id)
        if is_admin is None and notice is None:
            notice = ROLE_UNKNOWN
        async with self.services.sessions() as session:
            state = await load_home_state(
                session,
                team_id,
                self.services.box,
                is_admin=bool(is_admin),
                now=self.services.now(),
                notice=notice,
            )
        try:
            await client.views_publish(user_id=user_id, view=home_views.build_home_view(state))
        except SlackApiError as error:
            log.error("views.publish failed for %s: %s", user_id, error.response.get("error"))

    async def refuse(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        await self.publish(client, team_id, user_id, notice=await self.refusal(team_id))

    async def refusal(self, team_id: str) -> str:
        async with self.services.sessions() as session:
            config = await load_or_new_workspace(session, team_id, self.services.box)
        others = "".join(f", <@{admin}>" for admin in config.admins)
        return (
            f":no_entry: Only workspace admins and owners{others} can change settings here. "
            "Nothing was changed."
        )

    async def _admin_click(self, ack, body: dict[str, Any], client) -> tuple[str, str] | None:
        """Ack a click; (team, user) when the user may change settings, else the Home says who
        can and None. Checked on every click: the view itself is never trusted."""
        await ack()
        team_id, user_id = _who(body)
        is_admin = await self.is_admin(client, team_id, user_id)
        if is_admin is None:
            await self.publish(client, team_id, user_id, notice=ROLE_UNKNOWN, is_admin=False)
            return None
        if not is_admin:
            await self.refuse(client, team_id, user_id)
            return None
        return team_id, user_id

    async def _admin_submission(self, ack, body: dict[str, Any], client) -> tuple[str, str] | None:
        """(team, user) when the submitter may change settings, else the modal is acked into the
        refusal and None. The caller acks a successful submission itself (errors or close)."""
        team_id, user_id = _who(body)
        is_admin = await self.is_admin(client, team_id, user_id)
        if not is_admin:
            refusal = ROLE_UNKNOWN if is_admin is None else await self.refusal(team_id)
            await ack(response_action="update", view=_notice_modal(refusal))
            return None
        return team_id, user_id

    async def _unreadable_button(self, ack, body: dict[str, Any], client, label, what) -> None:
        """A button whose value names nothing (an old or forged view): say so, change nothing."""
        await ack()
        team_id, user_id = _who(body)
        notice = f":warning: This {label} button does not name {what}; nothing was changed."
        await self.publish(client, team_id, user_id, notice=notice)

    async def _open_modal(
        self, client: AsyncWebClient, body: dict[str, Any], view: dict[str, Any]
    ) -> dict[str, Any] | None:
        """views.open for the click in `body`; the opened view, or None after telling the user
        why nothing opened: in the channel of a message's button (an ephemeral message), else on
        their Home."""
        try:
            return (await client.views_open(trigger_id=body["trigger_id"], view=view))["view"]
        except SlackApiError as error:
            code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        log.warning("views.open failed: %s", code)
        team_id, user_id = _who(body)
        notice = _modal_failed_notice(code)
        channel_id = (body.get("channel") or {}).get("id")
        if (body.get("container") or {}).get("type") == "message" and channel_id:
            try:
                await client.chat_postEphemeral(channel=channel_id, user=user_id, text=notice)
                return None
            except SlackApiError as ephemeral_error:
                log.warning("chat.postEphemeral failed: %s", ephemeral_error.response.get("error"))
        await self.publish(client, team_id, user_id, notice=notice)
        return None

    async def connection(self, team_id: str) -> ConnectionSettings | None:
        async with self.services.sessions() as session:
            config = await load_or_new_workspace(session, team_id, self.services.box)
        return config.connection

    # ---- Home --------------------------------------------------------------------------------

    async def home_opened(self, event: dict[str, Any], context: Any, client: AsyncWebClient):
        if event.get("tab", "home") != "home":
            return
        await self.publish(client, context.team_id, event["user"])

    async def route_chosen(self, ack, body: dict[str, Any], action: dict[str, Any], client):
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        record_type = RecordType(_ROUTE_ACTION.match(action["action_id"]).group(1))  # type: ignore[union-attr]
        channel_id = action.get("selected_conversation") or ""
        try:
            async with self.services.sessions.begin() as session:
                await home_admin.set_channel(
                    session,
                    team_id,
                    record_type,
                    channel_id,
                    self.services.box,
                    user_id=user_id,
                    now=self.services.now(),
                )
        except ValueError as error:
            await self.publish(client, team_id, user_id, notice=f":warning: {error}")
            return
        notice = f"{describe(record_type).label} now go to <#{channel_id}>."
        channel_line = (await self._slack_lines(client, team_id, {record_type: channel_id}))[-1]
        if not channel_line.ok:  # e.g. a private channel the app was not invited to
            notice += f"\n:warning: {channel_line.detail}"
        await self.publish(client, team_id, user_id, notice=notice)

    async def pause(self, ack, body: dict[str, Any], client):
        await self._set_paused(ack, body, client, paused=True)

    async def resume(self, ack, body: dict[str, Any], client):
        await self._set_paused(ack, body, client, paused=False)

    async def _set_paused(self, ack, body: dict[str, Any], client, *, paused: bool) -> None:
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        async with self.services.sessions.begin() as session:
            await home_admin.set_paused(
                session,
                team_id,
                paused,
                self.services.box,
                user_id=user_id,
                now=self.services.now(),
            )
        notice = "Polling paused." if paused else "Polling resumed."
        await self.publish(client, team_id, user_id, notice=notice)

    async def poll_now(self, ack, body: dict[str, Any], client):
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        async with self.services.sessions() as session:
            paused = (await pause_state(session, team_id) or (False, None))[0]
        if paused:
            await self.publish(
                client, team_id, user_id, notice="Polling is paused: resume it first."
            )
            return
        await self.publish(client, team_id, user_id, notice=":hourglass_flowing_sand: Polling now…")
        async with self.services.sessions.begin() as session:
            await record_audit_event(
                session,
                team_id=team_id,
                kind="poll.requested",
                actor=home_admin.actor_for(user_id),
                summary="Poll now from the App Home.",
                now=self.services.now(),
            )
        outcomes = await self.services.poller.poll_all(team_id)
        await self.publish(client, team_id, user_id, notice=poll_summary(outcomes))

    async def retry_dead_letter(self, ack, body: dict[str, Any], action: dict[str, Any], client):
        delivery_id = _button_number(action)
        if delivery_id is None:
            await self._unreadable_button(ack, body, client, "Retry", "a dead letter")
            return
        await self._retry(ack, body, client, [delivery_id])

    async def retry_all_dead_letters(self, ack, body: dict[str, Any], client):
        await self._retry(ack, body, client, None)

    async def _retry(self, ack, body: dict[str, Any], client, ids: list[int] | None) -> None:
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        async with self.services.sessions.begin() as session:
            count = await retry_dead_letters(
                session, team_id, ids, self.services.now(), actor=home_admin.actor_for(user_id)
            )
        notice = f"{count} dead letter(s) queued again." if count else "No dead letter to retry."
        await self.publish(client, team_id, user_id, notice=notice)

    # ---- connection modal and test -----------------------------------------------------------

    async def edit_connection(self, ack, body: dict[str, Any], client):
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        current = await self.connection(team_id)
        await self._open_modal(client, body, build_connection_modal(current))

    async def connection_submitted(self, ack, body: dict[str, Any], view: dict[str, Any], client):
        if (who := await self._admin_submission(ack, body, client)) is None:
            return
        team_id, user_id = who
        current = await self.connection(team_id)
        try:
            settings = home_admin.validate_connection_form(
                read_connection_form(view["state"]["values"]), current
            )
        except FormErrors as problems:
            await ack(response_action="errors", errors=problems.errors)
            return
        await ack()
        async with self.services.sessions.begin() as session:
            await home_admin.save_connection(
                session,
                team_id,
                settings,
                self.services.box,
                user_id=user_id,
                now=self.services.now(),
            )
        await self.publish(client, team_id, user_id, notice="Agent connection saved.")

    async def test_connection(self, ack, body: dict[str, Any], client):
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        opened = await self._open_modal(client, body, build_test_connection_loading())
        if opened is None:
            return
        lines = [*await self._agent_lines(team_id), *await self._slack_lines(client, team_id)]
        await client.views_update(view_id=opened["id"], view=build_test_connection_result(lines))

    async def _agent_lines(self, team_id: str) -> list[CheckResult]:
        settings = await self.connection(team_id)
        if settings is None:
            return [CheckResult("agent settings", False, "none yet: use Edit connection")]
        try:
            async with asyncio.timeout(self.services.agent_timeout):
                return list(await self.services.check_agent(settings))
        except TimeoutError:
            detail = f"no answer within {self.services.agent_timeout:g} seconds"
            return [CheckResult("agent", False, detail)]

    async def _slack_lines(
        self,
        client: AsyncWebClient,
        team_id: str,
        channels: Mapping[RecordType, str] | None = None,
    ) -> list[CheckResult]:
        """The Slack half of `ml-connector check` (for the stored channels, or `channels`),
        with the token this request came with."""
        async with self.services.sessions() as session:
            config = await load_or_new_workspace(session, team_id, self.services.box)
            paused, reason = await pause_state(session, team_id) or (False, None)

        async def this_token(_team_id: str) -> str:
            return str(client.token)

        return list(
            await self.services.check_slack(
                lambda _token: client,
                this_token,
                team_id=team_id,
                channels=config.channels if channels is None else channels,
                paused=paused,
                paused_reason=reason,
            )
        )

    # ---- schedules ---------------------------------------------------------------------------

    async def edit_schedules(self, ack, body: dict[str, Any], client):
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        async with self.services.sessions() as session:
            state = await load_home_state(
                session, team_id, self.services.box, is_admin=True, now=self.services.now()
            )
        await self._open_modal(client, body, home_views.build_schedules_modal(state.routes))

    async def schedules_submitted(self, ack, body: dict[str, Any], view: dict[str, Any], client):
        texts = home_views.read_schedules(view["state"]["values"])

        async def save(session: AsyncSession, team_id: str, user_id: str) -> str:
            await home_admin.set_schedules(
                session, team_id, texts, self.services.box, user_id=user_id, now=self.services.now()
            )
            return "Schedules saved."

        await self._save_submission(ack, body, client, save)

    async def _save_submission(
        self,
        ack,
        body: dict[str, Any],
        client,
        save: Callable[[AsyncSession, str, str], Awaitable[str | None]],
    ) -> None:
        """A settings modal submitted: admin check, `save` in one transaction, each problem shown
        on its field, else the Home republished with the notice `save` returns (None: nothing)."""
        if (who := await self._admin_submission(ack, body, client)) is None:
            return
        team_id, user_id = who
        try:
            async with self.services.sessions.begin() as session:
                notice = await save(session, team_id, user_id)
        except FormErrors as problems:
            await ack(response_action="errors", errors=problems.errors)
            return
        await ack()
        if notice is not None:
            await self.publish(client, team_id, user_id, notice=notice)

    # ---- routing rules -----------------------------------------------------------------------

    async def rules(self, team_id: str) -> tuple[RoutingRule, ...]:
        async with self.services.sessions() as session:
            return (await load_polling_settings(session, team_id)).rules

    async def manage_rules(self, ack, body: dict[str, Any], client):
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        view = rule_form.build_rules_modal(await self.rules(team_id))
        await self._open_modal(client, body, view)

    async def rule_submitted(self, ack, body: dict[str, Any], view: dict[str, Any], client):
        fields = rule_form.read_rule_form(view["state"]["values"])

        async def save(session: AsyncSession, team_id: str, user_id: str) -> str | None:
            if not fields:
                return None
            await home_admin.add_rule(
                session, team_id, fields, user_id=user_id, now=self.services.now()
            )
            return "Routing rule added."

        await self._save_submission(ack, body, client, save)

    async def remove_rule(self, ack, body: dict[str, Any], action: dict[str, Any], client):
        async def remove(session: AsyncSession, team_id: str, position: int, user_id: str):
            await home_admin.remove_rule(
                session, team_id, position, user_id=user_id, now=self.services.now()
            )

        async def modal(team_id: str) -> dict[str, Any]:
            return rule_form.build_rules_modal(await self.rules(team_id))

        await self._remove_listed(
            ack,
            body,
            action,
            client,
            what="a routing rule",
            remove=remove,
            modal=modal,
            notice="Routing rule removed.",
        )

    async def _remove_listed(
        self,
        ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client,
        *,
        what: str,
        remove: Callable[[AsyncSession, str, int, str], Awaitable[None]],
        modal: Callable[[str], Awaitable[dict[str, Any]]],
        notice: str,
    ) -> None:
        """A Remove button in a list modal (rules, reminders): remove, redraw the modal, say so."""
        position = _button_number(action)
        if position is None:
            await self._unreadable_button(ack, body, client, "Remove", what)
            return
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        team_id, user_id = who
        async with self.services.sessions.begin() as session:
            await remove(session, team_id, position, user_id)
        await client.views_update(view_id=body["view"]["id"], view=await modal(team_id))
        await self.publish(client, team_id, user_id, notice=notice)

    # ---- Details -----------------------------------------------------------------------------

    async def details(self, ack, body: dict[str, Any], action: dict[str, Any], client):
        await ack()
        ref = _record_ref(action, body)
        if ref is None:
            notice = _notice_modal("This message does not say which Sage 100 record it is about.")
            await self._open_modal(client, body, notice)
            return
        opened = await self._open_modal(
            client, body, build_details_loading_modal(ref.record_type, ref.record_key)
        )
        if opened is None:
            return
        team_id, _ = _who(body)
        view = await self._details_view(team_id, ref)
        await client.views_update(view_id=opened["id"], view=view)

    async def _details_view(self, team_id: str, ref: RecordRef) -> dict[str, Any]:
        settings = await self.connection(team_id)
        if settings is None:
            return build_details_unreachable_modal(
                ref.record_type, ref.record_key, "No agent connection is set up for this workspace."
            )
        written = None
        if describe(ref.record_type).register_lines:
            async with self.services.sessions() as session:
                written = await register_written_at(session, team_id, ref, settings.timezone)
        try:
            async with asyncio.timeout(self.services.agent_timeout):
                record = await self.services.fetch_record(settings, ref, written)
        except SageError as error:
            return build_details_unreachable_modal(ref.record_type, ref.record_key, str(error))
        except TimeoutError:
            return build_details_unreachable_modal(
                ref.record_type,
                ref.record_key,
                f"It did not answer within {self.services.agent_timeout:g} seconds.",
            )
        return build_details_modal(record)

    # ---- reminders ---------------------------------------------------------------------------

    async def reminders_modal(self, team_id: str) -> dict[str, Any]:
        async with self.services.sessions() as session:
            config = await load_or_new_workspace(session, team_id, self.services.box)
        return reminder_form.build_reminders_modal(config.reminders)

    async def manage_reminders(self, ack, body: dict[str, Any], client):
        if (who := await self._admin_click(ack, body, client)) is None:
            return
        view = await self.reminders_modal(who[0])
        await self._open_modal(client, body, view)

    async def reminder_submitted(self, ack, body: dict[str, Any], view: dict[str, Any], client):
        fields = reminder_form.read_reminder_form(view["state"]["values"])

        async def save(session: AsyncSession, team_id: str, user_id: str) -> str:
            reminder = await home_admin.add_reminder(
                session,
                team_id,
                fields,
                self.services.box,
                user_id=user_id,
                now=self.services.now(),
            )
            return f"Reminder saved for <#{reminder.channel}>."

        await self._save_submission(ack, body, client, save)

    async def remove_reminder(self, ack, body: dict[str, Any], action: dict[str, Any], client):
        async def remove(session: AsyncSession, team_id: str, position: int, user_id: str):
            await home_admin.remove_reminder(
                session,
                team_id,
                position,
                self.services.box,
                user_id=user_id,
                now=self.services.now(),
            )

        await self._remove_listed(
            ack,
            body,
            action,
            client,
            what="a reminder",
            remove=remove,
            modal=self.reminders_modal,
            notice="Reminder removed.",
        )


def _record_ref(action: dict[str, Any], body: dict[str, Any]) -> RecordRef | None:
    """From the button's value, else the message metadata the blocks builders attach."""
    try:
        return RecordRef.from_value(str(action.get("value", "")))
    except ValueError:
        pass
    payload = ((body.get("message") or {}).get("metadata") or {}).get("event_payload") or {}
    try:
        return RecordRef(
            str(payload["company"]), RecordType(payload["record_type"]), str(payload["record_key"])
        )
    except (KeyError, ValueError):
        return None


def _button_number(action: dict[str, Any]) -> int | None:
    """The id or position a button carries, or None when its value is not one (a database
    integer: at most 18 digits)."""
    value = str(action.get("value", ""))
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None


async def _ack_only(ack) -> None:
    """A link button still sends an action; Slack shows an error unless it is acknowledged."""
    await ack()


def poll_summary(outcomes: Sequence[PollOutcome]) -> str:
    """One line for the Home: what was polled, what was new, what failed."""
    if not outcomes:
        return "Nothing to poll: connect the agent and route at least one record type."
    ran = [outcome for outcome in outcomes if outcome.ran]
    failed = [outcome for outcome in ran if not outcome.ok]
    line = (
        f"Polled {len(ran)} of {len(outcomes)} resources: "
        f"{sum(o.new for o in ran)} new, {sum(o.changed for o in ran)} changed, "
        f"{sum(o.queued for o in ran)} messages queued."
    )
    if len(ran) < len(outcomes):
        line += f" {len(outcomes) - len(ran)} were being polled already."
    for outcome in failed[:3]:
        key = outcome.key
        line += f"\n:warning: {key.company} {describe(key.record_type).label}: {outcome.error}"
    return line


def _who(body: dict[str, Any]) -> tuple[str, str]:
    """(team id, user id) of the person who acted, from Slack's signed payload."""
    user = body["user"]
    team_id = (body.get("team") or {}).get("id") or user.get("team_id")
    return str(team_id), str(user["id"])


def _modal_failed_notice(code: str) -> str:
    if code == "expired_trigger_id":
        reason = "Slack's 3 seconds to open it had passed"
    else:
        reason = f"Slack answered {code}"
    return f":warning: The window did not open ({reason}). Click the button again."


def _notice_modal(text: str) -> dict[str, Any]:
    return modal("Sage 100", [section(text)], callback_id="home_notice")
