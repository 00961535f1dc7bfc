from datetime import UTC, datetime, timedelta

from bolt_app.delivery.outbox import DeliveryStatus
from bolt_app.delivery.policy import Action, Decision
from bolt_app.delivery.transitions import settle

AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_a_sent_message_moves_the_channel_clock_one_interval_past_the_answer():
    s = settle(Decision(Action.SENT), answered_at=AT, interval=SECOND)
    assert s.status is DeliveryStatus.SENT and not s.failed
    assert s.channel_next_send_at == AT + SECOND


def test_a_rate_limit_pauses_the_channel_and_keeps_the_message_pending_without_a_failure():
    s = settle(
        Decision(Action.RATE_LIMITED, "ratelimited", timedelta(seconds=30)),
        answered_at=AT,
        interval=SECOND,
    )
    assert s.status is DeliveryStatus.PENDING and not s.failed
    assert s.channel_paused_until == s.channel_next_send_at == s.next_attempt_at
    assert s.next_attempt_at == AT + timedelta(seconds=30)


def test_a_rate_limit_shorter_than_the_interval_still_keeps_the_pacing():
    s = settle(
        Decision(Action.RATE_LIMITED, "ratelimited", timedelta(0)), answered_at=AT, interval=SECOND
    )
    assert s.channel_next_send_at == AT + SECOND


def test_a_retry_is_a_failure_due_after_the_delay():
    s = settle(
        Decision(Action.RETRY, "http_500", timedelta(seconds=4)), answered_at=AT, interval=SECOND
    )
    assert s.status is DeliveryStatus.FAILED and s.failed
    assert s.next_attempt_at == AT + timedelta(seconds=4)
    assert s.last_error == "http_500"
    assert s.plain_text is None


def test_the_plain_text_retry_is_flagged_on_the_row():
    s = settle(Decision(Action.RETRY_PLAIN_TEXT, "invalid_blocks"), answered_at=AT, interval=SECOND)
    assert s.status is DeliveryStatus.FAILED and s.plain_text is True
    assert s.next_attempt_at == AT


def test_dead_letters_keep_their_reason():
    s = settle(Decision(Action.DEAD, "channel_not_found"), answered_at=AT, interval=SECOND)
    assert s.status is DeliveryStatus.DEAD and s.failed
    assert s.last_error == "channel_not_found"


def test_a_workspace_pause_keeps_the_message_pending_and_names_the_reason():
    s = settle(Decision(Action.PAUSE_WORKSPACE, "token_revoked"), answered_at=AT, interval=SECOND)
    assert s.status is DeliveryStatus.PENDING and not s.failed
    assert s.pause_workspace_reason == "token_revoked"
