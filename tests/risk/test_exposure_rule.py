from decimal import Decimal

import pytest

from arbexec.exchange import MarketRules
from arbexec.model import Position
from arbexec.risk.base import ClaimKind, Need
from arbexec.risk.rules import MaxExposure, ParameterError


def rule(**params):
    return MaxExposure.from_params(params)


@pytest.mark.parametrize(
    ("held", "allowed"), [("94", True), ("95", True), ("96", False)]
)
def test_total_below_at_above(req, ctx, held, allowed):
    # the order risks 10 x 0.50 = 5; the limit is 100
    verdict = rule(max_total=100).check(req(), ctx(exposure={"total": Decimal(held)}))
    assert verdict.allowed is allowed
    if allowed:
        (claim,) = verdict.claims
        assert (claim.key, claim.amount, claim.limit) == ("total", Decimal("5.00"), Decimal(100))
        assert claim.rule == "max_exposure" and claim.code == "exposure_total"
    else:
        assert verdict.code == "exposure_total"
        assert verdict.figures == {
            "limit": "100", "actual": "101.00", "current": "96", "requested": "5.00",
            "key": "total",
        }
        assert verdict.claims == ()


def test_no_buy_risks_quantity_times_its_own_price(req, ctx):
    verdict = rule(max_per_market=10).check(
        req(outcome="NO", limit_price="0.30", quantity="20"), ctx()
    )
    assert verdict.claims[0].amount == Decimal("6.00")


def test_a_sell_of_held_contracts_adds_no_risk_and_holds_only_the_contracts(req, ctx):
    held = (Position(venue="paper", market="M1", outcome="YES", quantity="1000"),)
    verdict = rule(max_total=1).check(req(side="SELL", quantity="1000"), ctx(positions=held))
    assert verdict.allowed
    (claim,) = verdict.claims
    assert (claim.key, claim.amount, claim.limit, claim.kind) == (
        "position:paper:M1:YES", Decimal(1000), Decimal(1000), ClaimKind.HOLD)


def test_every_scope_claims_under_its_key(req, ctx):
    r = rule(max_total=1000, max_per_venue=500, max_per_event=200, max_per_market=100)
    verdict = r.check(req(), ctx(event="E7"))
    assert [c.key for c in verdict.claims] == [
        "total", "venue:paper", "event:paper:E7", "market:paper:M1",
    ]
    assert [c.limit for c in verdict.claims] == [1000, 500, 200, 100]
    assert r.needs == {Need.MARKET_RULES, Need.POSITIONS}


@pytest.mark.parametrize(
    ("scope", "params", "key"),
    [
        ("venue", {"max_per_venue": 50}, "venue:paper"),
        ("event", {"max_per_event": 50}, "event:paper:E7"),
        ("market", {"max_per_market": 50}, "market:paper:M1"),
    ],
)
def test_each_scope_denies_above_its_limit(req, ctx, scope, params, key):
    r = rule(**params)
    assert r.check(req(), ctx(event="E7", exposure={key: Decimal(45)})).allowed
    denied = r.check(req(), ctx(event="E7", exposure={key: Decimal("45.01")}))
    assert denied.code == f"exposure_{scope}"
    assert denied.figures["key"] == key


def test_event_comes_from_market_rules_when_the_context_has_none(req, ctx):
    rules = MarketRules(market="M1", tick_size="0.01", event="ELECTION")
    verdict = rule(max_per_event=50).check(req(), ctx(market_rules=rules))
    assert verdict.claims[0].key == "event:paper:ELECTION"


def test_a_market_without_an_event_is_its_own_event(req, ctx):
    verdict = rule(max_per_event=50).check(req(), ctx())
    assert verdict.claims[0].key == "event:paper:M1"


def test_a_rule_that_limits_nothing_is_refused():
    with pytest.raises(ParameterError, match="at least one"):
        rule()
