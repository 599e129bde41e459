from datetime import timedelta

import pytest

from arbexec.model import OrderStatus
from arbexec.risk.base import OrderOutcome
from arbexec.risk.rules import BreakerState, CircuitBreaker, ParameterError

from .conftest import NOW, build_ctx, build_request


def breaker(**params):
    return CircuitBreaker.from_params({"cooldown_seconds": 30, **params})


def outcome(request, status, *, failure=False, venue="paper"):
    return OrderOutcome(venue=venue, market="M1", request=request, status=status,
                        failure=failure)


def fail(rule, at, venue="paper"):
    return rule.observe(
        outcome(build_request(venue=venue), OrderStatus.REJECTED, failure=True, venue=venue), at
    )


def at(seconds):
    return NOW + timedelta(seconds=seconds)


def transitions(events):
    return [(e.data["from"], e.data["to"]) for e in events]


def test_opens_after_n_consecutive_failures_not_before():
    rule = breaker(consecutive_failures=3)
    assert fail(rule, at(0)) == [] and fail(rule, at(1)) == []
    (event,) = fail(rule, at(2))
    assert event.kind == "risk.breaker"
    assert event.data == {"venue": "paper", "from": "closed", "to": "open",
                          "reason": "3 consecutive venue failures"}
    assert event.at == at(2)
    assert rule.state("paper") is BreakerState.OPEN
    assert rule.state("kalshi") is BreakerState.CLOSED


def test_pending_is_not_an_answer():
    rule = breaker(consecutive_failures=2)
    fail(rule, at(0))
    rule.observe(outcome(build_request(), OrderStatus.PENDING), at(1))
    (event,) = fail(rule, at(2))
    assert event.data["to"] == "open"


def test_a_success_resets_the_failure_run():
    rule = breaker(consecutive_failures=2)
    fail(rule, at(0))
    rule.observe(outcome(build_request(), OrderStatus.OPEN), at(1))
    assert fail(rule, at(2)) == []
    assert rule.state("paper") is BreakerState.CLOSED


def test_full_cycle_closed_open_half_open_closed():
    rule = breaker(consecutive_failures=1)
    fail(rule, at(0))
    denied = rule.check(build_request(), build_ctx(now=at(29)))
    assert denied.code == "breaker_open"
    assert denied.figures["retry_in_seconds"] == "1.0"
    other_venue = rule.check(build_request(venue="kalshi"), build_ctx(now=at(29)))
    assert other_venue.allowed

    probe = build_request()
    assert rule.check(probe, build_ctx(now=at(30))).allowed
    assert rule.state("paper") is BreakerState.HALF_OPEN
    second = rule.check(build_request(), build_ctx(now=at(31)))
    assert second.code == "breaker_half_open" and second.figures["probe"] == probe.request_id

    events = rule.observe(outcome(probe, OrderStatus.OPEN), at(32))
    assert transitions(events) == [("open", "half_open"), ("half_open", "closed")]
    assert events[0].at == at(30) and events[0].request_id == probe.request_id
    assert events[1].data["reason"] == "probe order succeeded"
    assert rule.check(build_request(), build_ctx(now=at(33))).allowed


def test_a_failed_probe_opens_the_breaker_again():
    rule = breaker(consecutive_failures=5)
    for second in range(5):
        fail(rule, at(second))
    probe = build_request()
    assert rule.check(probe, build_ctx(now=at(40))).allowed
    events = rule.observe(outcome(probe, OrderStatus.UNKNOWN, failure=True), at(41))
    assert transitions(events) == [("open", "half_open"), ("half_open", "open")]
    assert rule.check(build_request(), build_ctx(now=at(70))).code == "breaker_open"
    assert rule.check(build_request(), build_ctx(now=at(71))).allowed  # the next probe


def test_a_rejected_probe_counts_as_failed():
    rule = breaker(consecutive_failures=1)
    fail(rule, at(0))
    probe = build_request()
    rule.check(probe, build_ctx(now=at(30)))
    events = rule.observe(outcome(probe, OrderStatus.REJECTED), at(31))
    assert transitions(events)[-1] == ("half_open", "open")


