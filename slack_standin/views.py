"""views.publish (App Home), views.open, views.push and views.update (modals)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from slack_standin.blockkit import view_errors
from slack_standin.outcome import Outcome
from slack_standin.state import SlackState, Token, View

MAX_MODAL_STACK = 3  # views.push refuses a fourth modal


def publish(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    view = _checked_view(params, "home")
    if isinstance(view, Outcome):
        return view
    user_id = str(params.get("user_id", ""))
    if not user_id:
        return Outcome.fail("invalid_arguments")
    key = (token.team_id, user_id)
    existing = state.views.get(state.home_views.get(key, ""))
    if existing is not None and params.get("hash") and params["hash"] != existing.hash:
        return Outcome.fail("hash_conflict")
    record = _new_view(state, view, token, user_id)
    if existing is not None:
        record.id = record.root_view_id = existing.id
    state.views[record.id] = record
    state.home_views[key] = record.id
    return Outcome({"view": view_body(state, record)})


def open_modal(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    view = _triggered_modal(params)
    if isinstance(view, Outcome):
        return view
    record = _new_view(state, view, token, None)
    state.views[record.id] = record
    state.modal_stacks[token.team_id] = [record.id]
    return Outcome({"view": view_body(state, record)})


def push_modal(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    view = _triggered_modal(params)
    if isinstance(view, Outcome):
        return view
    stack = state.modal_stacks.get(token.team_id, [])
    if not stack:
        return Outcome.fail("not_found")
    if len(stack) >= MAX_MODAL_STACK:
        return Outcome.fail("push_limit_reached")
    record = _new_view(state, view, token, None)
    record.root_view_id, record.previous_view_id = stack[0], stack[-1]
    state.views[record.id] = record
    stack.append(record.id)
    return Outcome({"view": view_body(state, record)})


def update(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    view = params.get("view")
    kind = view.get("type") if isinstance(view, dict) else None
    checked = _checked_view(params, kind if kind in ("home", "modal") else "modal")
    if isinstance(checked, Outcome):
        return checked
    external_id = params.get("external_id")
    target = state.views.get(str(params.get("view_id", "")))
    if target is None and external_id:
        target = next(
            (v for v in state.views.values() if v.payload.get("external_id") == external_id),
            None,
        )
    if target is None or target.team_id != token.team_id:
        return Outcome.fail("not_found")
    if params.get("hash") and params["hash"] != target.hash:
        return Outcome.fail("hash_conflict")
    target.payload = checked
    target.hash = _view_hash(state)
    return Outcome({"view": view_body(state, target)})


def view_body(state: SlackState, view: View) -> dict[str, Any]:
    """The view object Slack answers with (and the stand-in shows tests)."""
    workspace = state.workspaces[view.team_id]
    payload = view.payload
    return {
        "id": view.id,
        "team_id": view.team_id,
        "type": payload["type"],
        "blocks": payload.get("blocks", []),
        "private_metadata": payload.get("private_metadata", ""),
        "callback_id": payload.get("callback_id", ""),
        "state": {"values": {}},
        "hash": view.hash,
        "title": payload.get("title"),
        "submit": payload.get("submit"),
        "close": payload.get("close"),
        "clear_on_close": bool(payload.get("clear_on_close", False)),
        "notify_on_close": bool(payload.get("notify_on_close", False)),
        "external_id": payload.get("external_id", ""),
        "previous_view_id": view.previous_view_id,
        "root_view_id": view.root_view_id,
        "app_id": state.app_id,
        "app_installed_team_id": view.team_id,
        "bot_id": workspace.bot_id,
    }


def _new_view(
    state: SlackState, payload: dict[str, Any], token: Token, user_id: str | None
) -> View:
    view_id = state.new_id("V")
    return View(view_id, token.team_id, user_id, payload, _view_hash(state), view_id)


def _view_hash(state: SlackState) -> str:
    return f"{int(state.wall_clock().timestamp())}.{secrets.token_hex(4)}"


def _triggered_modal(params: Mapping[str, Any]) -> dict[str, Any] | Outcome:
    """A modal opens or pushes only in answer to a person's action (its trigger_id)."""
    if not params.get("trigger_id"):
        return Outcome.fail("invalid_arguments")
    return _checked_view(params, "modal")


def _checked_view(params: Mapping[str, Any], kind: str) -> dict[str, Any] | Outcome:
    view = params.get("view")
    if not isinstance(view, dict):
        return Outcome.fail(
            "invalid_arguments", response_metadata={"messages": ["[ERROR] missing view"]}
        )
    errors = view_errors(view)
    if not errors and view["type"] != kind:
        errors = [f"[ERROR] must be a {kind} view [json-pointer:/view/type]"]
    if errors:
        return Outcome.fail("invalid_arguments", response_metadata={"messages": errors})
    return view
