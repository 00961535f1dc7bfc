"""oauth.v2.access installs and refreshes as Slack does, for slack_sdk and Bolt alike."""

from datetime import UTC, datetime, timedelta

from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from slack_standin import SlackStandIn
from tests.fixtures.slack import ADMIN_USER, TEAM_ID
from tests.slack_standin.support import slack_error


async def test_oauth_install_returns_slacks_payload_and_the_token_works(slack_standin):
    slack_standin.add_oauth_code("code-1", TEAM_ID, ADMIN_USER, user_scopes=("identify",))
    client = AsyncWebClient(base_url=slack_standin.api_url)
    install = await client.oauth_v2_access(
        client_id=slack_standin.client_id, client_secret=slack_standin.client_secret, code="code-1"
    )
    assert install["token_type"] == "bot"
    assert install["team"] == {"id": TEAM_ID, "name": "Stand-in Finance"}
    assert install["authed_user"]["id"] == ADMIN_USER
    assert install["authed_user"]["access_token"].startswith("xoxp-")
    assert "chat:write" in install["scope"].split(",")
    assert "refresh_token" not in install
    bot = AsyncWebClient(token=install["access_token"], base_url=slack_standin.api_url)
    assert (await bot.auth_test())["user_id"] == install["bot_user_id"]

    raised = await slack_error(
        client.oauth_v2_access(
            client_id=slack_standin.client_id,
            client_secret=slack_standin.client_secret,
            code="code-1",
        )
    )
    assert raised.response["error"] == "invalid_code"
    raised = await slack_error(
        client.oauth_v2_access(
            client_id=slack_standin.client_id, client_secret="wrong", code="code-1"
        )
    )
    assert raised.response["error"] == "bad_client_secret"


async def test_token_rotation_refresh_grant():
    now = [datetime(2026, 11, 26, 15, 0, tzinfo=UTC)]
    async with SlackStandIn(wall_clock=lambda: now[0]) as slack_standin:
        slack_standin.add_workspace(TEAM_ID, "Stand-in Finance")
        await _rotate_and_refresh(slack_standin, now)


async def _rotate_and_refresh(slack_standin: SlackStandIn, now: list[datetime]) -> None:
    slack_standin.add_oauth_code("code-2", TEAM_ID, ADMIN_USER, token_rotation=True)
    client = AsyncWebClient(base_url=slack_standin.api_url)
    creds = {"client_id": slack_standin.client_id, "client_secret": slack_standin.client_secret}
    install = await client.oauth_v2_access(code="code-2", **creds)
    assert install["access_token"].startswith("xoxe.xoxb-1-")
    assert install["refresh_token"].startswith("xoxe-1-")
    assert install["expires_in"] == 43_200

    now[0] += timedelta(seconds=43_200)
    expired = AsyncWebClient(token=install["access_token"], base_url=slack_standin.api_url)
    raised = await slack_error(expired.auth_test())
    assert raised.response["error"] == "token_expired"

    refreshed = await client.oauth_v2_access(
        grant_type="refresh_token", refresh_token=install["refresh_token"], **creds
    )
    assert refreshed["token_type"] == "bot"
    assert refreshed["access_token"] != install["access_token"]
    fresh = AsyncWebClient(token=refreshed["access_token"], base_url=slack_standin.api_url)
    assert (await fresh.auth_test())["team_id"] == TEAM_ID
    raised = await slack_error(
        client.oauth_v2_access(grant_type="refresh_token", refresh_token="xoxe-1-bogus", **creds)
    )
    assert raised.response["error"] == "invalid_refresh_token"


async def test_bolt_install_and_sdk_token_rotation_work_against_the_stand_in(
    slack_standin, tmp_path
):
    slack_standin.add_oauth_code("code-3", TEAM_ID, ADMIN_USER, token_rotation=True)
    client = AsyncWebClient(base_url=slack_standin.api_url)
    creds = {"client_id": slack_standin.client_id, "client_secret": slack_standin.client_secret}
    flow = AsyncOAuthFlow(
        client=client,
        settings=AsyncOAuthSettings(
            **creds,
            scopes=["chat:write", "commands"],
            installation_store=FileInstallationStore(base_dir=str(tmp_path / "installs")),
            state_store=FileOAuthStateStore(
                expiration_seconds=600, base_dir=str(tmp_path / "states")
            ),
        ),
    )
    installation = await flow.run_installation("code-3")
    assert installation.team_id == TEAM_ID
    assert installation.bot_id and installation.bot_refresh_token

    rotator = AsyncTokenRotator(**creds, client=client)
    rotated = await rotator.perform_token_rotation(
        installation=installation, minutes_before_expiration=24 * 60
    )
    assert rotated.bot_token != installation.bot_token
    bot = AsyncWebClient(token=rotated.bot_token, base_url=slack_standin.api_url)
    assert (await bot.auth_test())["bot_id"] == installation.bot_id
