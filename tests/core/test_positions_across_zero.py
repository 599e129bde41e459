"""Sells beyond the contracts held, and trades that cross them, booked at average cost by
the engine, by the journal's running summaries and by their rebuild alike: a buy adds its
price to the cost basis; a sell closes the contracts held (realising P&L against their
average and releasing their cost basis) and opens its excess as the other outcome bought
at 1 - p, as the venue holds it, so no position goes below zero and a later sell of the
opened outcome closes it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbexec.engine import Engine, EngineSettings
from arbexec.engine.accounting import Accounting
from arbexec.engine.live import LiveOrder
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.ledger import InMemoryLedger
from arbexec.model import Fill, OrderRequest, OrderStatus
from arbexec.positions import Booked, PositionBook, book_trade
from arbexec.risk.base import Claim
from arbexec.risk.policy import load_policy
from arbexec.risk.rules import builtin_specs
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import FILL, PARTIAL, ScriptedVenue

D = Decimal
INF = D("Infinity")

# (trades before, the trade, what it books): side, quantity, price
CASES = {
    "a sell with nothing held opens the other outcome at 1 - p": (
        [], ("SELL", "3", "0.70"),
        Booked(D(0), D(0), D(0), D(0), D("0.90"), D(3))),
    "a sell beyond an earlier opening sell opens more of the other outcome": (
        [("SELL", "3", "0.70")], ("SELL", "1", "0.80"),
        Booked(D(0), D(0), D(0), D(0), D("0.20"), D(1))),
    "a sell that crosses a long closes it and opens the rest": (
        [("BUY", "2", "0.40")], ("SELL", "5", "0.70"),
        Booked(D(0), D(0), D("0.60"), D("0.80"), D("0.90"), D(3))),
    "a buy while long adds to the long": (
        [("BUY", "2", "0.40")], ("BUY", "1", "0.70"),
        Booked(D(3), D("1.50"), D(0), D(0), D("0.70"), D(0))),
    "a sell that closes part of a long": (
        [("BUY", "3", "0.40")], ("SELL", "1", "0.70"),
        Booked(D(2), D("0.80"), D("0.30"), D("0.40"), D(0), D(0))),
    "a sell that closes a whole long of an uneven average takes exactly its cost": (
        [("BUY", "1", "0.40"), ("BUY", "2", "0.41")], ("SELL", "3", "0.50"),
        Booked(D(0), D(0), D("0.28"), D("1.22"), D(0), D(0))),
}


@pytest.mark.parametrize("case", CASES)
def test_one_trade_books_at_average_cost(case: str) -> None:
    before, (side, q, p), expected = CASES[case]
    quantity = cost = D(0)
    for s, bq, bp in before:
        booked = book_trade(quantity, cost, s, D(bq), D(bp), D(0))
        quantity, cost = booked.quantity, booked.cost
    assert book_trade(quantity, cost, side, D(q), D(p), D(0)) == expected


def test_a_fee_comes_off_the_realised_p_and_l_of_an_opening_sell() -> None:
    opened = book_trade(D(0), D(0), "SELL", D(2), D("0.70"), D("0.01"))
    assert (opened.realised, opened.opened, opened.other) == (D("-0.01"), D("0.60"), D(2))


def test_a_fee_comes_off_the_realised_p_and_l_of_a_closing_sell() -> None:
    long = book_trade(D(0), D(0), "BUY", D(3), D("0.40"), D(0))
    sold = book_trade(long.quantity, long.cost, "SELL", D(2), D("0.50"), D("0.03"))
    assert sold == Booked(D(1), D("0.40"), D("0.17"), D("0.80"), D(0), D(0))


# ---------------------------------------------------------------------------- the engine's


def live_order(side: str, key: str, outcome: str = "YES") -> LiveOrder:
    request = OrderRequest(request_id=key, idempotency_key=key, venue="v", market="M",
                           outcome=outcome, side=side, quantity="10", limit_price="0.90",
                           tags={"allow_open": True})
    return LiveOrder(key=key, request=request, identity=key, venue_order_id=key,
                     status=OrderStatus.FILLED, started=0.0)


async def traded(books: Accounting, ledger: InMemoryLedger, side: str, key: str,
                 *fills: tuple[str, str], outcome: str = "YES") -> None:
    """One order: its reservation at admission, its fills booked, then its final state."""
    live = live_order(side, key, outcome)
    await ledger.try_reserve(key, [Claim(key=k, amount=D(9), limit=INF, rule="x", code="x")
                                   for k in books.keys("v", "M")])
    await books.book(live, [Fill(trade_id=f"{key}-{i}", quantity=q, price=p)
                            for i, (q, p) in enumerate(fills)])
    await books.settle(live)


def held(books: Accounting) -> dict[Any, Any]:
    return {k: (b.quantity, b.cost) for k, b in books.positions.holdings().items() if b.quantity}


async def test_the_engine_books_opening_sells_as_the_other_outcome_and_closes_it() -> None:
    ledger = InMemoryLedger()
    books = Accounting(ledger=ledger, positions=PositionBook(), market_events={})
    await traded(books, ledger, "SELL", "s1", ("3", "0.70"))
    await traded(books, ledger, "SELL", "s2", ("1", "0.80"))
    # 4 NO for 0.90 + 0.20 at risk (the old rule took each sale's price off: 0.30)
    assert ledger.exposure_now("total") == D("1.10")
    assert held(books) == {("v", "M", "NO"): (D(4), D("1.10"))}
    await traded(books, ledger, "SELL", "n1", ("1", "0.40"), ("3", "0.40"), outcome="NO")
    assert ledger.exposure_now("total") == 0  # the NO sold closes what the sells opened
    assert held(books) == {}
    assert books.today_pnl() == D("0.50")  # NO bought for 1.10, sold for 1.60


async def test_the_engine_books_a_sell_that_crosses_a_long() -> None:
    ledger = InMemoryLedger()
    books = Accounting(ledger=ledger, positions=PositionBook(), market_events={})
    await traded(books, ledger, "BUY", "b1", ("2", "0.40"))
    await traded(books, ledger, "SELL", "s1", ("5", "0.70"))  # closes 2, opens 3 NO
    assert ledger.exposure_now("total") == D("0.90")
    assert books.today_pnl() == D("0.60")  # 2 x (0.70 - 0.40), not 5 x it
    assert held(books) == {("v", "M", "NO"): (D(3), D("0.90"))}


async def test_trades_reported_after_the_final_state_book_the_opened_outcome_too() -> None:
    ledger = InMemoryLedger()
    books = Accounting(ledger=ledger, positions=PositionBook(), market_events={})
    sell = live_order("SELL", "s")
    await books.book(sell, [Fill(trade_id="t1", quantity="3", price="0.70")], after_final=True)
    await books.book(sell, [Fill(trade_id="t2", quantity="1", price="0.80")], after_final=True)
    assert ledger.exposure_now("total") == D("1.10")
    closing = live_order("SELL", "n", "NO")
    await books.book(closing, [Fill(trade_id="t3", quantity="3", price="0.60")],
                     after_final=True)
    assert ledger.exposure_now("total") == D("0.275")  # 3 of the 4 NO closed at average


# ---------------------------------------------------------------------------- the journal's


def journaled(journal: Journal, key: str, side: str, *fills: tuple[str, str],
              outcome: str = "YES") -> None:
    journal.record_intent(OrderRequest(request_id=key, idempotency_key=key, venue="v",
                                       market="M", outcome=outcome, side=side, quantity="10",
                                       limit_price="0.90", tags={"allow_open": True}),
                          identity=key, venue_order_id=key)
    journal.record_state(key, status=OrderStatus.FILLED,
                         fills=[Fill(trade_id=f"{key}-{i}", quantity=q, price=p)
                                for i, (q, p) in enumerate(fills)])


def open_positions(journal: Journal) -> dict[Any, Any]:
    return {k: v for k, v in journal.positions().items() if v[0]}


def test_the_journal_s_summaries_book_opening_sells_and_their_close(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    journaled(journal, "s1", "SELL", ("3", "0.70"))
    journaled(journal, "s2", "SELL", ("1", "0.80"))
    assert open_positions(journal) == {("v", "M", "NO"): (D(4), D("1.10"))}
    assert journal.market_exposure() == {("v", "M"): D("1.10")}  # the old rule: 0.30
    journaled(journal, "n1", "SELL", ("5", "0.40"), outcome="NO")  # closes 4, opens 1 YES
    assert open_positions(journal) == {("v", "M", "YES"): (D(1), D("0.60"))}
    assert journal.market_exposure() == {("v", "M"): D("0.60")}
    assert sum(realised for realised, _ in journal.daily_pnl().values()) == D("0.50")
    assert journal.verify() == []
    journal.close()


def test_the_schema_4_migration_rebuilds_a_sell_booked_by_the_old_rule(
        tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    journaled(journal, "s1", "SELL", ("3", "0.70"))
    journaled(journal, "s2", "SELL", ("1", "0.80"))
    journal.close()
    db = sqlite3.connect(path)  # the figures schema 3 wrote for it
    db.execute("DELETE FROM positions")
    db.execute("INSERT INTO positions(venue, market, outcome, quantity, cost) "
               "VALUES ('v', 'M', 'YES', '-4', '-2.90')")
    db.execute("UPDATE market_exposure SET amount='0.30'")
    db.execute("UPDATE meta SET value='3' WHERE key='schema'")
    db.execute("DROP INDEX events_rare_4")  # schema 3's index of rare event kinds
    db.execute("CREATE INDEX events_rare ON events(kind, seq) "
               "WHERE kind IN ('risk.breaker', 'pair.result')")
    db.commit()
    db.close()
    journal = Journal.open(path)
    assert journal.market_exposure() == {("v", "M"): D("1.10")}
    assert open_positions(journal) == {("v", "M", "NO"): (D(4), D("1.10"))}
    assert journal.verify() == []
    journal.close()
    db = sqlite3.connect(path)
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    db.close()
    assert "events_rare_4" in indexes and "events_rare" not in indexes


# ---------------------------------------------------------------------------- end to end


def engine_on(journal: Journal, policy: Any = None, venue: Any = None) -> Engine:
    venue = venue or ScriptedVenue(default=FILL)
    engine = Engine(journal=journal, venues={venue.name: venue},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]),
                    settings=EngineSettings(wait_budget=0.0, background_tracking=False))
    if policy is not None:
        engine.policy = policy
    return engine


def order(key: str, side: str, quantity: str, price: str, outcome: str = "YES"
          ) -> OrderRequest:
    return OrderRequest(request_id=key, idempotency_key=key, venue="scripted", market="M",
                        outcome=outcome, side=side, quantity=quantity, limit_price=price,
                        tags={"allow_open": True})


async def filled_in_turn(engine: Engine, *orders: tuple[str, ...]) -> None:
    for key, side, quantity, price, *outcome in orders:
        result = await engine.submit(order(key, side, quantity, price, *outcome))
        assert result.status is OrderStatus.FILLED, result.reason


async def figures(engine: Engine) -> tuple[Decimal, Decimal, dict[Any, Any]]:
    """The engine's own: market M's exposure, today's P&L and every position."""
    return (await engine.ledger.exposure("market:scripted:M"), engine._accounting.today_pnl(),
            {k: (b.quantity, b.cost) for k, b in engine.positions.holdings().items()
             if b.quantity})


