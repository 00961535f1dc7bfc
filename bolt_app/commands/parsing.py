"""What every command's --help shows: a description, the defaults, the environment it reads."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

# What each environment variable means, for the "environment:" part of a command's --help
# (docs/configuration.md says the same at length).
ENVIRONMENT = {
    "DATABASE_URL": "database (default sqlite:///ml_connector.db; postgresql://... for several "
    "processes)",
    "MLC_ENCRYPTION_KEYS": "Fernet key(s), newest first, comma-separated (or MLC_KMS_KEY_ID)",
    "MLC_KMS_KEY_ID": "AWS KMS key that wraps the data keys (instead of MLC_ENCRYPTION_KEYS)",
    "SLACK_BOT_TOKEN": "xoxb- token of a single-workspace install (else OAuth)",
    "SLACK_SIGNING_SECRET": "verifies requests from Slack (HTTP mode)",
    "SLACK_CLIENT_ID": "OAuth install: the app's client ID",
    "SLACK_CLIENT_SECRET": "OAuth install: the app's client secret",
    "SLACK_APP_TOKEN": "xapp- token: Socket Mode instead of HTTP",
    "SLACK_API_URL": "Slack Web API base (default https://slack.com/api/; the stand-in's URL)",
    "PORT": "HTTP port when --port is not given (default 3000)",
    "MLC_AUDIT_RETENTION_DAYS": "days of audit trail kept (default 90)",
    "MLC_LOG_LEVEL": "log level: DEBUG, INFO, WARNING, ERROR (services default INFO; "
    "one-shot commands log only warnings unless set or --verbose)",
    "MLC_DEMO_CHANNEL": "demo: the real Slack channel ID to post to (with SLACK_BOT_TOKEN)",
}
KEYS = ("MLC_ENCRYPTION_KEYS", "MLC_KMS_KEY_ID")
DATABASE = ("DATABASE_URL",)
STORE = (*DATABASE, *KEYS)  # the database and the key that decrypts its secrets
SLACK_API = ("SLACK_BOT_TOKEN", "SLACK_API_URL")  # what a command that posts or asks Slack needs
SLACK_APP = (
    "PORT",
    *STORE,
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    *SLACK_API,
    "SLACK_APP_TOKEN",
    "MLC_AUDIT_RETENTION_DAYS",
)


class HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default (where it has one worth showing), wraps a one-paragraph
    description and keeps a text of several lines (the environment list) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            action.default not in (None, False, argparse.SUPPRESS)
            and action.option_strings
            and "default" not in text
        ):
            text += " (default: %(default)s)"
        return text


def add_command(
    subparsers,
    name: str,
    summary: str,
    *,
    description: str | None = None,
    environment: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """A (sub)command whose --help describes it, shows defaults and lists the environment
    variables it reads."""
    epilog = None
    if environment:
        width = max(len(variable) for variable in environment)
        epilog = "environment:\n" + "\n".join(
            f"  {variable:<{width}}  {ENVIRONMENT[variable]}" for variable in environment
        )
    return subparsers.add_parser(
        name,
        help=summary,
        description=description or f"{summary[0].upper()}{summary[1:]}.",
        epilog=epilog,
        formatter_class=HelpFormatter,
    )
