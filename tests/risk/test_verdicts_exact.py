"""Every money rule's verdicts in full: code, message, figures and claims. A trader reads the
message and the figures to act on a denial, and the engine reserves exactly the claims, so
each is pinned down, not only the allowed flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from arbexec.model import Balance, OrderStatus, Position
from arbexec.risk.base import Claim, ClaimKind, OrderOutcome, RiskContext, VenueHealth, Verdict
from arbexec.risk.rules import (
    AvailableBalance,
    DailyLossLimit,
    MaxExposure,
    MaxOpenOrders,
    MinEdge,
    OrderRate,
)
from arbexec.risk.rules.common import position_key, split_sell
from tests.risk.conftest import NOW, build_ctx, build_request

D = Decimal
YES_10 = (Position(venue="paper", market="M1", outcome="YES", quantity="10"),)


def hold(key: str, amount: str, limit: str, rule: str, code: str) -> Claim:
    return Claim(key=key, amount=D(amount), limit=D(limit), rule=rule, code=code,
                 kind=ClaimKind.HOLD)


# ------------------------------------------------------------------ sells


def test_a_sell_beyond_the_position_is_refused_in_full() -> None:
    rule = MaxExposure.from_params({"max_total": 100})
    sell = build_request(side="SELL", quantity="25")
    verdict = rule.check(sell, build_ctx(positions=YES_10, exposure={
        "position:paper:M1:YES": D(4)}))
    assert verdict == Verdict.deny(
        "max_exposure", "sell_exceeds_position",
        "the sell of 25 YES on paper M1 exceeds the 6 held (and not promised to other "
        "sells); it would open 19 NO contracts; tag it allow_open=true to open deliberately",
        limit=6, actual=25, opening=19)


def test_the_split_of_a_sell() -> None:
    sell = build_request(side="SELL", quantity="8")
    split = split_sell(sell, build_ctx(positions=YES_10, exposure={
        "position:paper:M1:YES": D(3)}), "r")
    assert (split.held, split.closing, split.opening) == (D(7), D(7), D(1))
    assert split.claim == hold("position:paper:M1:YES", "7", "10", "r",
                               "sell_exceeds_position")
    assert position_key(sell) == "position:paper:M1:YES"
    # a position reported without a venue counts (a single-venue plugin may leave it out)
    bare = (Position(venue="", market="M1", outcome="YES", quantity="10"),)
    assert split_sell(sell, build_ctx(positions=bare), "r").opening == 0
    # negative positions (a short reported as such) hold nothing to sell
    short = (Position(venue="paper", market="M1", outcome="YES", quantity="-5"),)
    split = split_sell(sell, build_ctx(positions=short), "r")
    assert (split.held, split.opening, split.claim.limit) == (D(0), D(8), D(0))


def test_a_closing_sell_holds_its_contracts_in_every_money_rule() -> None:
    sell = build_request(side="SELL", quantity="10")
    cash = Balance(venue="paper", total="5", available="5")
    ctx = build_ctx(positions=YES_10, balance=cash)
    for rule in (MaxExposure.from_params({"max_total": 1}), AvailableBalance.from_params({}),
                 DailyLossLimit.from_params({"max_loss": 1})):
        verdict = rule.check(sell, ctx)
        assert verdict == Verdict(rule=rule.name, allowed=True, claims=(
            hold("position:paper:M1:YES", "10", "10", rule.name, "sell_exceeds_position"),))


def test_an_opening_sell_claims_every_exposure_scope_at_one_minus_p() -> None:
    rule = MaxExposure.from_params({"max_total": 100, "max_per_market": 50})
    sell = build_request(side="SELL", quantity="30", limit_price="0.40",
                         tags={"allow_open": True})
    verdict = rule.check(sell, build_ctx(positions=YES_10))
    assert verdict.claims == (
        hold("position:paper:M1:YES", "10", "10", "max_exposure", "sell_exceeds_position"),
        Claim(key="total", amount=D("12.00"), limit=D(100), rule="max_exposure",
              code="exposure_total"),
        Claim(key="market:paper:M1", amount=D("12.00"), limit=D(50), rule="max_exposure",
              code="exposure_market"),
    )
    denied = rule.check(sell, build_ctx(positions=YES_10, exposure={"total": D(90)}))
    assert denied == Verdict.deny(
        "max_exposure", "exposure_total",
        "total exposure would be 102.00 (90 held or reserved + 12.00 for this order) under "
        "total, above the limit of 100",
        limit=100, actual="102.00", current=90, requested="12.00", key="total")


# ------------------------------------------------------------------ cash


def test_the_cash_claim_and_denial_in_full() -> None:
    rule = AvailableBalance.from_params({"include_fees": False, "reserve": "1"})
    cash = Balance(venue="paper", total="20", available="12")
    ctx = build_ctx(balance=cash, reserved_on_venue=D(6))
    verdict = rule.check(build_request(), ctx)  # 5.00
    # room: min(12 + 6, 20) - 1 = 17
    assert verdict == Verdict(rule="available_balance", allowed=True, claims=(
        hold("cash:paper", "5.00", "17", "available_balance", "insufficient_balance"),))
    promised = build_ctx(balance=cash, reserved_on_venue=D(6),
                         exposure={"cash:paper": D(13)})
    denied = rule.check(build_request(), promised)
    assert denied == Verdict.deny(
        "available_balance", "insufficient_balance",
        "the order needs 5.00 but 12 is free on paper after 6 held by resting orders and a "
        "reserve of 1, and 13 of it is promised to this engine's orders in flight",
        limit=4, actual="5.00", free=12, reserved=6, reserve=1, promised=13)
    plain = AvailableBalance.from_params({"include_fees": False})
    short = plain.check(build_request(), build_ctx(balance=Balance(
        venue="paper", total="4", available="4")))
    assert short == Verdict.deny(
        "available_balance", "insufficient_balance",
        "the order needs 5.00 but 4 is free on paper after 0 held by resting orders",
        limit=4, actual="5.00", free=4, reserved=0, reserve=0, promised=0)
    assert plain.check(build_request(), build_ctx()) == Verdict.deny(
        "available_balance", "balance_unavailable", "the balance on paper is not known")


def test_an_opening_sell_needs_collateral_plus_the_fee() -> None:
    rule = AvailableBalance.from_params({})
    sell = build_request(side="SELL", quantity="20", limit_price="0.40",
                         tags={"allow_open": True})

    def fee(_m: str, p: Decimal, q: Decimal, _l: object) -> Decimal:
        return q * D("0.01")

    ctx = build_ctx(positions=YES_10, fee=fee,
                    balance=Balance(venue="paper", total="100", available="100"))
    verdict = rule.check(sell, ctx)
    assert verdict.claims[1] == hold("cash:paper", "6.20", "100", "available_balance",
                                     "insufficient_balance")  # 10 x 0.60 + 0.20 fee


# ------------------------------------------------------------------ counts and rates


def test_open_order_claims_and_denials_in_full() -> None:
    rule = MaxOpenOrders.from_params({"per_market": 3, "total": 5})
    verdict = rule.check(build_request(), build_ctx())
    assert verdict == Verdict(rule="max_open_orders", allowed=True, claims=(
        hold("open_orders:market:paper:M1", "1", "3", "max_open_orders", "open_orders_market"),
        hold("open_orders:total", "1", "5", "max_open_orders", "open_orders_total"),
    ))
    assert rule.check(build_request(), build_ctx(open_orders_market=3)) == Verdict.deny(
        "max_open_orders", "open_orders_market",
        "3 orders are already open on M1; the limit is 3", limit=3, actual=4)
    assert rule.check(build_request(), build_ctx(open_orders_total=5)) == Verdict.deny(
        "max_open_orders", "open_orders_total",
        "5 orders are already open; the limit is 5", limit=5, actual=6)


def test_rate_denials_in_full() -> None:
    rule = OrderRate.from_params({"per_second": 5, "per_minute": 12})
    busy = build_ctx(health=VenueHealth(orders_last_second=5, orders_last_minute=5))
    assert rule.check(build_request(), busy) == Verdict.deny(
        "order_rate", "rate_per_second",
        "5 orders went to paper in the last second; the limit is 5", limit=5, actual=6)
    minute = build_ctx(health=VenueHealth(orders_last_second=1, orders_last_minute=12))
    assert rule.check(build_request(), minute) == Verdict.deny(
        "order_rate", "rate_per_minute",
        "12 orders went to paper in the last minute; the limit is 12", limit=12, actual=13)
    (claim,) = OrderRate.from_params({"per_minute": 12}).check(build_request(), build_ctx()).claims
    assert claim == Claim(key="rate:paper:60s", amount=D(1), limit=D(12), rule="order_rate",
                          code="rate_per_minute", kind=ClaimKind.WINDOW, window_seconds=60.0)


# ------------------------------------------------------------------ edge


def fee_of(rate: str):
    def fee(_m: str, p: Decimal, q: Decimal, _l: object) -> Decimal:
        return D(rate) * q
    return fee


def test_edge_denials_in_full() -> None:
    each = MinEdge.from_params({"min_edge": "0.05"})
    ctx = build_ctx(fee=fee_of("0.01"))
    buy = build_request(limit_price="0.50", expected_value="0.55")  # 0.05 - 0.01 fee each
    assert each.check(buy, ctx) == Verdict.deny(
        "min_edge", "edge_below_min",
        "edge after fees is 0.0400 per contract, below the minimum of 0.05",
        limit="0.05", actual="0.0400", fees="0.10")
    total = MinEdge.from_params({"min_edge_total": "1"})
    assert total.check(buy, ctx) == Verdict.deny(
        "min_edge", "edge_below_min",
        "edge after 0.10 fees is 0.40 for the order, below the minimum of 1",
        limit=1, actual="0.40", fees="0.10")
    assert MinEdge.from_params({"min_edge": 0, "require_expected_value": True}).check(
        build_request(), ctx) == Verdict.deny(
        "min_edge", "no_expected_value",
        "the request carries no expected_value to judge its edge")


def test_the_pair_edge_is_locked_in_by_both_prices_and_fees() -> None:
    rule = MinEdge.from_params({"min_edge": "0.05"})
    yes = build_request(venue="kalshi", outcome="YES", limit_price="0.40", quantity="10")
    no = build_request(venue="polymarket", outcome="NO", limit_price="0.50", quantity="12")
    ctx = build_ctx(fee=fee_of("0.01"))
    # matched 10: 10 - 4.00 - 6.00 - (0.10 + 0.12) = -0.22
    assert rule.check_pair(yes, no, ctx, ctx) == Verdict.deny(
        "min_edge", "edge_below_min",
        "edge after fees is -0.0220 per contract, below the minimum of 0.05",
        limit="0.05", actual="-0.0220", fees="0.22")
    cheap = build_request(venue="polymarket", outcome="NO", limit_price="0.40",
                          quantity="10")
    assert rule.check_pair(yes, cheap, ctx, ctx).allowed  # 0.20 - 0.02 = 0.18 each
    for first, second in ((yes, yes), (yes, build_request(side="SELL", outcome="NO")),
                          (build_request(side="SELL"), cheap)):
        assert rule.check_pair(first, second, ctx, ctx) == Verdict.deny(
            "min_edge", "not_a_pair",
            "an arbitrage pair buys opposite outcomes (YES on one leg, NO on the other)")


# ------------------------------------------------------------------ daily loss


def loss(pnl: str) -> OrderOutcome:
    return OrderOutcome(venue="paper", market="M1", request=None, status=OrderStatus.FILLED,
                        realised_pnl=D(pnl))


def test_the_daily_loss_denial_and_its_events_in_full() -> None:
    rule = DailyLossLimit.from_params({"max_loss": 100, "timezone": "America/New_York"})
    (event,) = rule.observe(loss("-100"), NOW)
    assert event.kind == "risk.daily_loss" and event.at == NOW
    assert event.data == {"from": "active", "to": "halted",
                          "reason": "realised loss today reached the limit", "loss": "100",
                          "limit": "100", "day": "2026-11-18",
                          "timezone": "America/New_York"}
    assert rule.day_pnl == D(-100)
    denied = rule.check(build_request(), build_ctx(now=NOW))
    assert denied == Verdict.deny(
        "daily_loss", "daily_loss_limit",
        "realised loss today is 100 (fees included), at or above the daily limit of 100; "
        "no new risk until midnight America/New_York", limit=100, actual=100)
    later = NOW + timedelta(days=1)
    (resumed,) = rule.observe(loss("0"), later)
    assert resumed.data["reason"] == "a new trading day began"
    assert (resumed.data["from"], resumed.data["to"]) == ("halted", "active")
    assert resumed.at == later
    assert rule.day_pnl == 0


def test_a_halt_found_by_check_is_reported_with_its_reason() -> None:
    rule = DailyLossLimit.from_params({"max_loss": 100})
    assert not rule.check(build_request(), build_ctx(daily_realised_pnl=D(-150))).allowed
    (event,) = rule.observe(loss("0"), NOW)
    assert event.data["reason"] == "the engine's realised loss today reached the limit"
    assert event.data["loss"] == "150" and event.at == NOW


def test_the_trading_day_starts_at_local_midnight_inclusive() -> None:
    rule = DailyLossLimit.from_params({"max_loss": 100, "timezone": "America/New_York"})
    start, end = rule.day_bounds(NOW)
    assert start == datetime(2026, 11, 18, 5, 0, tzinfo=UTC)  # midnight in New York
    assert end - start == timedelta(days=1)
    rule.observe(loss("-100"), start)  # at the very first instant of the day
    assert not rule.check(build_request(), build_ctx(now=start)).allowed
    assert rule.check(build_request(), build_ctx(now=end)).allowed


def test_a_sell_check_never_trips_the_rule() -> None:
    rule = DailyLossLimit.from_params({"max_loss": 100})
    refused = rule.check(build_request(side="SELL"), build_ctx(daily_realised_pnl=D(-150)))
    assert refused.code == "sell_exceeds_position"
    assert rule.observe(loss("0"), NOW) == []  # no halt was journaled for it
    assert rule.check(build_request(), build_ctx(daily_realised_pnl=D(-150))).code == \
        "daily_loss_limit"


def test_context_defaults_are_safe() -> None:
    ctx = RiskContext(now=NOW, venue="paper", exposure=lambda _k: D(0))
    assert ctx.positions == () and ctx.halted is False and ctx.book_age_seconds is None


def test_cash_the_engine_holds_for_resting_orders_it_no_longer_tracks_stays_reserved() -> None:
    # after a restart: 6 held by resting buys the ledger does not know (promised 0)
    rule = AvailableBalance.from_params({"include_fees": False, "reserve": "1"})
    ctx = build_ctx(balance=Balance(venue="paper", total="20", available="20"),
                    reserved_on_venue=D(6))
    assert rule.check(build_request(quantity="26", limit_price="0.50"), ctx).allowed  # 13
    denied = rule.check(build_request(quantity="28", limit_price="0.50"), ctx)  # 14
    assert denied == Verdict.deny(
        "available_balance", "insufficient_balance",
        "the order needs 14.00 but 14 is free on paper after 6 held by resting orders and a "
        "reserve of 1", limit=13, actual="14.00", free=14, reserved=6, reserve=1, promised=0)


def test_an_allowed_rate_check_names_its_rule() -> None:
    verdict = OrderRate.from_params({"per_second": 5}).check(build_request(), build_ctx())
    assert verdict.rule == "order_rate" and verdict.allowed


def test_a_fresh_daily_loss_rule_has_lost_nothing() -> None:
    import pytest

    from arbexec.risk.rules import ParameterError

    assert DailyLossLimit.from_params({"max_loss": 1}).day_pnl == 0
    with pytest.raises(ParameterError) as caught:
        DailyLossLimit.from_params({})
    assert str(caught.value.message) == "is required (a loss in dollars, e.g. 250)"


def test_the_trading_day_is_the_local_date() -> None:
    rule = DailyLossLimit.from_params({"max_loss": 100, "timezone": "America/New_York"})
    late = datetime(2026, 11, 19, 3, 0, tzinfo=UTC)  # still Nov 18 in New York
    start, _ = rule.day_bounds(late)
    assert start == datetime(2026, 11, 18, 5, 0, tzinfo=UTC)


def test_a_halt_from_yesterday_rolls_over_before_the_new_days_halt() -> None:
    rule = DailyLossLimit.from_params({"max_loss": 100})
    rule.observe(loss("-100"), NOW)
    tomorrow = NOW + timedelta(days=1)
    ctx = build_ctx(now=tomorrow, daily_realised_pnl=D(-120))  # the engine's figure
    assert rule.check(build_request(), ctx).code == "daily_loss_limit"
    events = rule.observe(loss("0"), tomorrow)
    assert [(e.data["from"], e.data["to"]) for e in events] == [
        ("halted", "active"), ("active", "halted")]
    assert events[1].data["day"] == "2026-11-19"


def test_the_expected_fee_is_asked_for_the_orders_market_and_liquidity() -> None:
    from arbexec.model import Liquidity

    asked: list[tuple[str, Liquidity]] = []

    def fee(market: str, p: Decimal, q: Decimal, liquidity: Liquidity) -> Decimal:
        asked.append((market, liquidity))
        return D(0)

    rule = MinEdge.from_params({"min_edge": 0})
    rule.check(build_request(market="M7", expected_value="0.6"), build_ctx(fee=fee))
    rule.check(build_request(market="M7", expected_value="0.6", post_only=True),
               build_ctx(fee=fee))
    assert asked == [("M7", Liquidity.TAKER), ("M7", Liquidity.MAKER)]