async def test_opening_sells_stay_under_its_exposure_limit(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = engine_on(journal, load_policy([{"rule": "max_exposure", "max_total": "5"}],
                                            available=builtin_specs(), source="test"))
    await engine.start()
    # each sell of 5 at 0.70 beyond the position opens 1.50 of risk: three fit under 5
    results = [await engine.submit(order(f"s{i}", "SELL", "5", "0.70")) for i in range(5)]
    standing = await engine.ledger.exposure("total")
    await engine.aclose()
    assert [r.status for r in results] == [OrderStatus.FILLED] * 3 + [OrderStatus.DENIED] * 2
    assert results[3].reason_code == "exposure_total"
    assert standing == D("4.50") == journal.market_exposure()[("scripted", "M")]
    journal.close()


async def test_the_engine_and_a_restart_agree_on_an_opened_outcome_sold_past_zero(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    engine = engine_on(journal)
    await engine.start()
    await filled_in_turn(engine, ("s1", "SELL", "3", "0.70"), ("s2", "SELL", "1", "0.80"),
                         ("n1", "SELL", "5", "0.40", "NO"))
    running = await figures(engine)
    await engine.aclose()
    journal.close()
    journal = Journal.open(path)
    again = engine_on(journal)
    await again.start()
    restored = await figures(again)
    await again.aclose()
    assert journal.verify() == []
    journal.close()
    # 4 NO opened for 1.10 and sold for 1.60; the fifth NO sold opens 1 YES at 0.60
    assert running == restored == (D("0.60"), D("0.50"),
                                   {("scripted", "M", "YES"): (D(1), D("0.60"))})


def test_pnl_lists_the_outcome_a_sell_opened(tmp_path: Path) -> None:
    from arbexec.desk import pnl_report

    journal = Journal.open(tmp_path / "j.sqlite3")
    journaled(journal, "s1", "SELL", ("4", "0.70"))
    report = pnl_report(journal)
    journal.close()
    assert report["open_positions"] == [{
        "venue": "v", "market": "M", "outcome": "NO", "quantity": "4",
        "cost_basis": "1.2", "average_price": "0.3"}]


class ListsNoTrades(ScriptedVenue):
    """A venue that reports a fill's quantity and average price but lists no trades."""

    def _state(self, order: Any, action: str) -> Any:
        from attrs import evolve

        return evolve(super()._state(order, action), fills=())


async def test_an_order_whose_venue_lists_no_trades_is_booked_as_the_journal_books_it(
        tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = engine_on(journal, venue=ListsNoTrades(default=FILL))
    await engine.start()
    await filled_in_turn(engine, ("b", "BUY", "10", "0.40"), ("s", "SELL", "4", "0.50"),
                         ("o", "SELL", "8", "0.70"))
    running = await figures(engine)
    await engine.aclose()
    # 6 of the 10 left at 2.40 are closed by the last sell, which opens 2 NO at 0.30
    assert running == (D("0.60"), D("2.20"), {("scripted", "M", "NO"): (D(2), D("0.60"))})
    assert journal.market_exposure() == {("scripted", "M"): running[0]}
    assert {k: v for k, v in journal.positions().items() if v[0]} == running[2]
    assert journal.verify() == []
    journal.close()


async def test_one_contract_sold_on_a_venue_that_lists_no_trades_books_its_fee() -> None:
    ledger = InMemoryLedger()
    books = Accounting(ledger=ledger, positions=PositionBook(), market_events={})
    await traded(books, ledger, "BUY", "b", ("2", "0.40"))
    sell = live_order("SELL", "s")
    sell.filled, sell.average_price, sell.fees = D(1), D("0.50"), D("0.02")
    await books.settle(sell)
    assert sell.booking.trades == {"journal"}  # the trade id the journal gives it
    assert books.today_pnl() == D("0.08")  # 0.50 - 0.40, less the fee
    assert ledger.exposure_now("total") == D("0.40")


async def test_an_opening_sell_partly_filled_before_a_restart_holds_all_it_opened(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    venue = ScriptedVenue(default=FILL)
    venue.script("M", PARTIAL)  # 5 of the 10 fill, the rest rests
    limit = load_policy([{"rule": "max_exposure", "max_total": "100"}],
                        available=builtin_specs(), source="test")
    journal = Journal.open(path)
    engine = engine_on(journal, limit, venue)
    await engine.start()
    resting = await engine.submit(order("s", "SELL", "10", "0.70"))
    await engine.aclose()
    journal.close()
    journal = Journal.open(path)
    again = engine_on(journal, limit, venue)
    await again.start()
    held = await again.ledger.exposure("total")  # 5 opened as NO and 5 still to sell
    venue.complete(venue.sent[0])
    await again.reconcile()
    standing = await again.ledger.exposure("total")
    await again.aclose()
    assert resting.status is OrderStatus.PARTIALLY_FILLED
    assert held == standing == D("3.00")  # 10 x (1 - 0.70)
    assert journal.market_exposure() == {("scripted", "M"): standing}
    journal.close()
