"""What admission reserved and what the breaker learned outlive the process: a new engine on
the same journal and paper state holds the same limits as the one that stopped."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec.engine import Engine, EngineSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest, OrderStatus, Position
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import REST, ScriptedVenue
from tests.risk.test_bursts import order, policy
from tests.risk.test_engine_policies import WEDNESDAY_NOON_NY, paper


def engine_on(tmp_path: Path, rules: Any, **venue: Any) -> Engine:
    venue.setdefault("seed", 1)
    venue.setdefault("cash", "100000")
    journal = Journal.open(tmp_path / "journal.sqlite3")
    return Engine(journal=journal, venues={"paper": paper(tmp_path, **venue)},
                  halt=JournalHaltFlag(journal), hub=SinkHub([]), policy=rules,
                  settings=EngineSettings(wait_budget=0.0, background_tracking=False),
                  clock=lambda: WEDNESDAY_NOON_NY)


async def restarted(tmp_path: Path, rules: Any, **venue: Any) -> Engine:
    engine = engine_on(tmp_path, rules, **venue)
    await engine.start()
    return engine


async def test_an_open_breaker_stays_open_after_a_restart(tmp_path: Path) -> None:
    table = {"rule": "circuit_breaker", "consecutive_failures": 2, "cooldown_seconds": 60}
    first = await restarted(tmp_path, policy(table), outage=True)
    for key in ("f1", "f2"):
        assert (await first.submit(order(key, quantity="1"))).status is OrderStatus.REJECTED
    assert (await first.submit(order("f3", quantity="1"))).reason_code == "breaker_open"
    await first.aclose()
    second = await restarted(tmp_path, policy(table))  # the venue is back, the clock stood
    after = await second.submit(order("f4", quantity="1"))
    await second.aclose()
    assert after.status is OrderStatus.DENIED and after.reason_code == "breaker_open"


async def test_per_event_exposure_from_the_venue_rules_survives_a_restart(
        tmp_path: Path) -> None:
    # PAPER-ELECTION's event (PAPER-POLITICS) comes from the venue's market rules only
    table = {"rule": "max_exposure", "max_per_event": "50"}
    first = await restarted(tmp_path, policy(table))
    filled = await first.submit(order("e1", quantity="80", price="0.62"))
    assert filled.status is OrderStatus.FILLED
    standing = first.ledger.exposure_now("event:paper:PAPER-POLITICS")  # type: ignore[attr-defined]
    assert standing > 40
    await first.aclose()
    second = await restarted(tmp_path, policy(table))
    assert second.ledger.exposure_now("event:paper:PAPER-POLITICS") == standing  # type: ignore[attr-defined]
    more = await second.submit(order("e2", quantity="20", price="0.62"))
    await second.aclose()
    assert more.status is OrderStatus.DENIED and more.reason_code == "exposure_event"


async def test_open_order_and_cash_holds_of_resting_orders_come_back_at_start(
        tmp_path: Path) -> None:
    rules = ({"rule": "max_open_orders", "total": 2},
             {"rule": "available_balance", "include_fees": False})
    first = await restarted(tmp_path, policy(*rules), cash="10")
    resting = await asyncio.gather(*(first.submit(order(f"g{i}", quantity="10", price="0.05",
                                                        tif="GTC")) for i in range(2)))
    assert [r.status for r in resting] == [OrderStatus.OPEN] * 2
    await first.aclose()
    second = await restarted(tmp_path, policy(*rules), cash="10")
    held = (second.ledger.exposure_now("open_orders:total"),  # type: ignore[attr-defined]
            second.ledger.exposure_now("cash:paper"))  # type: ignore[attr-defined]
    third = await second.submit(order("g3", quantity="1", price="0.05", tif="GTC"))
    await second.aclose()
    assert held == (2, 1)
    assert third.status is OrderStatus.DENIED and third.reason_code == "open_orders_total"


class HoldingVenue(ScriptedVenue):
    """A scripted venue whose account holds 4 YES of M1 (bought before this journal)."""

    async def fetch_positions(self) -> list[Position]:
        return [Position(venue=self.name, market="M1", outcome="YES", quantity="4")]


async def test_a_resting_opening_sell_holds_its_opening_part_after_a_restart(
        tmp_path: Path) -> None:
    # 4 held; a sell of 10 at 0.40 closes 4 and opens 6 NO at 0.60: 3.60 at risk and cash
    rules = policy({"rule": "max_exposure", "max_total": "5"},
                   {"rule": "available_balance", "include_fees": False})
    venue = HoldingVenue(name="paper", default=REST, cash=Decimal(100))
    sell = OrderRequest(request_id="s1", idempotency_key="s1", venue="paper", market="M1",
                        outcome="YES", side="SELL", quantity="10", limit_price="0.40",
                        time_in_force="GTC", tags={"allow_open": True})

    async def started() -> Engine:
        journal = Journal.open(tmp_path / "journal.sqlite3")
        engine = Engine(journal=journal, venues={"paper": venue},
                        halt=JournalHaltFlag(journal), hub=SinkHub([]), policy=rules,
                        settings=EngineSettings(wait_budget=0.0, background_tracking=False),
                        clock=lambda: WEDNESDAY_NOON_NY)
        await engine.start()
        return engine

    first = await started()
    assert (await first.submit(sell)).status is OrderStatus.OPEN
    before = [first.ledger.exposure_now(k)  # type: ignore[attr-defined]
              for k in ("total", "cash:paper", "position:paper:M1:YES")]
    await first.aclose(close_venues=False)
    second = await started()
    after = [second.ledger.exposure_now(k)  # type: ignore[attr-defined]
             for k in ("total", "cash:paper", "position:paper:M1:YES")]
    buy = await second.submit(OrderRequest(
        request_id="b1", idempotency_key="b1", venue="paper", market="M1", outcome="YES",
        side="BUY", quantity="4", limit_price="0.40", time_in_force="IOC"))
    await second.aclose()
    assert before == [Decimal("3.60"), Decimal("3.60"), Decimal(4)]
    assert after == before
    assert buy.status is OrderStatus.DENIED and buy.reason_code == "exposure_total"  # 3.60 + 1.60
