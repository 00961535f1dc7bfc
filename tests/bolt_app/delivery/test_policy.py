import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bolt_app.delivery.policy import Action, AttemptState, DeliveryPolicy, SlackAnswer

FRESH = AttemptState(failures=0)


def policy(**kwargs) -> DeliveryPolicy:
    return DeliveryPolicy(rng=random.Random(7), **kwargs)


def failed(error: str = "", status: int | None = 200, retry_after: float | None = None):
    return SlackAnswer(ok=False, error=error, http_status=status, retry_after=retry_after)


def test_an_accepted_message_is_sent():
    assert policy().decide(SlackAnswer(ok=True, ts="1.2"), FRESH).action is Action.SENT


def test_a_429_waits_retry_after_and_is_not_a_failure():
    decision = policy().decide(failed("ratelimited", 429, retry_after=7), FRESH)
    assert decision.action is Action.RATE_LIMITED
    assert decision.delay == timedelta(seconds=7)


def test_a_429_without_retry_after_waits_the_default():
    decision = policy(default_retry_after=timedelta(seconds=3)).decide(failed("", 429), FRESH)
    assert decision.action is Action.RATE_LIMITED
    assert decision.delay == timedelta(seconds=3)


@pytest.mark.parametrize(
    "answer",
    [
        failed("internal_error", 500),
        failed("", 502),
        failed("service_unavailable", 503),
        failed("fatal_error"),
        failed("internal_error"),
        failed("timeout", None),
        failed("connection_error", None),
    ],
)
def test_server_trouble_and_timeouts_are_retried_with_backoff(answer):
    decision = policy(base_delay=timedelta(seconds=2)).decide(answer, FRESH)
    assert decision.action is Action.RETRY
    assert timedelta(seconds=1) <= decision.delay <= timedelta(seconds=2)


def test_transient_failures_give_up_after_max_failures():
    p = policy(max_failures=3)
    assert p.decide(failed("", 500), AttemptState(failures=1)).action is Action.RETRY
    decision = p.decide(failed("", 500), AttemptState(failures=2))
    assert decision.action is Action.DEAD
    assert "http_500" in decision.reason and "3 attempts" in decision.reason


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "cant_update_message"])
def test_permanent_errors_go_to_dead_letters_with_the_reason(error):
    decision = policy().decide(failed(error), FRESH)
    assert decision.action is Action.DEAD
    assert decision.reason == error


@pytest.mark.parametrize("error", ["msg_too_long", "invalid_blocks"])
def test_content_errors_are_retried_once_as_plain_text_then_dead(error):
    p = policy()
    assert p.decide(failed(error), FRESH).action is Action.RETRY_PLAIN_TEXT
    second = p.decide(failed(error), AttemptState(failures=1, plain_text=True))
    assert second.action is Action.DEAD
    assert error in second.reason


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_an_unusable_token_pauses_the_workspace(error):
    decision = policy(max_delay=timedelta(minutes=15)).decide(failed(error), FRESH)
    assert decision.action is Action.PAUSE_WORKSPACE
    assert decision.reason == error
    assert decision.delay == timedelta(minutes=15)  # asked again only when resumed or much later


def test_not_in_channel_joins_once():
    p = policy()
    assert p.decide(failed("not_in_channel"), FRESH).action is Action.JOIN_THEN_RETRY
    again = p.decide(failed("not_in_channel"), AttemptState(failures=1, join_tried=True))
    assert again.action is Action.DEAD


def test_a_successful_join_resends_at_once():
    decision = policy().decide_join(SlackAnswer(ok=True), FRESH)
    assert decision.action is Action.RETRY
    assert decision.delay == timedelta(0)


def test_a_refused_join_of_a_private_channel_is_dead_with_both_reasons():
    decision = policy().decide_join(failed("method_not_supported_for_channel_type"), FRESH)
    assert decision.action is Action.DEAD
    assert (
        decision.reason
        == "not_in_channel (conversations.join: method_not_supported_for_channel_type)"
    )


def test_a_join_that_hits_server_trouble_is_retried():
    assert policy().decide_join(failed("", 503), FRESH).action is Action.RETRY


@given(failures=st.integers(min_value=1, max_value=200), seed=st.integers())
def test_backoff_grows_with_failures_and_stays_within_bounds(failures, seed):
    p = DeliveryPolicy(
        rng=random.Random(seed), base_delay=timedelta(seconds=1), max_delay=timedelta(minutes=5)
    )
    ceiling = min(timedelta(minutes=5), timedelta(seconds=2 ** min(failures - 1, 32)))
    delay = p.backoff(failures)
    assert ceiling / 2 <= delay <= ceiling


def test_backoff_jitter_comes_from_the_injected_rng():
    a = DeliveryPolicy(rng=random.Random(1)).backoff(4)
    b = DeliveryPolicy(rng=random.Random(1)).backoff(4)
    c = DeliveryPolicy(rng=random.Random(2)).backoff(4)
    assert a == b != c


def test_an_expired_token_is_refreshed_once_then_pauses_the_workspace():
    p = policy()
    assert p.decide(failed("token_expired"), FRESH).action is Action.REFRESH_THEN_RETRY
    again = p.decide(failed("token_expired"), AttemptState(failures=0, token_refreshed=True))
    assert (again.action, again.reason) == (Action.PAUSE_WORKSPACE, "token_expired")
