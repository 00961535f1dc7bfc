"""A local stand-in for the Slack Web API: a real HTTP server on loopback that records calls.

Tests, the demo and the bench point the real slack_sdk client at `SlackStandIn.api_url` (its
`base_url`), so everything between our code and the wire is exercised as it is against Slack:
form or JSON bodies, bearer tokens, HTTP 200 with `{"ok": false, "error": ...}` for API errors,
HTTP 429 with `Retry-After` for rate limits, 5xx when a test injects them. The server runs in the
caller's event loop (`async with SlackStandIn() as slack:` or `await slack.start()` ...
`await slack.stop()`), bound to 127.0.0.1 on an ephemeral port.

server          SlackStandIn: serving, reading requests, auth, dispatch, faults, pacing
state           workspaces, tokens, channels, users, messages, views and their setup API
blockkit        validate_blocks and Slack's documented limits (an oracle, not the builders)
auth, chat, conversations, users, views, oauth
                one module per Web API family: handlers (state, params, token) -> Outcome
"""

from slack_standin.blockkit import (
    MAX_ACTIONS_ELEMENTS,
    MAX_BLOCKS_TEXT,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_ID,
    MAX_MARKDOWN_BLOCK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_PRIVATE_METADATA,
    MAX_SECTION_FIELDS,
    MAX_SECTION_TEXT,
    MAX_URL,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_TITLE,
    blocks_text_length,
    validate_blocks,
)
from slack_standin.oauth import TOKEN_LIFETIME_SECONDS
from slack_standin.server import PacingViolation, RecordedCall, SlackStandIn
from slack_standin.state import (
    DEFAULT_BOT_SCOPES,
    EphemeralMessage,
    OAuthGrant,
    StoredMessage,
    TokenState,
)

__all__ = [
    "DEFAULT_BOT_SCOPES",
    "MAX_ACTIONS_ELEMENTS",
    "MAX_BLOCKS_TEXT",
    "MAX_BUTTON_TEXT",
    "MAX_BUTTON_VALUE",
    "MAX_CONTEXT_ELEMENTS",
    "MAX_FIELD_TEXT",
    "MAX_HEADER_TEXT",
    "MAX_ID",
    "MAX_MARKDOWN_BLOCK_TEXT",
    "MAX_MESSAGE_BLOCKS",
    "MAX_MESSAGE_TEXT",
    "MAX_PRIVATE_METADATA",
    "MAX_SECTION_FIELDS",
    "MAX_SECTION_TEXT",
    "MAX_URL",
    "MAX_VIEW_BLOCKS",
    "MAX_VIEW_TITLE",
    "TOKEN_LIFETIME_SECONDS",
    "EphemeralMessage",
    "OAuthGrant",
    "PacingViolation",
    "RecordedCall",
    "SlackStandIn",
    "StoredMessage",
    "TokenState",
    "blocks_text_length",
    "validate_blocks",
]
