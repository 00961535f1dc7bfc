"""Draws the README's picture of a real message: `python docs/img/render.py` -> ap-invoice.png.

The message is built by the product's own code (`bolt_app.blocks.messages`) from a row of the simulated
agent, parsed by `sage.parsing` as a poll would; only the drawing is approximate: the blocks are
turned into HTML styled like Slack's desktop client and photographed by headless Chromium
(Debian's `chromium` package).
"""

from __future__ import annotations

import html
import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bolt_app.blocks.messages import SlackMessage, build_record_message
from sage.parsing import parse_ap_invoice
from sage.simulator.data import SimulatorData

HERE = Path(__file__).resolve().parent
ZONE = ZoneInfo("America/Chicago")
RECORD_URL = "https://sage.corp.example/{company}/{resource}/{record_key}"

STYLE = """
body { margin: 0; background: #fff; font: 15px/1.47 'DejaVu Sans', Arial, sans-serif;
       color: #1d1c1d; }
.msg { display: flex; padding: 16px 20px; width: 700px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #1b4d3e; color: #fff;
          font-weight: bold; display: flex; align-items: center; justify-content: center;
          margin-right: 10px; flex-shrink: 0; font-size: 13px; }
.name { font-weight: 900; } .app { background: #e8e8e8; color: #616061; font-size: 10px;
        font-weight: bold; padding: 1px 3px; border-radius: 2px; margin: 0 4px; }
.time { color: #616061; font-size: 12px; }
.header { font-size: 18px; font-weight: 900; margin: 6px 0 4px; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin: 8px 0; }
.section { margin: 8px 0; white-space: pre-wrap; }
.context { color: #616061; font-size: 12px; margin-top: 8px; }
.button { display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 3px 12px;
          font-weight: bold; font-size: 13px; margin: 6px 8px 2px 0; }
code { background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 0 3px;
       font-size: 12px; color: #e01e5a; }
a { color: #1264a3; text-decoration: none; }
"""


def mrkdwn(text: str) -> str:
    """Slack mrkdwn (already entity-escaped, as sent) -> HTML."""
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r'<a href="\1">\2</a>', text)
    text = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<!\w)_([^_\n]+)_(?!\w)", r"<i>\1</i>", text)
    text = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", text)
    return text.replace("\n", "<br>")


def text_html(obj: dict[str, Any]) -> str:
    return mrkdwn(obj["text"]) if obj["type"] == "mrkdwn" else html.escape(obj["text"])


def block_html(block: dict[str, Any]) -> str:
    kind = block["type"]
    if kind == "header":
        return f'<div class="header">{text_html(block["text"])}</div>'
    if kind == "section":
        parts = []
        if "text" in block:
            parts.append(f'<div class="section">{text_html(block["text"])}</div>')
        if "fields" in block:
            cells = "".join(f"<div>{text_html(field)}</div>" for field in block["fields"])
            parts.append(f'<div class="fields">{cells}</div>')
        return "".join(parts)
    if kind == "context":
        return (
            '<div class="context">'
            + " ".join(text_html(e) for e in block["elements"] if "text" in e)
            + "</div>"
        )
    if kind == "actions":
        return (
            "<div>"
            + "".join(
                f'<span class="button">{html.escape(b["text"]["text"])}</span>'
                for b in block["elements"]
            )
            + "</div>"
        )
    if kind == "divider":
        return "<hr>"
    return ""


def page(message: SlackMessage, posted: datetime) -> str:
    body = "".join(block_html(block) for block in message.blocks)
    stamp = posted.astimezone(ZONE).strftime("%-I:%M %p")
    return (
        f"<html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>"
        f'<div class="msg"><div class="avatar">S100</div><div>'
        f'<span class="name">Sage 100</span><span class="app">APP</span>'
        f'<span class="time">{stamp}</span>{body}</div></div></body></html>'
    )


def sample_message(now: datetime) -> SlackMessage:
    """An invoice as the simulated agent writes one, with a mention hidden in its comment."""
    data = SimulatorData(["ABC"], rng=random.Random(11), timezone=ZONE)
    for _ in range(40):
        row = data.add_ap_invoice("ABC", now.astimezone(ZONE))
        invoice = parse_ap_invoice(row, "ABC", ZONE)
        if "<@" in invoice.comment:
            break
    return build_record_message(invoice, record_url=RECORD_URL)


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("needs Chromium: apt-get install chromium", file=sys.stderr)
        return 1
    now = datetime(2026, 11, 24, 16, 42, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "message.html"
        source.write_text(page(sample_message(now), now), encoding="utf-8")
        target = HERE / "ap-invoice.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                f"--screenshot={target}",
                "--window-size=760,420",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
