"""Policy: order, first denial, claims, needs, observers, explain."""

from datetime import timedelta
from decimal import Decimal

from arbexec.model import OrderStatus
from arbexec.risk.base import Need, OrderOutcome, Verdict
from arbexec.risk.policy import Policy
from arbexec.risk.rules import (
    CircuitBreaker,
    DailyLossLimit,
    KillSwitch,
    MaxExposure,
    OrderSize,
    StaleQuote,
)


class Exploding:
    name = "exploding"
    needs = frozenset()

    def check(self, request, ctx):
        raise RuntimeError("bug in a plugin rule")


class Recording:
    """Records the requests it sees; always allows."""

    name = "recording"
    needs = frozenset({Need.POSITIONS})

    def __init__(self):
        self.seen = []

    def check(self, request, ctx):
        self.seen.append(request.request_id)
        return Verdict.allow(self.name)


def test_rules_run_in_order_and_claims_are_collected(req, ctx):
    recording = Recording()
    policy = Policy([
        OrderSize.from_params({"max_quantity": 100}),
        recording,
        MaxExposure.from_params({"max_total": 1000, "max_per_market": 50}),
    ])
    decision = policy.evaluate(req(), ctx())
    assert decision.allowed and decision.verdict is None and decision.code is None
    assert [v.rule for v in decision.verdicts] == ["order_size", "recording", "max_exposure"]
    assert [c.key for c in decision.claims] == ["total", "market:paper:M1"]
    assert len(recording.seen) == 1


def test_the_first_denial_stops_the_run_and_claims_nothing(req, ctx):
    recording = Recording()
    policy = Policy([
        MaxExposure.from_params({"max_total": 1000}),
        OrderSize.from_params({"max_quantity": 5}),
        recording,
    ])
    decision = policy.evaluate(req(quantity="6"), ctx())
    assert not decision.allowed
    assert decision.code == "quantity_above_max"
    assert decision.verdict.figures == {"limit": "5", "actual": "6"}
    assert decision.claims == ()
    assert [v.rule for v in decision.verdicts] == ["max_exposure", "order_size"]
    assert recording.seen == []


def test_a_rule_that_raises_denies(req, ctx):
    decision = Policy([Exploding()]).evaluate(req(), ctx())
    assert decision.code == "rule_error"
    assert "bug in a plugin rule" in decision.message


def test_needs_are_the_union_and_observers_the_stateful_rules():
    breaker = CircuitBreaker.from_params({"consecutive_failures": 3})
    daily = DailyLossLimit.from_params({"max_loss": 10})
    policy = Policy([KillSwitch.from_params({}), StaleQuote.from_params({}), Recording(),
                     breaker, daily])
    assert policy.needs == {Need.BOOK, Need.POSITIONS}
    assert policy.observers == (breaker, daily)
    assert policy.names == ("kill_switch", "stale_quote", "recording", "circuit_breaker",
                            "daily_loss")
    assert "kill_switch" in repr(policy)


def test_explain_reports_every_rule_without_stopping(req, ctx):
    policy = Policy([
        KillSwitch.from_params({}),
        OrderSize.from_params({"max_quantity": 5}),
        MaxExposure.from_params({"max_total": 1000}),
        StaleQuote.from_params({}),
        Exploding(),
    ])
    decision = policy.explain(req(quantity="6"), ctx(halted=True))
    assert not decision.allowed
    assert [(v.rule, v.allowed, v.code) for v in decision.verdicts] == [
        ("kill_switch", False, "halted"),
        ("order_size", False, "quantity_above_max"),
        ("max_exposure", True, None),
        ("stale_quote", False, "book_unavailable"),
        ("exploding", False, "rule_error"),
    ]
    assert decision.verdict.code == "halted"  # what evaluate would have reported
    assert [c.key for c in decision.claims] == ["total"]


def test_explain_changes_no_state(req, ctx, now):
    breaker = CircuitBreaker.from_params({"consecutive_failures": 1, "cooldown_seconds": 10})
    breaker.observe(OrderOutcome(venue="paper", market="M1", request=None,
                                 status=OrderStatus.REJECTED, failure=True), now)
    policy = Policy([breaker])
    later = ctx(now=now + timedelta(seconds=10))
    assert policy.explain(req(), later).allowed
    assert policy.explain(req(), later).allowed  # still the probe slot: nothing was taken
    assert policy.evaluate(req(), later).allowed
    assert policy.evaluate(req(), later).code == "breaker_half_open"


def test_a_denial_after_a_probe_releases_the_probe(req, ctx, now):
    breaker = CircuitBreaker.from_params({"consecutive_failures": 1, "cooldown_seconds": 10})
    breaker.observe(OrderOutcome(venue="paper", market="M1", request=None,
                                 status=OrderStatus.REJECTED, failure=True), now)
    policy = Policy([breaker, OrderSize.from_params({"max_quantity": 5})])
    later = ctx(now=now + timedelta(seconds=10))
    assert policy.evaluate(req(quantity="6"), later).code == "quantity_above_max"
    allowed = req(quantity="1")
    assert policy.evaluate(allowed, later).allowed  # the probe slot was freed
    policy.release(allowed)  # e.g. the ledger refused the claims
    assert policy.evaluate(req(quantity="1"), later).allowed
    events = policy.drain_events()
    assert [(e.data["from"], e.data["to"]) for e in events] == [("open", "half_open")]


def test_daily_loss_observer_through_the_policy(req, ctx, now):
    policy = Policy([DailyLossLimit.from_params({"max_loss": "10"})])
    (observer,) = policy.observers
    events = observer.observe(
        OrderOutcome(venue="paper", market="M1", request=None, status=OrderStatus.FILLED,
                     realised_pnl=Decimal("-10"), fees=Decimal("0.5")), now)
    assert [e.kind for e in events] == ["risk.daily_loss"]
    assert policy.evaluate(req(), ctx()).code == "daily_loss_limit"
