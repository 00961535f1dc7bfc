"""Sage text made safe and short for Slack, and amounts and dates as a finance team writes them.

Every builder (messages, the App Home, /sage-status, reminders) formats Sage text with these, so
it shows the same everywhere: `escape` before any text object, `truncate` to a Block Kit limit.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ELLIPSIS = "…"
_CENT = Decimal("0.01")


# mrkdwn's formatting characters -> look-alikes Slack never reads as formatting: ASTERISK
# OPERATOR, MODIFIER LETTER LOW MACRON, TILDE OPERATOR, MODIFIER LETTER GRAVE ACCENT.
_LOOK_ALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
# Bold, italics and strikethrough open and close only at a word's edge: a character between
# two letters or digits (INV_1001, channel_not_found) formats nothing and is kept as it is.
_AT_A_WORD_EDGE = re.compile(r"(?<![^\W_])[*_~]|[*_~](?![^\W_])|`")


def escape(text: str) -> str:
    """Sage text made inert in mrkdwn: it shows as typed and pings, links or formats nothing.

    Slack's three control characters become entities, so `<!channel>` is text. Slack has no
    escape for `*`, `_`, `~` or a backtick (a backslash shows as itself and formats anyway), so
    each one that could open or close formatting becomes a look-alike: a different code point
    is certain never to format, while a zero-width space beside the character relies on
    word-edge rules Slack does not document (it is what people use to *force* formatting
    inside a word). Record keys travel untouched in button values and metadata.
    A lone surrogate (possible in JSON from the agent) becomes U+FFFD so the text stays UTF-8.
    """
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _AT_A_WORD_EDGE.sub(lambda found: _LOOK_ALIKES[found.group()], text)


def truncate(text: str, limit: int) -> str:
    """Cut already-escaped text to `limit` characters with an ellipsis, never inside an entity."""
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    amp = text.rfind("&", max(0, cut - 4), cut)  # entities are at most 5 characters (&amp;)
    if amp != -1 and text.find(";", amp) >= cut:
        cut = amp
    return text[:cut] + ELLIPSIS


def counted(count: int, singular: str, plural: str) -> str:
    """ "1 line", "3 lines"."""
    return f"{count} {singular if count == 1 else plural}"


def format_money(amount: Decimal) -> str:
    """US dollars as a finance team writes them: $1,250.00 and -$75.10."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    return f"{'-' if cents < 0 else ''}${abs(cents):,.2f}"


def format_date(value: date | None) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value is not None else "—"
