"""manifest.yml against the Slack app manifest rules, and against what the app really serves.

The rules are the ones api.slack.com enforces on import (required keys, no unknown keys, field
lengths, https request URLs, known scope and event names). Each mutation test breaks the manifest
in one way and expects the checker to name the broken field, so the checker itself is tested.
"""

from __future__ import annotations

import asyncio
import copy
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from bolt_app.slack.app import BOT_SCOPES
from bolt_app.storage.tables import workspaces
from tests.fixtures.slack import ADMIN_USER, MEMBER_USER, TEAM_ID
from tests.fixtures.slack_app import command_body, event_body

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "manifest.yml"
PROCFILE_PATH = MANIFEST_PATH.with_name("Procfile")

# Bot scopes Slack defines (api.slack.com/scopes); a typo such as "chat:writes" is refused on import.
KNOWN_BOT_SCOPES = frozenset(
    [
        "app_mentions:read",
        "assistant:write",
        "bookmarks:read",
        "bookmarks:write",
        "calls:read",
        "calls:write",
        "canvases:read",
        "canvases:write",
        "channels:history",
        "channels:join",
        "channels:manage",
        "channels:read",
        "channels:write.invites",
        "channels:write.topic",
        "chat:write",
        "chat:write.customize",
        "chat:write.public",
        "commands",
        "conversations.connect:manage",
        "conversations.connect:read",
        "conversations.connect:write",
        "dnd:read",
        "emoji:read",
        "files:read",
        "files:write",
        "groups:history",
        "groups:read",
        "groups:write",
        "groups:write.invites",
        "groups:write.topic",
        "im:history",
        "im:read",
        "im:write",
        "im:write.topic",
        "incoming-webhook",
        "links.embed:write",
        "links:read",
        "links:write",
        "metadata.message:read",
        "mpim:history",
        "mpim:read",
        "mpim:write",
        "mpim:write.topic",
        "pins:read",
        "pins:write",
        "reactions:read",
        "reactions:write",
        "reminders:read",
        "reminders:write",
        "remote_files:read",
        "remote_files:share",
        "remote_files:write",
        "search:read.files",
        "search:read.public",
        "team.billing:read",
        "team.preferences:read",
        "team:read",
        "tokens.basic",
        "triggers:read",
        "triggers:write",
        "usergroups:read",
        "usergroups:write",
        "users.profile:read",
        "users:read",
        "users:read.email",
        "users:write",
        "workflow.steps:execute",
    ]
)
KNOWN_BOT_EVENTS = frozenset(
    [
        "app_home_opened",
        "app_mention",
        "app_rate_limited",
        "app_uninstalled",
        "channel_archive",
        "channel_created",
        "channel_deleted",
        "channel_left",
        "channel_rename",
        "channel_unarchive",
        "grid_migration_finished",
        "grid_migration_started",
        "group_archive",
        "group_deleted",
        "group_left",
        "group_rename",
        "link_shared",
        "member_joined_channel",
        "member_left_channel",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
        "message_metadata_deleted",
        "message_metadata_posted",
        "message_metadata_updated",
        "reaction_added",
        "reaction_removed",
        "team_join",
        "tokens_revoked",
        "user_change",
    ]
)

# Least privilege: the four every install needs, plus each extra with the feature that needs it.
REQUIRED_BOT_SCOPES = {"chat:write", "chat:write.public", "commands", "users:read"}
EXTRA_BOT_SCOPES = {
    "channels:join": "delivery: conversations.join when Slack answers not_in_channel",
    "channels:read": "check: conversations.info on a mapped public channel",
    "groups:read": "check: conversations.info on a mapped private channel",
}
SUBSCRIBED_EVENTS = {"app_home_opened", "app_uninstalled", "tokens_revoked"}
# Paths bolt_app.slack.web serves for Slack; every URL in the manifest must point at one of them.
SLACK_PATHS = {"/slack/events", "/slack/oauth_redirect"}

_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/\S*)?$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
_COMMAND = re.compile(r"^/[a-z0-9_-]{1,31}$")

