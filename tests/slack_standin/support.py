"""What the stand-in tests share: an awaited call's Slack error, and a one-line section."""

import pytest
from slack_sdk.errors import SlackApiError


async def slack_error(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
