"""The order rate counts sends, whatever became of them, across restarts: an order the
venue refused still went to it (its window slot stays), and the sends of the last minute
before a restart count in the new process (the ledger that held their slots is gone)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from arbexec.engine import Engine, EngineSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.ledger import InMemoryLedger
from arbexec.model import OrderStatus
from arbexec.sinks.hub import SinkHub
from tests.risk.test_bursts import order, policy
from tests.risk.test_engine_policies import WEDNESDAY_NOON_NY, paper
from tests.risk.test_model_based import PER_SECOND, EngineModel

TICK = 1000.0  # the monotonic clock stands still: every send falls in one window


def engine_on(tmp_path: Path, rules: Any, **venue: Any) -> Engine:
    venue.setdefault("seed", 1)
    journal = Journal.open(tmp_path / "journal.sqlite3", clock=lambda: WEDNESDAY_NOON_NY)
    return Engine(journal=journal, venues={"paper": paper(tmp_path, **venue)},
                  halt=JournalHaltFlag(journal), hub=SinkHub([]), policy=rules,
                  ledger=InMemoryLedger(clock=lambda: TICK), monotonic=lambda: TICK,
                  settings=EngineSettings(wait_budget=0.0, background_tracking=False),
                  clock=lambda: WEDNESDAY_NOON_NY)


def test_a_send_the_venue_refused_keeps_its_slot() -> None:
    """Found by the model-based test: two resting buys hold two of the four slots; of three
    concurrent sells the venue refuses, the first came back refused while the third was
    admitted, and its slot, released, let a fifth order out in the same second."""
    model = EngineModel()
    try:
        model.buys(count=2, where=("paper-b", "ARB"), price="0.05", quantity="1", tif="GTC")
        model.sells(where=("paper-b", "ARB"), outcome="YES", quantity="1",
                    orders=[("0.10", True)] * 3)
        assert len(model.sends["paper-b"]) == PER_SECOND
        model.the_order_rate_holds_at_the_venues()
    finally:
        model.teardown()


async def test_the_last_minutes_sends_count_after_a_restart(tmp_path: Path) -> None:
    rules = {"rule": "order_rate", "per_minute": 3}
    first = engine_on(tmp_path, policy(rules))
    await first.start()
    for key in ("b1", "b2"):
        assert (await first.submit(order(key, quantity="1"))).status is OrderStatus.FILLED
    await first.aclose()
    second = engine_on(tmp_path, policy(rules))  # the clock stood: the same minute
    await second.start()
    results = await asyncio.gather(*(second.submit(order(f"c{i}", quantity="1"))
                                     for i in range(20)))
    await second.aclose()
    assert [r.status for r in results].count(OrderStatus.FILLED) == 1
    assert {r.reason_code for r in results if r.status is OrderStatus.DENIED} == {
        "rate_per_minute"}