_SECTIONS = {"_metadata", "display_information", "features", "oauth_config", "settings"}
_KEYS = {
    "_metadata": {"major_version", "minor_version"},
    "display_information": {"name", "description", "background_color", "long_description"},
    "features": {"app_home", "bot_user", "slash_commands", "shortcuts", "unfurl_domains"},
    "features.app_home": {
        "home_tab_enabled",
        "messages_tab_enabled",
        "messages_tab_read_only_enabled",
    },
    "features.bot_user": {"display_name", "always_online"},
    "slash_command": {"command", "url", "description", "usage_hint", "should_escape"},
    "oauth_config": {"redirect_urls", "scopes", "token_management_enabled"},
    "oauth_config.scopes": {"bot", "user"},
    "settings": {
        "allowed_ip_address_ranges",
        "event_subscriptions",
        "incoming_webhooks",
        "interactivity",
        "org_deploy_enabled",
        "socket_mode_enabled",
        "token_rotation_enabled",
    },
    "settings.event_subscriptions": {"request_url", "bot_events", "user_events"},
    "settings.interactivity": {"is_enabled", "request_url", "message_menu_options_url"},
}


def load_manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST_PATH.read_text())


def manifest_problems(manifest: Any) -> list[str]:
    """Every way `manifest` breaks Slack's manifest rules or this app's, as 'field: why'."""
    problems: list[str] = []

    def section(path: str) -> dict[str, Any]:
        node: Any = manifest
        for part in path.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if not isinstance(node, dict):
            problems.append(f"{path}: must be a mapping")
            return {}
        unknown = set(node) - _KEYS[path]
        if unknown:
            problems.append(f"{path}: unknown keys {sorted(unknown)}")
        return node

    def text(path: str, value: Any, low: int, high: int, *, required: bool = False) -> None:
        if value is None:
            if required:
                problems.append(f"{path}: required")
            return
        if not isinstance(value, str) or not low <= len(value) <= high:
            problems.append(f"{path}: must be text of {low} to {high} characters")

    def url(path: str, value: Any, *, paths: set[str] = SLACK_PATHS) -> None:
        if not isinstance(value, str) or not _HTTPS_URL.match(value) or len(value) > 3500:
            problems.append(f"{path}: must be an https URL")
        elif not any(value.endswith(p) for p in paths):
            problems.append(f"{path}: must end with one of {sorted(paths)}")

    def flag(path: str, value: Any) -> None:
        if value is not None and not isinstance(value, bool):
            problems.append(f"{path}: must be true or false")

    def names(path: str, values: Any, known: frozenset[str], most: int) -> list[str]:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.append(f"{path}: must be a list of names")
            return []
        if len(values) != len(set(values)) or len(values) > most:
            problems.append(f"{path}: must hold at most {most} distinct names")
        for value in values:
            if value not in known:
                problems.append(f"{path}: unknown name {value!r}")
        return values

    if not isinstance(manifest, dict):
        return ["manifest: must be a mapping"]
    unknown = set(manifest) - _SECTIONS
    if unknown:
        problems.append(f"manifest: unknown sections {sorted(unknown)}")
    if "display_information" not in manifest:
        problems.append("display_information: required")

    section("_metadata")
    info = section("display_information")
    text("display_information.name", info.get("name"), 1, 35, required=True)
    text("display_information.description", info.get("description"), 1, 140)
    text("display_information.long_description", info.get("long_description"), 175, 4000)
    color = info.get("background_color")
    if color is not None and not (isinstance(color, str) and _COLOR.match(color)):
        problems.append("display_information.background_color: must be #rgb or #rrggbb")

    section("features")
    home = section("features.app_home")
    for key in _KEYS["features.app_home"]:
        flag(f"features.app_home.{key}", home.get(key))
    if home.get("home_tab_enabled") is not True:
        problems.append("features.app_home.home_tab_enabled: the App Home tab must be on")
    bot = section("features.bot_user")
    text("features.bot_user.display_name", bot.get("display_name"), 1, 80, required=True)
    flag("features.bot_user.always_online", bot.get("always_online"))

    commands = manifest.get("features", {}).get("slash_commands", [])
    if not isinstance(commands, list) or not 1 <= len(commands) <= 50:
        problems.append("features.slash_commands: must list 1 to 50 commands")
        commands = []
    for index, command in enumerate(commands):
        path = f"features.slash_commands[{index}]"
        if not isinstance(command, dict):
            problems.append(f"{path}: must be a mapping")
            continue
        if set(command) - _KEYS["slash_command"]:
            problems.append(f"{path}: unknown keys {sorted(set(command) - _KEYS['slash_command'])}")
        name = command.get("command")
        if not (isinstance(name, str) and _COMMAND.match(name)):
            problems.append(f"{path}.command: must be / then 1 to 31 lower-case characters")
        text(f"{path}.description", command.get("description"), 1, 2000, required=True)
        text(f"{path}.usage_hint", command.get("usage_hint"), 1, 1000)
        flag(f"{path}.should_escape", command.get("should_escape"))
        if "url" in command:
            url(f"{path}.url", command["url"], paths={"/slack/events"})
    if "/sage-status" not in {c.get("command") for c in commands if isinstance(c, dict)}:
        problems.append("features.slash_commands: /sage-status is missing")

    section("oauth_config")
    redirects = manifest.get("oauth_config", {}).get("redirect_urls", [])
    if not isinstance(redirects, list) or len(redirects) != len(set(map(str, redirects))):
        problems.append("oauth_config.redirect_urls: must be a list of distinct URLs")
        redirects = []
    for index, redirect in enumerate(redirects):
        url(f"oauth_config.redirect_urls[{index}]", redirect, paths={"/slack/oauth_redirect"})
    section("oauth_config.scopes")
    scopes = set(
        names(
            "oauth_config.scopes.bot",
            manifest.get("oauth_config", {}).get("scopes", {}).get("bot"),
            KNOWN_BOT_SCOPES,
            255,
        )
    )
    if missing := REQUIRED_BOT_SCOPES - scopes:
        problems.append(f"oauth_config.scopes.bot: missing {sorted(missing)}")
    if excess := scopes - REQUIRED_BOT_SCOPES - set(EXTRA_BOT_SCOPES):
        problems.append(f"oauth_config.scopes.bot: no feature needs {sorted(excess)}")
    if manifest.get("oauth_config", {}).get("scopes", {}).get("user"):
        problems.append("oauth_config.scopes.user: the app needs no user token")

    settings = section("settings")
    events = section("settings.event_subscriptions")
    url("settings.event_subscriptions.request_url", events.get("request_url"))
    subscribed = set(
        names(
            "settings.event_subscriptions.bot_events",
            events.get("bot_events"),
            KNOWN_BOT_EVENTS,
            100,
        )
    )
    if subscribed != SUBSCRIBED_EVENTS:
        problems.append(
            f"settings.event_subscriptions.bot_events: must be exactly {sorted(SUBSCRIBED_EVENTS)}"
        )
    interactivity = section("settings.interactivity")
    if interactivity.get("is_enabled") is not True:
        problems.append("settings.interactivity.is_enabled: must be true (App Home controls)")
    url("settings.interactivity.request_url", interactivity.get("request_url"))
    for key in ("org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"):
        flag(f"settings.{key}", settings.get(key))
    if settings.get("token_rotation_enabled") is not True:
        problems.append("settings.token_rotation_enabled: tokens must rotate")
    return problems


