"""A pair's money from its orders' results, when a leg is traded more than once."""

from __future__ import annotations

from decimal import Decimal

from arbexec.arbitrage.accounting import tally
from arbexec.arbitrage.model import pair_from_mapping
from arbexec.model import ExecutionResult, OrderStatus, Outcome, Side

D = Decimal
PAIR = pair_from_mapping({
    "pair_id": "x", "quantity": "10", "max_unwind_loss": "1",
    "legs": [{"venue": "k", "market": "M", "outcome": "YES", "limit_price": "0.41"},
             {"venue": "p", "market": "N", "outcome": "NO", "limit_price": "0.46"}]})


def result(venue: str, market: str, outcome: str, side: str, filled: str,
           price: str | None, fees: str = "0") -> ExecutionResult:
    return ExecutionResult(request_id="r", idempotency_key="k", status=OrderStatus.FILLED,
                           venue=venue, market=market, outcome=Outcome(outcome),
                           side=Side(side), filled_quantity=filled, average_price=price,
                           fees=fees)


def test_every_fill_on_a_leg_adds_up() -> None:
    a = result("k", "M", "YES", "BUY", "10", "0.40", fees="0.10")
    b = result("p", "N", "NO", "BUY", "4", "0.50", fees="0.04")
    unwinds = [
        result("x", "Z", "YES", "BUY", "99", "0.10"),  # not an instrument of the pair
        result("p", "N", "NO", "BUY", "3", "0.52", fees="0.03"),
        result("p", "N", "NO", "BUY", "1", "0.55", fees="0.01"),
        result("k", "M", "YES", "SELL", "1", "0.38", fees="0.01"),
        result("k", "M", "YES", "SELL", "1", "0.37", fees="0.01"),
    ]
    book = tally(PAIR, {"a": a, "b": b}, unwinds)
    leg_a, leg_b = book.legs["a"], book.legs["b"]
    assert (leg_a.bought, leg_a.bought_cost, leg_a.buy_fees) == (D(10), D("4.00"), D("0.10"))
    assert (leg_a.sold, leg_a.sold_proceeds, leg_a.sell_fees) == (D(2), D("0.75"), D("0.02"))
    assert (leg_b.bought, leg_b.bought_cost, leg_b.buy_fees) == (D(8), D("4.11"), D("0.08"))
    assert book.hedged == D(8) and book.excess == 0 and book.excess_leg is None
    assert book.fees_by_venue == {"k": D("0.12"), "p": D("0.08")}
    assert book.any_fill is True
    # the primary legs matched 4: (1 - 0.41 - 0.51) x 4 = 0.32, fees in the bases
    assert book.primary_edge == D(4) * (1 - D("4.10") / 10 - D("2.04") / 4)


def test_one_contract_is_a_fill_and_nothing_is_none() -> None:
    one = result("k", "M", "YES", "BUY", "1", "0.40")
    assert tally(PAIR, {"a": one, "b": None}, []).any_fill is True
    empty = tally(PAIR, {"a": None, "b": None}, [])
    assert empty.any_fill is False and empty.primary_edge == 0
    assert empty.fees_by_venue == {"k": 0, "p": 0}
