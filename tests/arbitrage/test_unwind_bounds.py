"""The unwind plans' figures, exactly: the limit the budget allows, the worst case at it, the
venue's fee rounding per level, and which plan wins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbexec.arbitrage.books import floor_to, sweep
from arbexec.arbitrage.unwind import (
    UnwindPlan,
    Venueside,
    choose,
    plan_close,
    plan_complete,
    why_unusable,
)
from arbexec.exchange import MarketRules
from arbexec.model import Liquidity, OrderBook, Outcome, Side

D = Decimal


def view(outcome: str, bids: list[tuple[str, int]], asks: list[tuple[str, int]], *,
         fee: str = "0", rounding: str = "0.0001", **rules: str) -> Venueside:
    rate = D(fee)
    return Venueside(venue="v", market="M", outcome=outcome,
                     book=OrderBook(venue="v", market="M", bids=bids, asks=asks),
                     rules=MarketRules(market="M", tick_size="0.01",
                                       **{k: D(v) for k, v in rules.items()}),
                     fee=lambda _m, p, q, _l: rate * q * p * (1 - p),
                     fee_rounding=D(rounding))


def test_complete_takes_the_worst_limit_whose_worst_case_fits() -> None:
    # NO asks 0.55 x5 and 0.60 x10 (YES bids 0.45, 0.40). Buying NO at p after YES at 0.42
    # loses 10 x (0.42 + p - 1) plus $0.0001 per level walked (0.01 is level 1)
    other = view("NO", bids=[("0.45", 5), ("0.40", 10)], asks=[("0.70", 10)])
    plan = plan_complete(D(10), D("0.42"), D("0.50"), other)
    assert plan is not None
    assert (plan.kind, plan.side, plan.outcome) == ("complete", Side.BUY, Outcome.NO)
    assert plan.limit_price == D("0.62")  # 0.63 would risk 0.5063
    assert plan.worst_loss == D("0.4062")
    assert plan.quantity == 10 and plan.expected_fill == 10
    assert plan.expected_loss == D("-0.05")  # 5 x 0.55 + 5 x 0.60 - 10 x 0.58


def test_the_venues_fee_rounding_counts_once_per_level() -> None:
    coarse = view("NO", bids=[("0.45", 5), ("0.40", 10)], asks=[], rounding="0.01")
    plan = plan_complete(D(10), D("0.42"), D("0.50"), coarse)
    assert plan is not None
    assert plan.limit_price == D("0.57")  # 10 x -0.01 + 57 x 0.01 = 0.47; 0.58 risks 0.58
    assert plan.worst_loss == D("0.47")
    exact = view("NO", bids=[("0.45", 5)], asks=[], rounding="0")
    assert plan_complete(D(10), D("0.42"), D("0.50"), exact).limit_price == D("0.63")  # type: ignore[union-attr]


def test_close_takes_the_worst_limit_whose_worst_case_fits() -> None:
    own = view("YES", bids=[("0.39", 4), ("0.38", 10)], asks=[("0.41", 100)])
    plan = plan_close(D(10), D("0.42"), D("0.50"), own)
    assert plan is not None
    assert (plan.kind, plan.side, plan.outcome) == ("close", Side.SELL, Outcome.YES)
    assert plan.limit_price == D("0.38")  # from 0.99 down: 0.38 is level 62
    assert plan.worst_loss == D("0.4062")
    assert plan.expected_fill == 10
    assert plan.expected_loss == D("0.36")  # 10 x 0.42 - (4 x 0.39 + 6 x 0.38)


def test_the_highest_fee_on_the_way_counts_not_the_fee_at_the_limit() -> None:
    # fee 0.07 x q x p(1-p) peaks at p = 0.5 (0.175 for 10): it counts at every lower limit
    own = view("YES", bids=[("0.39", 10)], asks=[], fee="0.07")
    plan = plan_close(D(10), D("0.42"), D("0.50"), own)
    assert plan is not None
    assert plan.limit_price == D("0.39")
    assert plan.worst_loss == D("0.30") + D("0.175") + D("0.0061")
    assert plan.expected_loss == D("0.30") + D("0.07") * 10 * D("0.39") * D("0.61")
    other = view("NO", bids=[("0.45", 10)], asks=[], fee="0.07")
    complete = plan_complete(D(10), D("0.42"), D("0.50"), other)
    assert complete is not None
    # ascending from 0.01: the fee at 0.5 counts for every limit from 0.5 up
    assert complete.limit_price == D("0.61")
    assert complete.worst_loss == D("0.30") + D("0.175") + D("0.0061")


def test_no_plan_when_no_price_fits_or_the_size_is_below_the_minimum() -> None:
    own = view("YES", bids=[("0.39", 10)], asks=[])
    assert plan_close(D(10), D("0.42"), D("-10"), own) is None
    other = view("NO", bids=[("0.45", 10)], asks=[])
    assert plan_complete(D(10), D("0.42"), D("-10"), other) is None
    sized = view("YES", bids=[("0.39", 10)], asks=[], min_quantity="5")
    assert plan_close(D("4.5"), D("0.42"), D(1), sized) is None
    assert plan_complete(D("4.5"), D("0.42"), D(1), sized) is None
    stepped = view("YES", bids=[("0.39", 10)], asks=[], min_quantity="1")
    assert plan_close(D("4.5"), D("0.42"), D(1), stepped).quantity == 4  # type: ignore[union-attr]


def test_prices_stay_within_the_markets_range() -> None:
    ranged = view("YES", bids=[("0.39", 10)], asks=[], min_price="0.05", max_price="0.95",
                  rounding="0")
    close = plan_close(D(1), D("0.10"), D(5), ranged)
    assert close is not None and close.limit_price == D("0.05")  # the floor, not 0.01
    other = view("NO", bids=[("0.45", 10)], asks=[], min_price="0.05", max_price="0.95",
                 rounding="0")
    complete = plan_complete(D(1), D("0.10"), D(5), other)
    assert complete is not None and complete.limit_price == D("0.95")


def plan(kind: str, fill: str, loss: str, quantity: str = "10") -> UnwindPlan:
    return UnwindPlan(kind=kind, venue="v", market="M", outcome=Outcome.YES, side=Side.SELL,
                      quantity=D(quantity), limit_price=D("0.5"), expected_fill=D(fill),
                      expected_loss=D(loss), worst_loss=D(1))


def test_choose_prefers_a_full_close_then_the_cheaper_then_the_bigger() -> None:
    full_dear, full_cheap = plan("a", "10", "0.4"), plan("b", "10", "0.3")
    partial = plan("c", "9", "0.0")
    assert choose([full_dear, partial, full_cheap]) is full_cheap
    assert choose([partial, plan("d", "5", "-1")]) is partial
    same_fill_cheaper = plan("e", "9", "-0.1")
    assert choose([partial, same_fill_cheaper]) is same_fill_cheaper
    assert choose([None, plan("f", "0", "0")]) is None
    assert choose([]) is None


def test_why_an_option_closes_nothing() -> None:
    empty = view("YES", bids=[], asks=[])
    option = plan_close(D(10), D("0.42"), D("0.50"), empty)
    assert why_unusable("close", option, empty, D(10)) == (
        "close on v M: the book is empty (no YES bids)")
    low = view("YES", bids=[("0.20", 10)], asks=[])
    option = plan_close(D(10), D("0.42"), D("0.50"), low)
    assert why_unusable("close", option, low, D(10)) == (
        "close on v M: the budget blocks it (the best YES bid is 0.20; the budget allows "
        "0.38 at worst)")
    dear = view("NO", bids=[("0.10", 10)], asks=[])  # NO offered at 0.90 only
    option = plan_complete(D(10), D("0.42"), D("0.50"), dear)
    assert why_unusable("complete", option, dear, D(10)) == (
        "complete on v M: the budget blocks it (the best NO ask is 0.90; the budget allows "
        "0.62 at worst)")
    assert why_unusable("close", None, low, D(10)) == (
        "close on v M: the budget blocks it (no limit price keeps the worst-case loss "
        "within it)")
    sized = view("YES", bids=[], asks=[], min_quantity="20")
    assert why_unusable("close", None, sized, D(10)) == (
        "close on v M: 10 contracts is below the venue's minimum size")


@pytest.mark.parametrize(("value", "step", "floored"), [
    ("4.5", "1", "4"), ("4.99", "0.1", "4.9"), ("5", "1", "5"), ("0.3", "1", "0")])
def test_floor_to_the_step(value: str, step: str, floored: str) -> None:
    assert floor_to(D(value), D(step)) == D(floored)


def test_a_sweep_walks_levels_up_to_the_limit_and_prices_fees_per_level() -> None:
    book = OrderBook(venue="v", market="M", bids=[("0.39", 4), ("0.38", 10)],
                     asks=[("0.41", 3), ("0.43", 10)])
    buy = sweep(book, Outcome.YES, Side.BUY, D(10), D("0.42"))
    assert buy.quantity == 3 and buy.notional == D("1.23")
    assert buy.average_price == D("0.41")
    sell = sweep(book, Outcome.YES, Side.SELL, D(6), D("0.38"))
    assert [(level.price, level.size) for level in sell.fills] == [
        (D("0.39"), D(4)), (D("0.38"), D(2))]
    calls: list[tuple[Decimal, Decimal, Liquidity]] = []

    def fee(_m: str, p: Decimal, q: Decimal, liquidity: Liquidity) -> Decimal:
        calls.append((p, q, liquidity))
        return q * D("0.01")

    assert sell.fees(fee, "M") == D("0.06")
    assert calls == [(D("0.39"), D(4), Liquidity.TAKER), (D("0.38"), D(2), Liquidity.TAKER)]
    assert sweep(book, Outcome.YES, Side.BUY, D(10), D("0.40")).average_price is None


def test_a_sweep_takes_the_last_contract_too() -> None:
    book = OrderBook(venue="v", market="M", bids=[], asks=[("0.41", 3), ("0.43", 10)])
    taken = sweep(book, Outcome.YES, Side.BUY, D(4), D("0.43"))
    assert [(level.price, level.size) for level in taken.fills] == [
        (D("0.41"), D(3)), (D("0.43"), D(1))]
    seen: list[str] = []

    def fee(market: str, _p: Decimal, q: Decimal, _l: Liquidity) -> Decimal:
        seen.append(market)
        return q
    assert taken.fees(fee, "MKT") == D(4) and seen == ["MKT", "MKT"]


def test_an_excess_exactly_at_the_minimum_size_is_closed() -> None:
    sized = view("YES", bids=[("0.39", 10)], asks=[], min_quantity="5")
    close = plan_close(D(5), D("0.42"), D(1), sized)
    assert close is not None and close.quantity == 5


def strict(rate: str, market: str = "M") -> object:
    """A fee function that insists on the market and a taker fill, as venues do."""
    def fee(m: str, p: Decimal, q: Decimal, liquidity: Liquidity) -> Decimal:
        assert m == market and liquidity is Liquidity.TAKER
        return D(rate) * q
    return fee


def test_fees_are_asked_for_the_market_as_a_taker_and_count_in_the_expected_loss() -> None:
    other = Venueside(venue="v", market="M", outcome="YES",
                      book=OrderBook(venue="v", market="M", bids=[], asks=[("0.50", 10)]),
                      rules=MarketRules(market="M", tick_size="0.01"), fee=strict("0.01"),
                      fee_rounding=D(0))
    complete = plan_complete(D(10), D("0.42"), D("0.50"), other)
    assert complete is not None and complete.outcome is Outcome.YES
    assert complete.expected_fill == 10
    assert complete.expected_loss == D("5.00") + D("0.10") - D("5.80")
    own = Venueside(venue="v", market="M", outcome="YES",
                    book=OrderBook(venue="v", market="M", bids=[("0.39", 10)], asks=[]),
                    rules=MarketRules(market="M", tick_size="0.01"), fee=strict("0.01"),
                    fee_rounding=D(0))
    close = plan_close(D(10), D("0.42"), D("0.50"), own)
    assert close is not None and close.expected_loss == D("4.20") - D("3.90") + D("0.10")


def test_a_budget_met_exactly_still_allows_that_limit() -> None:
    own = view("YES", bids=[("0.39", 4), ("0.38", 10)], asks=[])
    plan = plan_close(D(10), D("0.42"), D("0.4062"), own)
    assert plan is not None and plan.limit_price == D("0.38")


def test_a_plan_filling_one_contract_is_usable() -> None:
    assert choose([plan("a", "1", "0")]) is not None


def test_a_plan_that_closes_its_whole_quantity_beats_one_that_fills_more_but_not_all() -> None:
    # the venues' size steps differ: closing takes 10 (all it can send), completing 10.5
    whole = UnwindPlan(kind="close", venue="v", market="M", outcome=Outcome.YES,
                       side=Side.SELL, quantity=D(10), limit_price=D("0.5"),
                       expected_fill=D(10), expected_loss=D("0.5"), worst_loss=D(1))
    partial = UnwindPlan(kind="complete", venue="w", market="M", outcome=Outcome.NO,
                         side=Side.BUY, quantity=D("10.5"), limit_price=D("0.5"),
                         expected_fill=D("10.2"), expected_loss=D("0.1"), worst_loss=D(1))
    assert choose([partial, whole]) is whole
