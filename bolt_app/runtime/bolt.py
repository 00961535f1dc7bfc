"""The Bolt app over a process's runtime: the Slack listeners and the App Home's services.

Only the processes that serve Slack (`web`, `serve`) build it; the runtime itself carries no
Bolt or App Home part, so `poll --once` does not import them.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.errors import ConfigError
from bolt_app.home.listeners import HomeServices
from bolt_app.runtime.graph import Runtime
from bolt_app.settings import Settings
from bolt_app.slack.app import SlackAppServices, build_app
from bolt_app.slack.check import check_slack


def validate_slack_settings(settings: Settings) -> None:
    """Refuse, before anything starts, settings that cannot serve Slack."""
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET must be set to serve Slack's HTTP endpoints "
            "(or set SLACK_APP_TOKEN to use Socket Mode)."
        )
    if (settings.slack_client_id is None) != (settings.slack_client_secret is None):
        raise ConfigError(
            "Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs, or neither."
        )


def home_services(runtime: Runtime) -> HomeServices:
    """What the App Home listeners need, sharing the runtime's poller."""
    return HomeServices(
        sessions=runtime.sessions,
        box=runtime.box,
        poller=runtime.pipeline.service,
        check_slack=check_slack,
        now=runtime.now,
    )


def build_slack_app(runtime: Runtime) -> AsyncApp:
    """The Bolt app: OAuth installs, or bot tokens without OAuth."""
    settings = runtime.settings
    validate_slack_settings(settings)
    clients = runtime.slack
    return build_app(
        signing_secret=settings.slack_signing_secret or "",
        client=AsyncWebClient(base_url=settings.slack_api_url),
        services=SlackAppServices(
            sessions=runtime.sessions,
            now=runtime.now,
            installation_store=clients.installation_store,
            home=home_services(runtime),
        ),
        oauth=clients.oauth,
        token_for_team=clients.token_for_team,
    )