def test_a_probe_that_was_never_sent_frees_its_slot():
    rule = breaker(consecutive_failures=1)
    fail(rule, at(0))
    probe = build_request()
    rule.check(probe, build_ctx(now=at(30)))
    rule.release(probe)  # the ledger refused it
    denied_probe = build_request()
    assert rule.check(denied_probe, build_ctx(now=at(31))).allowed
    rule.observe(outcome(denied_probe, OrderStatus.DENIED), at(32))  # a later rule refused it
    assert rule.check(build_request(), build_ctx(now=at(33))).allowed
    assert rule.state("paper") is BreakerState.HALF_OPEN


def test_a_probe_that_never_reports_is_replaced_after_a_cooldown():
    rule = breaker(consecutive_failures=1)
    fail(rule, at(0))
    rule.check(build_request(), build_ctx(now=at(30)))
    assert not rule.check(build_request(), build_ctx(now=at(59))).allowed
    assert rule.check(build_request(), build_ctx(now=at(60))).allowed


def test_preview_lets_no_probe_through():
    rule = breaker(consecutive_failures=1)
    fail(rule, at(0))
    assert rule.preview(build_request(), build_ctx(now=at(30))).allowed
    assert rule.state("paper") is BreakerState.OPEN
    assert rule.drain_events() == []


def test_reject_rate_over_the_window():
    rule = breaker(max_reject_rate="0.5", min_orders=4, window_seconds=60)
    answers = [OrderStatus.REJECTED, OrderStatus.OPEN, OrderStatus.REJECTED]
    for second, status in enumerate(answers):
        assert rule.observe(outcome(build_request(), status), at(second)) == []
    # 2 of 4 is exactly the bound: still closed
    assert rule.observe(outcome(build_request(), OrderStatus.FILLED), at(3)) == []
    (event,) = rule.observe(outcome(build_request(), OrderStatus.REJECTED), at(4))
    assert event.data["to"] == "open"
    assert event.data["reason"] == "3 of the last 5 orders rejected, a rate above 0.5"


def test_old_rejects_leave_the_window():
    rule = breaker(max_reject_rate="0.5", min_orders=2, window_seconds=10)
    rule.observe(outcome(build_request(), OrderStatus.REJECTED), at(0))
    rule.observe(outcome(build_request(), OrderStatus.OPEN), at(1))
    assert rule.observe(outcome(build_request(), OrderStatus.REJECTED), at(20)) == []
    assert rule.state("paper") is BreakerState.CLOSED


def test_one_order_counts_once_in_the_window():
    rule = breaker(max_reject_rate="0.4", min_orders=2)
    request = build_request()
    rule.observe(outcome(request, OrderStatus.OPEN), at(0))
    rule.observe(outcome(request, OrderStatus.PARTIALLY_FILLED), at(1))
    rule.observe(outcome(request, OrderStatus.FILLED), at(2))
    (event,) = rule.observe(outcome(build_request(), OrderStatus.REJECTED), at(3))
    assert "1 of the last 2" in event.data["reason"]


def test_unknown_orders_over_the_threshold():
    rule = breaker(max_unknown=2)
    first, second, third = build_request(), build_request(), build_request()
    rule.observe(outcome(first, OrderStatus.UNKNOWN, failure=True), at(0))
    rule.observe(outcome(second, OrderStatus.UNKNOWN, failure=True), at(1))
    rule.observe(outcome(first, OrderStatus.FILLED), at(2))  # resolved
    assert rule.observe(outcome(third, OrderStatus.UNKNOWN, failure=True), at(3)) == []
    (event,) = rule.observe(outcome(build_request(), OrderStatus.UNKNOWN, failure=True), at(4))
    assert event.data["reason"] == "3 orders UNKNOWN, more than 2"


def test_venues_are_independent():
    rule = breaker(consecutive_failures=1)
    fail(rule, at(0), venue="kalshi")
    assert rule.state("kalshi") is BreakerState.OPEN
    assert rule.check(build_request(), build_ctx(now=at(1))).allowed


def test_a_breaker_needs_a_trigger():
    with pytest.raises(ParameterError, match="at least one"):
        CircuitBreaker.from_params({})
    with pytest.raises(ParameterError) as caught:
        breaker(max_reject_rate=1.5)
    assert caught.value.parameter == "max_reject_rate"
