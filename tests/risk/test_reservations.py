"""Every counting or spending rule reserves what it counts, through the ledger, all or none.

These drive the rules and the ledger as the engine's admission does (the context reads the
ledger, the decision's claims are reserved in the same step) for a burst admitted before
any order reaches a final state.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from arbexec.ledger import InMemoryLedger, merge_claims
from arbexec.model import Balance, OrderRequest, Position
from arbexec.risk.base import Claim, ClaimKind, RiskContext, allows_open, risk_reducing
from arbexec.risk.rules import (
    AvailableBalance,
    DailyLossLimit,
    MaxExposure,
    MaxOpenOrders,
    OrderRate,
)
from tests.risk.conftest import NOW, build_request

Rule = Any


def admit(rule: Rule, ledger: InMemoryLedger, request: OrderRequest,
          **context: Any) -> tuple[bool, str | None]:
    """The engine's admission for one request: check, then reserve, in one step."""
    ctx = RiskContext(now=NOW, venue=request.venue, exposure=ledger.exposure_now, **context)
    verdict = rule.check(request, ctx)
    if not verdict.allowed:
        return False, verdict.code
    breached = ledger.reserve_now(request.idempotency_key, verdict.claims)
    return breached is None, None if breached is None else breached.code


def burst(rule: Rule, ledger: InMemoryLedger, requests: list[OrderRequest],
          **context: Any) -> list[tuple[bool, str | None]]:
    return [admit(rule, ledger, r, **context) for r in requests]


