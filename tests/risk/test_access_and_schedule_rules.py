from datetime import UTC, datetime, timedelta

import pytest

from arbexec.exchange import MarketRules
from arbexec.risk.base import Need
from arbexec.risk.rules import AccessLists, KillSwitch, MarketClose, ParameterError, TradingWindow


def lists(**params):
    return AccessLists.from_params(params)


def test_venue_allow_and_deny(req, ctx):
    assert lists(allow_venues=["paper"]).check(req(), ctx()).allowed
    denied = lists(allow_venues=["kalshi"]).check(req(), ctx())
    assert denied.code == "venue_not_allowed" and denied.figures["allowed"] == "kalshi"
    assert lists(deny_venues=["paper"]).check(req(), ctx()).code == "venue_denied"


def test_markets_match_bare_or_venue_qualified(req, ctx):
    assert lists(allow_markets=["paper:M1"]).check(req(), ctx()).allowed
    assert lists(allow_markets=["M1"]).check(req(), ctx()).allowed
    assert lists(allow_markets=["kalshi:M1"]).check(req(), ctx()).code == "market_not_allowed"
    assert lists(deny_markets=["M1"]).check(req(), ctx()).code == "market_denied"


def test_events_come_from_the_context_or_market_rules(req, ctx):
    r = lists(deny_events=["ELECTION"])
    assert r.needs == {Need.MARKET_RULES}
    assert r.check(req(), ctx(event="ELECTION")).code == "event_denied"
    rules = MarketRules(market="M1", tick_size="0.01", event="ELECTION")
    assert r.check(req(), ctx(market_rules=rules)).code == "event_denied"
    assert r.check(req(), ctx(event="SPORTS")).allowed


def test_an_unknown_event_is_not_on_an_allow_list(req, ctx):
    r = lists(allow_events=["SPORTS"])
    assert r.check(req(), ctx(event="SPORTS")).allowed
    assert r.check(req(), ctx()).code == "event_not_allowed"


def test_lists_must_be_lists():
    with pytest.raises(ParameterError) as caught:
        lists(allow_venues="paper")
    assert caught.value.parameter == "allow_venues"


def window(**params):
    return TradingWindow.from_params(params)


@pytest.mark.parametrize(
    ("clock", "allowed"), [((8, 59), False), ((9, 0), True), ((16, 59), True), ((17, 0), False)]
)
def test_trading_hours_at_the_edges(req, ctx, clock, allowed):
    r = window(start="09:00", end="17:00", timezone="America/New_York", days=["mon", "wed"])
    # Wednesday 18 Nov 2026: New York is UTC-5
    now = datetime(2026, 11, 18, clock[0] + 5, clock[1], tzinfo=UTC)
    verdict = r.check(req(), ctx(now=now))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "outside_trading_window"
        assert verdict.figures["limit"] == "09:00-17:00"


def test_days_outside_the_list_are_closed(req, ctx):
    r = window(days=["Monday", "tue"])
    assert not r.check(req(), ctx()).allowed  # a Wednesday
    assert r.check(req(), ctx(now=datetime(2026, 11, 17, 12, tzinfo=UTC))).allowed


def test_a_window_past_midnight_belongs_to_the_day_it_starts(req, ctx):
    r = window(start="22:00", end="02:00", days=["wed"])
    assert r.check(req(), ctx(now=datetime(2026, 11, 18, 23, tzinfo=UTC))).allowed
    assert r.check(req(), ctx(now=datetime(2026, 11, 19, 1, 59, tzinfo=UTC))).allowed
    assert not r.check(req(), ctx(now=datetime(2026, 11, 19, 2, 0, tzinfo=UTC))).allowed
    assert not r.check(req(), ctx(now=datetime(2026, 11, 18, 1, tzinfo=UTC))).allowed  # Tue night


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"start": "9am"}, "start"), ({"days": ["funday"]}, "days"), ({"days": []}, "days")],
)
def test_window_parameters_are_checked(params, parameter):
    with pytest.raises(ParameterError) as caught:
        window(**params)
    assert caught.value.parameter == parameter


@pytest.mark.parametrize(
    ("left", "code"), [(301, None), (300, "market_closing"), (299, "market_closing"),
                       (0, "market_closed"), (-5, "market_closed")],
)
def test_market_close_below_at_above(req, ctx, now, left, code):
    r = MarketClose.from_params({"min_seconds_before_close": 300})
    rules = MarketRules(market="M1", tick_size="0.01", closes_at=now + timedelta(seconds=left))
    verdict = r.check(req(), ctx(market_rules=rules))
    assert verdict.code == code
    if code == "market_closing":
        assert verdict.figures["limit"] == "300.0"


def test_market_close_accepts_iso_times_and_open_ended_markets(req, ctx):
    r = MarketClose.from_params({"min_seconds_before_close": 60})
    assert r.check(req(), ctx(market_rules=MarketRules(market="M1", tick_size="0.01"))).allowed
    iso = MarketRules(market="M1", tick_size="0.01", closes_at="2026-11-18T15:00:30Z")
    assert r.check(req(), ctx(market_rules=iso)).code == "market_closing"
    assert r.check(req(), ctx()).code == "market_rules_unavailable"


def test_kill_switch(req, ctx):
    r = KillSwitch.from_params({})
    assert r.check(req(), ctx()).allowed
    verdict = r.check(req(side="SELL"), ctx(halted=True))
    assert verdict.code == "halted" and "arbexec resume" in verdict.message
    with pytest.raises(ParameterError):
        KillSwitch.from_params({"enabled": False})
