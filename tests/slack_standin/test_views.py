"""views.publish for the App Home and views.open/push/update for modals."""

from tests.fixtures.slack import ADMIN_USER, MEMBER_USER, TEAM_ID
from tests.slack_standin.support import section, slack_error


async def test_home_view_is_stored_per_user_and_limited(slack_standin, slack_client):
    home = {"type": "home", "blocks": [section("Routes")]}
    first = await slack_client.views_publish(user_id=ADMIN_USER, view=home)
    second = await slack_client.views_publish(
        user_id=ADMIN_USER, view={**home, "blocks": [section("v2")]}
    )
    assert first["view"]["id"] == second["view"]["id"]
    assert slack_standin.home_view(ADMIN_USER)["blocks"] == [section("v2")]
    assert slack_standin.home_view(MEMBER_USER) is None

    raised = await slack_error(
        slack_client.views_publish(
            user_id=ADMIN_USER, view={"type": "home", "blocks": [section("x")] * 101}
        )
    )
    assert raised.response["error"] == "invalid_arguments"
    assert slack_standin.home_view(ADMIN_USER)["blocks"] == [section("v2")]


async def test_modals_open_push_update(slack_standin, slack_client):
    def modal(title: str, n: int = 1) -> dict:
        return {
            "type": "modal",
            "title": {"type": "plain_text", "text": title},
            "blocks": [section("d")] * n,
        }

    opened = await slack_client.views_open(trigger_id="1.2.abc", view=modal("Details"))
    await slack_client.views_push(trigger_id="1.3.abc", view=modal("More"))
    updated = await slack_client.views_update(
        view_id=opened["view"]["id"], view=modal("Details v2")
    )
    assert updated["view"]["title"]["text"] == "Details v2"
    assert [v["title"]["text"] for v in slack_standin.modal_stack(TEAM_ID)] == [
        "Details v2",
        "More",
    ]

    for view in (modal("Too many", 101), modal("A title longer than 24 chars")):
        raised = await slack_error(slack_client.views_open(trigger_id="1.4.abc", view=view))
        assert raised.response["error"] == "invalid_arguments"
    raised = await slack_error(slack_client.views_update(view_id="V0NOSUCH", view=modal("x")))
    assert raised.response["error"] == "not_found"