def buys(n: int, **overrides: Any) -> list[OrderRequest]:
    return [build_request(**overrides) for _ in range(n)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------ open orders


def test_a_burst_of_200_cannot_hold_more_open_orders_than_the_caps() -> None:
    rule = MaxOpenOrders.from_params({"per_market": 3, "total": 5})
    ledger = InMemoryLedger()
    markets = [f"M{i % 4}" for i in range(200)]
    requests = [build_request(market=m) for m in markets]
    results = burst(rule, ledger, requests)
    admitted = [r for r, (ok, _) in zip(requests, results, strict=True) if ok]
    assert len(admitted) == 5
    per_market: dict[str, int] = {}
    for r in admitted:
        per_market[r.market] = per_market.get(r.market, 0) + 1
    assert max(per_market.values()) <= 3
    assert {code for ok, code in results if not ok} == {"open_orders_total"}
    # one order ends: its slot comes back, exactly one more is admitted
    ledger.settle_now(admitted[0].idempotency_key, Decimal(0))
    again = burst(rule, ledger, buys(10, market="M9"))
    assert [ok for ok, _ in again].count(True) == 1


def test_per_market_cap_is_reserved_too() -> None:
    rule = MaxOpenOrders.from_params({"per_market": 3})
    ledger = InMemoryLedger()
    results = burst(rule, ledger, buys(200))
    assert [ok for ok, _ in results].count(True) == 3
    assert {code for ok, code in results if not ok} == {"open_orders_market"}


def test_a_denied_order_gives_its_slot_back() -> None:
    rule = MaxOpenOrders.from_params({"total": 1})
    ledger = InMemoryLedger()
    first, second = buys(2)
    assert admit(rule, ledger, first) == (True, None)
    assert admit(rule, ledger, second) == (False, "open_orders_total")
    ledger.release_now(first.idempotency_key)  # e.g. prepare_order failed: nothing sent
    assert admit(rule, ledger, second) == (True, None)


# ------------------------------------------------------------------ rate


def test_a_burst_of_200_cannot_pass_the_rate_and_slots_outlive_their_orders() -> None:
    clock = Clock()
    rule = OrderRate.from_params({"per_second": 5, "per_minute": 12})
    ledger = InMemoryLedger(clock=clock)
    first = burst(rule, ledger, buys(200))
    assert [ok for ok, _ in first].count(True) == 5
    assert {code for ok, code in first if not ok} == {"rate_per_second"}
    for request in buys(5):  # orders that ended still count in their window
        ledger.settle_now(request.idempotency_key, Decimal(0))
    clock.now += 0.999
    assert not any(ok for ok, _ in burst(rule, ledger, buys(50)))
    clock.now += 0.001
    second = burst(rule, ledger, buys(200))
    assert [ok for ok, _ in second].count(True) == 5
    clock.now += 1.0
    third = burst(rule, ledger, buys(200))
    assert [ok for ok, _ in third].count(True) == 2  # 12 per minute
    assert {code for ok, code in third if not ok} == {"rate_per_minute"}
    clock.now += 58.0
    assert [ok for ok, _ in burst(rule, ledger, buys(200))].count(True) == 5


def test_an_order_refused_before_sending_does_not_count_against_the_rate() -> None:
    clock = Clock()
    rule = OrderRate.from_params({"per_second": 1})
    ledger = InMemoryLedger(clock=clock)
    first, second = buys(2)
    assert admit(rule, ledger, first)[0]
    assert not admit(rule, ledger, second)[0]
    ledger.release_now(first.idempotency_key)
    assert admit(rule, ledger, second)[0]


def test_rate_claims_are_window_slots_per_venue(req: Callable[..., OrderRequest], ctx) -> None:
    verdict = OrderRate.from_params({"per_second": 5, "per_minute": 12}).check(req(), ctx())
    assert [(c.key, c.kind, c.window_seconds, c.limit) for c in verdict.claims] == [
        ("rate:paper:1s", ClaimKind.WINDOW, 1.0, Decimal(5)),
        ("rate:paper:60s", ClaimKind.WINDOW, 60.0, Decimal(12)),
    ]


# ------------------------------------------------------------------ cash


def test_fifty_concurrent_buys_cannot_promise_more_cash_than_is_free() -> None:
    rule = AvailableBalance.from_params({"include_fees": False})
    ledger = InMemoryLedger()
    cash = Balance(venue="paper", total="100", available="100")
    results = burst(rule, ledger, buys(50), balance=cash)  # 5.00 each
    assert [ok for ok, _ in results].count(True) == 20
    assert {code for ok, code in results if not ok} == {"insufficient_balance"}
    assert ledger.exposure_now("cash:paper") == Decimal(100)


def test_cash_comes_back_at_the_final_state() -> None:
    rule = AvailableBalance.from_params({"include_fees": False, "reserve": "10"})
    ledger = InMemoryLedger()
    cash = Balance(venue="paper", total="20", available="20")
    first, second, third = buys(3)
    assert admit(rule, ledger, first, balance=cash)[0]
    assert admit(rule, ledger, second, balance=cash)[0]
    assert admit(rule, ledger, third, balance=cash) == (False, "insufficient_balance")
    ledger.settle_now(first.idempotency_key, Decimal(5))  # filled: the venue now shows 15
    spent = Balance(venue="paper", total="15", available="15")
    assert ledger.exposure_now("cash:paper") == Decimal(5)
    assert admit(rule, ledger, third, balance=spent) == (False, "insufficient_balance")
    ledger.settle_now(second.idempotency_key, Decimal(0))  # cancelled unfilled
    assert admit(rule, ledger, third, balance=spent)[0]


# ------------------------------------------------------------------ sells


YES_10 = (Position(venue="paper", market="M1", outcome="YES", quantity="10"),)


@pytest.mark.parametrize("rule", [
    MaxExposure.from_params({"max_total": 100}),
    AvailableBalance.from_params({}),
    DailyLossLimit.from_params({"max_loss": 100}),
], ids=lambda r: r.name)
def test_every_money_rule_refuses_a_sell_beyond_the_position(rule: Rule) -> None:
    ledger = InMemoryLedger()
    cash = Balance(venue="paper", total="1000", available="1000")
    sell = build_request(side="SELL", quantity="10000")
    assert admit(rule, ledger, sell, positions=(), balance=cash) == (
        False, "sell_exceeds_position")
    assert admit(rule, ledger, build_request(side="SELL", quantity="11"), positions=YES_10,
                 balance=cash) == (False, "sell_exceeds_position")
    # the position of the other outcome, another market or another venue does not count
    others = (Position(venue="paper", market="M1", outcome="NO", quantity="50"),
              Position(venue="paper", market="M2", outcome="YES", quantity="50"),
              Position(venue="kalshi", market="M1", outcome="YES", quantity="50"))
    assert admit(rule, ledger, build_request(side="SELL", quantity="1"), positions=others,
                 balance=cash) == (False, "sell_exceeds_position")
    assert admit(rule, ledger, build_request(side="SELL", quantity="10"), positions=YES_10,
                 balance=cash) == (True, None)


@pytest.mark.parametrize("rule", [
    MaxExposure.from_params({"max_total": 100}),
    AvailableBalance.from_params({}),
    DailyLossLimit.from_params({"max_loss": 100}),
], ids=lambda r: r.name)
def test_concurrent_sells_cannot_together_close_more_than_is_held(rule: Rule) -> None:
    ledger = InMemoryLedger()
    cash = Balance(venue="paper", total="1000", available="1000")
    sells = [build_request(side="SELL", quantity="4") for _ in range(200)]
    results = burst(rule, ledger, sells, positions=YES_10, balance=cash)
    assert [ok for ok, _ in results].count(True) == 2  # 4 + 4 <= 10 < 12
    assert {code for ok, code in results if not ok} == {"sell_exceeds_position"}
    ledger.settle_now(sells[0].idempotency_key, Decimal(0))  # one sell cancelled unfilled
    assert admit(rule, ledger, build_request(side="SELL", quantity="4"),
                 positions=YES_10, balance=cash)[0]


def test_an_opening_sell_is_charged_as_exposure_of_the_opposite_outcome() -> None:
    # 10 held; a sell of 10,010 at 0.49 opens 10,000 NO at 0.51: 5,100 at risk
    rule = MaxExposure.from_params({"max_total": 100})
    sell = build_request(side="SELL", quantity="10010", limit_price="0.49",
                         tags={"allow_open": "true"})
    ledger = InMemoryLedger()
    assert admit(rule, ledger, sell, positions=YES_10) == (False, "exposure_total")
    small = build_request(side="SELL", quantity="110", limit_price="0.49",
                          tags={"allow_open": True})
    ctx = RiskContext(now=NOW, venue="paper", exposure=ledger.exposure_now, positions=YES_10)
    verdict = rule.check(small, ctx)
    assert verdict.allowed
    claims = {c.key: c for c in verdict.claims}
    assert claims["total"].amount == Decimal("51.00")  # 100 opened x (1 - 0.49)
    assert claims["position:paper:M1:YES"].amount == Decimal(10)


def test_an_opening_sell_needs_the_collateral_of_what_it_opens() -> None:
    rule = AvailableBalance.from_params({"include_fees": False})
    cash = Balance(venue="paper", total="50", available="50")
    ledger = InMemoryLedger()
    opens_100 = build_request(side="SELL", quantity="110", limit_price="0.49",
                              tags={"allow_open": True})
    assert admit(rule, ledger, opens_100, positions=YES_10, balance=cash) == (
        False, "insufficient_balance")  # 51.00 > 50
    opens_90 = build_request(side="SELL", quantity="100", limit_price="0.49",
                             tags={"allow_open": True})
    assert admit(rule, ledger, opens_90, positions=YES_10, balance=cash) == (True, None)
    assert ledger.exposure_now("cash:paper") == Decimal("45.90")


def test_request_tags_that_open_and_reduce() -> None:
    assert allows_open(build_request(tags={"allow_open": "yes"}))
    assert not allows_open(build_request(tags={"allow_open": "false"}))
    assert not allows_open(build_request(tags={"allow_open": ["x"]}))
    assert risk_reducing(build_request(side="SELL", tags={"risk_reducing": "unwind"})) == "unwind"
    assert risk_reducing(build_request(tags={"risk_reducing": True})) == "marked risk-reducing"
    assert risk_reducing(build_request(side="SELL", tags={"reduce_only": True})) == \
        "reduce-only sell"
    assert risk_reducing(build_request(side="BUY", tags={"reduce_only": True})) is None
    assert risk_reducing(build_request(tags={"risk_reducing": "false"})) is None
    assert risk_reducing(build_request()) is None


# ------------------------------------------------------------------ the ledger itself


def claim(key: str, amount: str, limit: str, kind: ClaimKind = ClaimKind.EXPOSURE,
          rule: str = "r") -> Claim:
    return Claim(key=key, amount=Decimal(amount), limit=Decimal(limit), rule=rule,
                 code=f"{rule}_code", kind=kind)


def test_claims_of_one_request_on_one_key_count_once() -> None:
    merged = merge_claims([claim("position:x", "4", "10", ClaimKind.HOLD, "a"),
                           claim("position:x", "6", "8", ClaimKind.HOLD, "b")])
    assert merged["position:x"].amount == Decimal(6)
    assert merged["position:x"].limit == Decimal(8)
    ledger = InMemoryLedger()
    assert ledger.reserve_now("h", [claim("k", "5", "5", rule="a"),
                                    claim("k", "5", "5", rule="b")]) is None
    assert ledger.exposure_now("k") == Decimal(5)


def test_reserving_again_replaces_the_holders_own_reservation() -> None:
    ledger = InMemoryLedger()
    assert ledger.reserve_now("h", [claim("k", "8", "10")]) is None
    assert ledger.reserve_now("h", [claim("k", "9", "10")]) is None  # not 17
    assert ledger.exposure_now("k") == Decimal(9)
    assert ledger.reserve_now("h", [claim("k", "11", "10")]) is not None
    assert ledger.exposure_now("k") == Decimal(9)


def test_settling_turns_exposure_into_standing_and_gives_holds_back() -> None:
    ledger = InMemoryLedger()
    ledger.reserve_now("h", [claim("total", "6", "100"),
                             claim("cash:p", "6", "100", ClaimKind.HOLD),
                             claim("open_orders:total", "1", "5", ClaimKind.HOLD)])
    ledger.settle_now("h", Decimal("4.5"))
    assert ledger.exposure_now("total") == Decimal("4.5")
    assert ledger.exposure_now("cash:p") == 0
    assert ledger.exposure_now("open_orders:total") == 0
    ledger.release_now("h")  # nothing left to release
    assert ledger.exposure_now("total") == Decimal("4.5")


def test_an_earmark_is_all_or_none_and_counts_for_everyone_else() -> None:
    ledger = InMemoryLedger()
    legs = {"p:a": [claim("total", "40", "100")], "p:b": [claim("total", "50", "100")]}
    assert ledger.earmark_now(legs) is None
    assert ledger.exposure_now("total") == 0  # an earmark is not yet exposure
    assert ledger.reserve_now("other", [claim("total", "11", "100")]) is not None
    assert ledger.reserve_now("other", [claim("total", "10", "100")]) is None
    too_much = {"q:a": [claim("total", "1", "100")], "q:b": [claim("total", "1", "100")]}
    assert ledger.earmark_now(too_much) is not None  # 100 held or earmarked: neither leg
    assert ledger.reserve_now("q:a", [claim("total", "1", "100")]) is not None
    # the earmarked legs reserve within their earmarks
    assert ledger.reserve_now("p:a", [claim("total", "40", "100")]) is None
    assert ledger.exposure_now("total") == Decimal(50)
    assert ledger.reserve_now("p:b", [claim("total", "50", "100")]) is None
    assert ledger.exposure_now("total") == Decimal(100)


def test_an_unused_earmark_is_given_back() -> None:
    ledger = InMemoryLedger()
    assert ledger.earmark_now({"p:a": [claim("total", "60", "100")],
                               "p:b": [claim("total", "40", "100")]}) is None
    ledger.release_earmark_now("p:b")  # the second leg was never sent
    assert ledger.reserve_now("x", [claim("total", "40", "100")]) is None
    assert ledger.reserve_now("y", [claim("total", "1", "100")]) is not None
    ledger.release_now("p:a")
    assert ledger.reserve_now("y", [claim("total", "60", "100")]) is None


# ------------------------------------------------------------------ circuit breaker


def test_a_failing_venue_gets_at_most_the_breakers_threshold_of_sends_in_flight() -> None:
    from arbexec.model import OrderStatus
    from arbexec.risk.base import OrderOutcome
    from arbexec.risk.rules import CircuitBreaker

    rule = CircuitBreaker.from_params({"consecutive_failures": 5})
    ledger = InMemoryLedger()
    # healthy so far: no slot is held
    rule.observe(OrderOutcome(venue="paper", market="M1", request=build_request(),
                              status=OrderStatus.FILLED), NOW)
    assert admit(rule, ledger, build_request()) == (True, None)
    assert ledger.exposure_now("in_flight:paper") == 0
    # one failure: from now on every send holds a slot until it ends, and the failure
    # counted takes one of the five (four more failures open the breaker)
    rule.observe(OrderOutcome(venue="paper", market="M1", request=build_request(),
                              status=OrderStatus.REJECTED, failure=True), NOW)
    burst_of_20 = burst(rule, ledger, buys(20))
    assert [ok for ok, _ in burst_of_20].count(True) == 4
    assert {code for ok, code in burst_of_20 if not ok} == {"breaker_in_flight"}
    # a venue not heard from since start is of unknown health: its sends hold slots too
    fresh = InMemoryLedger()
    assert [ok for ok, _ in burst(CircuitBreaker.from_params({"consecutive_failures": 5}),
                                  fresh, buys(20))].count(True) == 5
    assert CircuitBreaker.from_params({"max_unknown": 2}).in_flight_cap() == 3
    assert CircuitBreaker.from_params({"max_reject_rate": "0.5"}).in_flight_cap() == 1


def test_the_kill_switch_lets_risk_reducing_orders_through_and_says_why() -> None:
    from arbexec.risk.rules import KillSwitch

    rule = KillSwitch.from_params({})
    halted = RiskContext(now=NOW, venue="paper", exposure=lambda _k: Decimal(0), halted=True)
    assert rule.check(build_request(), halted).code == "halted"
    unwind = rule.check(build_request(side="SELL", tags={"risk_reducing": "unwind"}), halted)
    assert unwind.allowed and unwind.figures == {"passes_halt": "unwind"}
    assert rule.check(build_request(side="SELL", tags={"reduce_only": True}), halted).allowed
    assert rule.check(build_request(tags={"reduce_only": True}), halted).code == "halted"


def test_merging_keeps_the_largest_amount_under_the_tightest_limit() -> None:
    merged = merge_claims([claim("k", "6", "10", rule="a"), claim("k", "4", "8", rule="b")])
    assert (merged["k"].amount, merged["k"].limit, merged["k"].rule) == (D6, D8, "b")
    equal = merge_claims([claim("k", "1", "8", rule="a"), claim("k", "1", "8", rule="b")])
    assert equal["k"].rule == "a"


D6, D8 = Decimal(6), Decimal(8)


def test_a_zero_claim_is_never_refused_even_past_its_limit() -> None:
    ledger = InMemoryLedger()
    ledger.adjust_now(["k"], Decimal(10))
    assert ledger.reserve_now("h", [claim("k", "0", "5")]) is None


def test_a_group_counts_each_holders_earlier_share_once() -> None:
    ledger = InMemoryLedger()
    assert ledger.earmark_now({"a": [claim("k", "60", "100")]}) is None
    assert ledger.earmark_now({"a": [claim("k", "60", "100")],
                               "b": [claim("k", "40", "100")]}) is None
    assert ledger.reserve_now("x", [claim("k", "1", "100")]) is not None
    ledger.release_earmark_now("a")
    ledger.release_earmark_now("b")
    three = {"a": [claim("k", "30", "100")], "b": [claim("k", "30", "100")],
             "c": [claim("k", "50", "100")]}
    assert ledger.earmark_now(three) == claim("k", "50", "100")
    assert ledger.reserve_now("x", [claim("k", "100", "100")]) is None  # nothing earmarked


def test_a_holder_with_a_reservation_and_an_earmark_is_counted_once() -> None:
    ledger = InMemoryLedger()
    assert ledger.reserve_now("h", [claim("k", "5", "10")]) is None
    assert ledger.earmark_now({"h": [claim("k", "5", "10")]}) is None
    assert ledger.reserve_now("h", [claim("k", "10", "10")]) is None
    assert ledger.exposure_now("k") == Decimal(10)


def test_earmarking_again_replaces_the_holders_earmark() -> None:
    ledger = InMemoryLedger()
    for _ in range(2):
        assert ledger.earmark_now({"a": [claim("k", "60", "100")]}) is None
    assert ledger.reserve_now("x", [claim("k", "40", "100")]) is None


def test_releasing_gives_back_every_key_of_the_holder() -> None:
    ledger = InMemoryLedger(clock=Clock())
    ledger.reserve_now("h", [claim("total", "5", "10"), claim("cash:p", "5", "10",
                                                               ClaimKind.HOLD)])
    ledger.release_now("h")
    assert ledger.exposure_now("total") == 0 and ledger.exposure_now("cash:p") == 0


def test_settling_drops_an_earmark_too() -> None:
    ledger = InMemoryLedger()
    ledger.earmark_now({"h": [claim("k", "10", "10")]})
    ledger.settle_now("h", Decimal(0))
    assert ledger.reserve_now("x", [claim("k", "10", "10")]) is None


def test_a_window_slot_and_a_hold_on_one_key_add_up() -> None:
    ledger = InMemoryLedger(clock=Clock())
    window = Claim(key="k", amount=Decimal(1), limit=Decimal(5), rule="r", code="c",
                   kind=ClaimKind.WINDOW, window_seconds=1.0)
    ledger.reserve_now("a", [window])
    ledger.reserve_now("b", [claim("k", "2", "5", ClaimKind.HOLD)])
    assert ledger.exposure_now("k") == Decimal(3)


def test_restored_reservations_settle_like_any_other() -> None:
    from arbexec.ledger import scope_keys

    ledger = InMemoryLedger()
    ledger.adjust_now(["total"], Decimal(2))
    ledger.restore_now("h", ["total", "venue:p"], Decimal(5))
    assert ledger.exposure_now("total") == Decimal(7)
    assert ledger.exposure_now("venue:p") == Decimal(5)
    ledger.settle_now("h", Decimal(3))
    assert ledger.exposure_now("total") == Decimal(5)
    assert ledger.exposure_now("venue:p") == Decimal(3)
    assert scope_keys("p", "m") == ["total", "venue:p", "event:p:m", "market:p:m"]
    assert scope_keys("p", "m", "e") == ["total", "venue:p", "event:p:e", "market:p:m"]


async def test_the_async_interface_is_the_same_ledger() -> None:
    ledger = InMemoryLedger()
    assert await ledger.try_reserve("h", [claim("k", "4", "10")]) is None
    assert await ledger.exposure("k") == Decimal(4)
    await ledger.adjust(["k"], Decimal(2))
    assert await ledger.exposure("k") == Decimal(6)
    await ledger.settle("h", Decimal(1), ())
    assert await ledger.exposure("k") == Decimal(3)
    assert await ledger.try_earmark({"e": [claim("k", "7", "10")]}) is None
    assert await ledger.try_reserve("x", [claim("k", "1", "10")]) is not None
    await ledger.release_earmark("e")
    assert await ledger.try_reserve("x", [claim("k", "1", "10")]) is None
    await ledger.release("x")
    assert await ledger.exposure("k") == Decimal(3)
