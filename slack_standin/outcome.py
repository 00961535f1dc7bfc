"""What a Web API method handler answers, and the scope check every family shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_standin.state import SlackState, Token


@dataclass(slots=True)
class Outcome:
    """One method's answer; `error` set means `{"ok": false}`."""

    body: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fail(cls, error: str, **extra: Any) -> Outcome:
        return cls(body=extra, error=error)


# A Web API method answering an authenticated token: (state, params, token) -> outcome.
Handler = Callable[[SlackState, dict[str, Any], Token], Outcome]


def missing_scope(token: Token, needed: str) -> Outcome | None:
    if needed in token.scopes:
        return None
    return Outcome.fail("missing_scope", needed=needed, provided=",".join(token.scopes))
