"""A sell beyond the contracts held is booked as the venue holds it: the held part closes
(cost basis off the ledger, P&L realised against it), the rest is the other outcome bought
at 1 - p (a position, standing exposure, no P&L). Booking the whole sell against the average
cost released cost basis that was never held (eating other orders' standing exposure in the
same scopes), counted P&L on contracts never held, and left a negative position that a later
sell of the opened outcome could not close."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from attrs import evolve

from arbexec.engine.accounting import Accounting
from arbexec.engine.live import LiveOrder
from arbexec.ledger import InMemoryLedger
from arbexec.model import Fill, OrderStatus
from arbexec.positions import PositionBook
from tests.risk.test_bursts import live_order, order, policy
from tests.risk.test_restart_restore import restarted


async def test_the_part_beyond_the_position_opens_the_other_outcome() -> None:
    ledger = InMemoryLedger()
    book = PositionBook()
    accounting = Accounting(ledger, book, {})
    elsewhere = LiveOrder(key="b0", request=order("b0", market="PAPER-FED-CUT"),
                          identity="b0", venue_order_id="b0", status=OrderStatus.FILLED,
                          started=0.0)
    buy = live_order("b1", "BUY", "10", "0.40")
    for live, price in ((elsewhere, "0.30"), (buy, "0.40")):
        await accounting.book(live, [Fill(trade_id=f"t-{live.key}", quantity="10",
                                          price=price)])
        await accounting.settle(live)
    assert ledger.exposure_now("total") == Decimal("7.00")
    sell = live_order("s1", "SELL", "30", "0.45", allow_open=True)
    ledger.reserve_now("s1", [])
    await accounting.book(sell, [Fill(trade_id="t1", quantity="30", price="0.45")])
    await accounting.settle(sell)
    # 10 closed at 0.45 against 0.40 (4.00 off); 20 opened NO at 0.55 (11.00 standing)
    assert accounting.today_pnl() == Decimal("0.50")
    assert ledger.exposure_now("total") == Decimal("3.00") + Decimal("11.00")
    assert book.holdings()[("paper", "PAPER-ELECTION", "YES")].quantity == 0
    opened = book.holdings()[("paper", "PAPER-ELECTION", "NO")]
    assert (opened.quantity, opened.cost) == (20, Decimal("11.00"))


async def test_an_opened_position_is_journaled_restored_and_closed_by_a_plain_sell(
        tmp_path: Path) -> None:
    rules = policy({"rule": "max_exposure", "max_total": "1000"})
    venue = {"sells_beyond_position": "open_opposite"}
    first = await restarted(tmp_path, rules, **venue)
    assert (await first.submit(order("b1", quantity="10", price="0.60"))).filled_quantity == 10
    sold = await first.submit(order("s1", side="SELL", quantity="30", price="0.10",
                                    tags={"allow_open": True}))
    assert sold.status is OrderStatus.FILLED
    assert first.journal.verify() == []  # the running summaries agree with a rebuild
    positions = first.journal.positions()
    yes, no = (positions[("paper", "PAPER-ELECTION", o)] for o in ("YES", "NO"))
    assert yes == (0, 0)
    assert no == (20, 20 * (1 - sold.average_price))  # as the venue holds it
    venue_no = [p for p in await first.venues["paper"].fetch_positions()
                if p.outcome.value == "NO"]
    assert [(p.quantity, p.average_price) for p in venue_no] == [(20, 1 - sold.average_price)]
    standing = first.ledger.exposure_now("total")  # type: ignore[attr-defined]
    assert standing == no[1]
    await first.aclose()

    second = await restarted(tmp_path, rules, **venue)
    assert second.ledger.exposure_now("total") == standing  # type: ignore[attr-defined]
    # the NO held closes with a plain sell: its cost basis comes off, nothing is opened
    closed = await second.submit(evolve(order("s2", side="SELL", quantity="20",
                                               price="0.01"), outcome="NO"))
    assert closed.status is OrderStatus.FILLED
    assert second.ledger.exposure_now("total") == 0  # type: ignore[attr-defined]
    assert second.journal.positions()[("paper", "PAPER-ELECTION", "NO")] == (0, 0)
    assert second.journal.verify() == []
    await second.aclose()
