"""Pair requests, the money of a pair, and unwind plans: exact Decimal arithmetic."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from arbexec.arbitrage.accounting import tally
from arbexec.arbitrage.model import (
    PairRequest,
    pair_from_mapping,
    pair_result_row,
    pair_to_dict,
)
from arbexec.arbitrage.unwind import Venueside, choose, plan_close, plan_complete
from arbexec.exchange import MarketRules
from arbexec.model import (
    ExecutionResult,
    Liquidity,
    OrderBook,
    OrderStatus,
    Outcome,
    RequestError,
    Side,
)

LEGS = [{"venue": "k", "market": "M", "outcome": "YES", "limit_price": "0.41"},
        {"venue": "p", "market": "N", "outcome": "NO", "limit_price": "0.46"}]


def parse(**extra: Any) -> PairRequest:
    return pair_from_mapping({"pair_id": "x", "quantity": "10", "legs": LEGS, **extra})


def test_a_pair_round_trips_through_its_journal_form() -> None:
    p = parse(min_edge="0.02", max_unwind_loss=1, sequencing="thinner-first",
              tags={"signal_id": "s"}, halt_on_exposed=False)
    assert pair_from_mapping(pair_to_dict(p)) == p
    assert p.leg_key("a") == "x:a" and p.unwind_key(2) == "x:unwind-2"
    assert p.locked_edge == Decimal("0.13")


@pytest.mark.parametrize(("extra", "field"), [
    ({"quantity": "0"}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"legs": LEGS[:1]}, "legs"),
    ({"legs": [LEGS[0], dict(LEGS[1], outcome="YES")]}, "legs"),
    ({"legs": [LEGS[0], dict(LEGS[1], limit_price="1.2")]}, "legs[1].limit_price"),
    ({"legs": [LEGS[0], dict(LEGS[1], side="SELL")]}, "legs"),
    ({"legs": [LEGS[0], dict(LEGS[1], time_in_force="GTD")]}, "legs[1].time_in_force"),
    ({"legs": [LEGS[0], dict(LEGS[1], venu="p")]}, "legs[1].venu"),
    ({"sequencing": "random"}, "sequencing"),
    ({"max_unwind_loss": "-1"}, "max_unwind_loss"),
    ({"halt_on_exposed": "yes"}, "halt_on_exposed"),
    ({"colour": "red"}, "colour"),
])
def test_a_malformed_pair_names_the_field(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse(**extra)
    assert caught.value.field == field


def result(venue: str, market: str, outcome: str, side: str, filled: str, price: str | None,
           fees: str = "0") -> ExecutionResult:
    return ExecutionResult(request_id="r", idempotency_key="k", status=OrderStatus.FILLED,
                           venue=venue, market=market, outcome=Outcome(outcome),
                           side=Side(side),
                           filled_quantity=filled, average_price=price, fees=fees)


def test_a_closed_excess_costs_what_it_lost() -> None:
    p = parse()
    a = result("k", "M", "YES", "BUY", "10", "0.41", fees="0.10")
    b = result("p", "N", "NO", "BUY", "6", "0.46", fees="0.06")
    book = tally(p, {"a": a, "b": b}, [])
    assert book.hedged == 6 and book.excess == 4 and book.excess_leg == "a"
    assert book.primary_edge == Decimal(6) * (1 - Decimal("0.42") - Decimal("0.47"))
    assert book.unwind_loss == 0  # nothing done yet: the excess is valued at cost
    sold = result("k", "M", "YES", "SELL", "4", "0.39", fees="0.03")
    after = tally(p, {"a": a, "b": b}, [sold])
    assert after.excess == 0
    # 4 x (0.42 - 0.39) + 0.03 sell fee
    assert after.unwind_loss == Decimal("0.15")
    assert after.realised_edge == after.primary_edge - Decimal("0.15")


def side(outcome: str, bids: list[tuple[str, int]], asks: list[tuple[str, int]],
         fee: str = "0", rounding: str = "0.0001") -> Venueside:
    rate = Decimal(fee)
    return Venueside(venue="v", market="M", outcome=outcome,
                     book=OrderBook(venue="v", market="M", bids=bids, asks=asks),
                     rules=MarketRules(market="M", tick_size="0.01"),
                     fee=lambda _m, p, q, _l: rate * q * p * (1 - p),
                     fee_rounding=Decimal(rounding))


def test_the_close_limit_never_risks_more_than_the_budget() -> None:
    own = side("YES", bids=[("0.39", 100)], asks=[("0.41", 100)], fee="0.07")
    plan = plan_close(Decimal(10), Decimal("0.42"), Decimal("0.50"), own)
    assert plan is not None and plan.side.value == "SELL"
    worst_fee = max(own.fee("M", plan.limit_price + Decimal("0.01") * i, Decimal(10),
                            Liquidity.TAKER) for i in range(60))
    assert Decimal(10) * (Decimal("0.42") - plan.limit_price) + worst_fee <= Decimal("0.50")
    assert plan.worst_loss <= Decimal("0.50") and plan.expected_fill == 10
    one_tick_lower = plan_close(Decimal(10), Decimal("0.42"),
                                plan.worst_loss - Decimal("0.0001"), own)
    assert one_tick_lower is None or one_tick_lower.limit_price > plan.limit_price


def test_the_cheaper_complete_plan_wins_and_an_empty_book_means_none() -> None:
    own = side("YES", bids=[("0.30", 100)], asks=[("0.41", 100)])
    other = side("NO", bids=[("0.50", 100)], asks=[("0.60", 100)])  # NO asks at 0.50
    budget = Decimal("1")
    complete = plan_complete(Decimal(10), Decimal("0.41"), budget, other)
    close = plan_close(Decimal(10), Decimal("0.41"), budget, own)
    assert complete is not None and close is not None
    assert complete.expected_loss < 0  # 0.41 + 0.50 < 1: completing still earns
    assert choose([complete, close]) is complete
    empty = side("NO", bids=[], asks=[])
    assert choose([plan_complete(Decimal(10), Decimal("0.41"), budget, empty)]) is None
    # a budget below zero demands a gain: only limits above cost fit, and nobody bids there
    demanding = plan_close(Decimal(10), Decimal("0.41"), Decimal("-0.01"), own)
    assert demanding is not None and demanding.limit_price > Decimal("0.41")
    assert choose([demanding]) is None


def test_a_result_row_reads_at_a_glance() -> None:
    from arbexec.arbitrage.model import LegReport, PairResult, PairState

    row = pair_result_row(PairResult(
        pair_id="x", state=PairState.HEDGED, quantity=Decimal(10), hedged_quantity=Decimal(10),
        realised_edge=Decimal("1.2"), realised_edge_per_contract=Decimal("0.12"),
        fees={"k": Decimal("0.1")},
        legs=(LegReport(name="a", result=result("k", "M", "YES", "BUY", "10", "0.41")),)))
    assert row.startswith("HEDGED") and "10/10 hedged" in row and "edge 1.2 (0.12/contract)" in row
