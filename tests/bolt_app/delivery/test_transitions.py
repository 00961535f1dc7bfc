from datetime import UTC, datetime, timedelta

from bolt_app.delivery.outbox import DeliveryStatus
from bolt_app.delivery.policy import Action, Decision
from bolt_app.delivery.transitions import settle

AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
SLOW = timedelta(milliseconds=100)  # how long Slack took to answer


def test_a_sent_message_moves_the_channel_clock_one_interval_past_the_request_not_the_answer():
    s = settle(Decision(Action.SENT), requested_at=AT, answered_at=AT + SLOW, interval=SECOND)
    assert s.status is DeliveryStatus.SENT and not s.failed
    assert s.channel_next_send_at == AT + SECOND


def test_a_call_that_timed_out_still_holds_the_channel_one_interval_past_its_request():
    s = settle(
        Decision(Action.RETRY, "timeout", timedelta(seconds=2)),
        requested_at=AT,
        answered_at=AT + 5 * SECOND,
        interval=SECOND,
    )
    assert s.channel_next_send_at == AT + SECOND
    assert s.next_attempt_at == AT + 7 * SECOND  # the retry waits from when it gave up


def test_a_rate_limit_pauses_the_channel_from_the_answer_and_keeps_the_message_pending():
    s = settle(
        Decision(Action.RATE_LIMITED, "ratelimited", timedelta(seconds=30)),
        requested_at=AT,
        answered_at=AT + SLOW,
        interval=SECOND,
    )
    assert s.status is DeliveryStatus.PENDING and not s.failed
    assert s.channel_paused_until == s.channel_next_send_at == s.next_attempt_at
    assert s.next_attempt_at == AT + SLOW + timedelta(seconds=30)  # Slack said so then


def test_a_rate_limit_shorter_than_the_interval_still_keeps_the_pacing():
    s = settle(
        Decision(Action.RATE_LIMITED, "ratelimited", timedelta(0)),
        requested_at=AT,
        answered_at=AT + SLOW,
        interval=SECOND,
    )
    assert s.channel_next_send_at == AT + SECOND


def test_a_retry_is_a_failure_due_after_the_delay_from_the_answer():
    s = settle(
        Decision(Action.RETRY, "http_500", timedelta(seconds=4)),
        requested_at=AT - SLOW,
        answered_at=AT,
        interval=SECOND,
    )
    assert s.status is DeliveryStatus.FAILED and s.failed
    assert s.next_attempt_at == AT + timedelta(seconds=4)
    assert s.last_error == "http_500"
    assert s.plain_text is None


def test_the_plain_text_retry_is_flagged_on_the_row():
    s = settle(
        Decision(Action.RETRY_PLAIN_TEXT, "invalid_blocks"),
        requested_at=AT - SLOW,
        answered_at=AT,
        interval=SECOND,
    )
    assert s.status is DeliveryStatus.FAILED and s.plain_text is True
    assert s.next_attempt_at == AT


def test_dead_letters_keep_their_reason():
    s = settle(
        Decision(Action.DEAD, "channel_not_found"),
        requested_at=AT - SLOW,
        answered_at=AT,
        interval=SECOND,
    )
    assert s.status is DeliveryStatus.DEAD and s.failed
    assert s.last_error == "channel_not_found"
    assert s.channel_next_send_at == AT - SLOW + SECOND


def test_a_workspace_pause_keeps_the_message_pending_and_names_the_reason():
    s = settle(
        Decision(Action.PAUSE_WORKSPACE, "token_revoked", timedelta(minutes=15)),
        requested_at=AT - SLOW,
        answered_at=AT,
        interval=SECOND,
    )
    assert s.status is DeliveryStatus.PENDING and not s.failed
    assert s.pause_workspace_reason == "token_revoked"
    assert s.next_attempt_at == AT + timedelta(minutes=15)
