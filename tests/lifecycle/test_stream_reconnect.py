"""An order stream that ends is not reopened by the engine (the venue's stream owns its
reconnects); what it never reported is caught up once, when it ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from attrs import define, field

from arbexec.engine import Engine, EngineSettings
from arbexec.exchange import Capabilities
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest, OrderState, OrderStatus
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import REST, ScriptedVenue


@define
class DroppingStream(ScriptedVenue):
    """A streaming venue whose stream dies, without a word, after the order filled."""

    capabilities: Capabilities = field(factory=lambda: Capabilities(order_stream=True))
    opened: int = 0
    filled: asyncio.Event = field(factory=asyncio.Event)

    def watch_orders(self) -> AsyncIterator[OrderState]:
        self.opened += 1
        return self._dying()

    async def _dying(self) -> AsyncIterator[OrderState]:
        await self.filled.wait()
        raise ConnectionError("websocket closed (1006)")
        yield  # pragma: no cover


async def test_a_stream_that_ends_is_caught_up_once_and_not_reopened(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    venue = DroppingStream()
    # polling so slow it cannot be what finishes the order within the test
    engine = Engine(journal=journal, venues={venue.name: venue}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([]), settings=EngineSettings(
                        wait_budget=0.01, poll_interval=30.0, poll_max_interval=30.0))
    await engine.start()
    venue.script("M", REST)
    request = OrderRequest(request_id="r", idempotency_key="k", venue=venue.name, market="M",
                           outcome="YES", side="BUY", quantity=4, limit_price="0.5")
    result = await engine.submit(request)
    assert result.status is OrderStatus.OPEN
    venue.complete(venue.sent[0])  # filled; the stream never says so
    venue.filled.set()
    for _ in range(200):
        row = journal.get("k")
        if row is not None and row.status.is_final:
            break
        await asyncio.sleep(0.01)
    assert journal.get("k").status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert venue.opened == 1  # the engine keeps no reconnect loop of its own
    assert [e.data["venue"] for _, e in journal.events(kinds=["stream.ended"])] == [venue.name]
    await engine.aclose()
    journal.close()