def test_the_shipped_manifest_follows_every_rule():
    assert manifest_problems(load_manifest()) == []


def _set(path: str, value: Any):
    def mutate(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = manifest
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str):
    def mutate(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = manifest
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


def _append(path: str, value: Any):
    def mutate(manifest: dict[str, Any]) -> None:
        node: Any = manifest
        for part in path.split("."):
            node = node[part]
        node.append(value)

    return mutate


BROKEN = {
    "name too long": (_set("display_information.name", "S" * 36), "display_information.name"),
    "name missing": (_delete("display_information.name"), "display_information.name"),
    "no display_information": (_delete("display_information"), "display_information"),
    "long description too short": (
        _set("display_information.long_description", "Too short."),
        "display_information.long_description",
    ),
    "bad colour": (_set("display_information.background_color", "green"), "background_color"),
    "unknown top-level key": (_set("extras", {}), "manifest"),
    "unknown feature key": (_set("features.app_home.home_page", True), "features.app_home"),
    "home tab off": (_set("features.app_home.home_tab_enabled", False), "home_tab_enabled"),
    "bot name too long": (
        _set("features.bot_user.display_name", "b" * 81),
        "features.bot_user.display_name",
    ),
    "command without slash": (
        _set("features.slash_commands.0.command", "sage-status"),
        "slash_commands[0].command",
    ),
    "command over 32 characters": (
        _set("features.slash_commands.0.command", "/" + "s" * 32),
        "slash_commands[0].command",
    ),
    "http command url": (
        _set("features.slash_commands.0.url", "http://connector.example.com/slack/events"),
        "slash_commands[0].url",
    ),
    "command url to the wrong path": (
        _set("features.slash_commands.0.url", "https://connector.example.com/commands"),
        "slash_commands[0].url",
    ),
    "misspelt scope": (_append("oauth_config.scopes.bot", "chat:writes"), "unknown name"),
    "scope no feature needs": (
        _append("oauth_config.scopes.bot", "channels:history"),
        "no feature",
    ),
    "required scope dropped": (_set("oauth_config.scopes.bot", ["chat:write"]), "missing"),
    "user scopes asked for": (_set("oauth_config.scopes.user", ["chat:write"]), "scopes.user"),
    "redirect not https": (
        _set("oauth_config.redirect_urls.0", "ftp://connector.example.com/slack/oauth_redirect"),
        "redirect_urls[0]",
    ),
    "unknown event": (
        _append("settings.event_subscriptions.bot_events", "app_home_closed"),
        "unknown name",
    ),
    "event dropped": (
        _set("settings.event_subscriptions.bot_events", ["app_home_opened"]),
        "bot_events",
    ),
    "events url missing": (
        _delete("settings.event_subscriptions.request_url"),
        "event_subscriptions.request_url",
    ),
    "interactivity off": (_set("settings.interactivity.is_enabled", False), "is_enabled"),
    "rotation as text": (_set("settings.token_rotation_enabled", "yes"), "token_rotation"),
    "rotation off": (_set("settings.token_rotation_enabled", False), "token_rotation"),
}


@pytest.mark.parametrize("mutation", BROKEN, ids=list(BROKEN))
def test_a_broken_manifest_is_refused_naming_the_field(mutation):
    mutate, field = BROKEN[mutation]
    manifest = copy.deepcopy(load_manifest())
    mutate(manifest)
    problems = manifest_problems(manifest)
    assert any(field in problem for problem in problems), problems


def test_procfile_runs_the_web_and_worker_roles_through_the_cli():
    roles = dict(
        line.split(":", 1) for line in PROCFILE_PATH.read_text().splitlines() if line.strip()
    )
    assert {role: command.strip() for role, command in roles.items()} == {
        "web": "ml-connector web",
        "worker": "ml-connector worker",
    }


def test_the_oauth_install_asks_for_exactly_the_manifest_scopes():
    assert set(BOT_SCOPES) == set(load_manifest()["oauth_config"]["scopes"]["bot"])


async def test_every_subscribed_event_and_command_reaches_a_listener(
    slack_app_server, slack_standin, response_urls
):
    await slack_app_server.install(code="code-manifest")
    manifest = load_manifest()
    samples = {
        "app_home_opened": {"type": "app_home_opened", "user": ADMIN_USER, "tab": "home"},
        "tokens_revoked": {"type": "tokens_revoked", "tokens": {"oauth": [MEMBER_USER]}},
        "app_uninstalled": {"type": "app_uninstalled"},
    }
    unsubscribed = event_body(TEAM_ID, {"type": "reaction_added"}, event_id="Ev0NOT")
    assert (await slack_app_server.post_signed(unsubscribed)).status_code == 404
    for command in manifest["features"]["slash_commands"]:
        body = command_body(
            TEAM_ID,
            ADMIN_USER,
            response_url=response_urls.url("manifest"),
            command=command["command"],
        )
        response = await slack_app_server.post_signed(
            body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200, command
    for name in manifest["settings"]["event_subscriptions"]["bot_events"]:
        body = event_body(TEAM_ID, samples[name], event_id=f"Ev0{name}")
        assert (await slack_app_server.post_signed(body)).status_code == 200, name
    async with asyncio.timeout(5):
        await response_urls.wait_for(len(manifest["features"]["slash_commands"]))
        while slack_standin.home_view(ADMIN_USER) is None:  # noqa: ASYNC110 - stand-in state
            await asyncio.sleep(0.02)
        while not await _paused(slack_app_server):  # noqa: ASYNC110 - database state
            await asyncio.sleep(0.02)


async def _paused(app) -> bool:
    async with app.sessions() as session:
        return await session.scalar(
            sa.select(workspaces.c.paused).where(workspaces.c.team_id == TEAM_ID)
        )
