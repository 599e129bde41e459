"""The engine's path with a scripted venue: every outcome, no doubles, nothing lost."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from attrs import frozen

from arbexec.engine import Engine, EngineSettings
from arbexec.events import Event
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest, OrderStatus
from arbexec.risk.base import Claim, Need, RiskContext, Verdict
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import (
    BOOM,
    LOSE_ACK,
    LOSE_ORDER,
    PARTIAL,
    REJECT,
    REST,
    ScriptedVenue,
)


def request(key: str, market: str = "M", **overrides: object) -> OrderRequest:
    values: dict[str, object] = dict(request_id=f"r-{key}", idempotency_key=key,
                                     venue="scripted", market=market, outcome="YES", side="BUY",
                                     quantity="10", limit_price="0.50")
    values.update(overrides)
    return OrderRequest(**values)  # type: ignore[arg-type]


async def test_a_marketable_order_fills_and_is_journaled(engine: Engine, venue: ScriptedVenue,
                                                         journal: Journal) -> None:
    result = await engine.submit(request("a"))
    assert result.status is OrderStatus.FILLED
    assert result.filled_quantity == Decimal(10) and result.average_price == Decimal("0.50")
    assert result.latency_final_ms is not None and result.latency_ack_ms is not None
    assert journal.get("a").status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert [f.trade_id for f in journal.fills("a")] == [f"{venue.sent[0]}-t1"]
    kinds = [e.kind for _, e in journal.events(key="a")]
    assert kinds[0] == "order.sent" and kinds[-1] == "order.state"


async def test_a_venue_rejection_keeps_the_venue_reason(engine: Engine, venue: ScriptedVenue
                                                        ) -> None:
    venue.script("M", REJECT)
    result = await engine.submit(request("a"))
    assert result.status is OrderStatus.REJECTED
    assert result.reason == "scripted rejection" and result.reason_code == "invalid_order"


async def test_the_same_key_sends_one_order_even_concurrently(engine: Engine,
                                                              venue: ScriptedVenue) -> None:
    venue.delay = 0.05
    results = await asyncio.gather(*(engine.submit(request("same")) for _ in range(20)))
    assert len(venue.sent) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert all(r.status is OrderStatus.FILLED for r in results)


async def test_the_same_key_after_a_restart_sends_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    for expected_sends in (1, 0):
        journal = Journal.open(path)
        venue = ScriptedVenue()
        engine = Engine(journal=journal, venues={"scripted": venue},
                        halt=JournalHaltFlag(journal), hub=SinkHub([]))
        await engine.start()
        result = await engine.submit(request("once"))
        await engine.aclose()
        journal.close()
        assert len(venue.sent) == expected_sends
        assert result.status is OrderStatus.FILLED
        assert result.duplicate is (expected_sends == 0)


async def test_a_lost_acknowledgement_is_resolved_by_lookup_not_resent(
    engine: Engine, venue: ScriptedVenue
) -> None:
    venue.script("M", LOSE_ACK)
    result = await engine.submit(request("a"))
    assert result.status is OrderStatus.FILLED
    assert result.reason is None  # the UNKNOWN note is superseded by the venue's word
    assert len(venue.sent) == 1


async def test_an_order_the_venue_never_got_ends_rejected_after_the_grace(
    engine: Engine, venue: ScriptedVenue, journal: Journal
) -> None:
    venue.script("M", LOSE_ORDER)
    result = await engine.submit(request("a"))
    assert result.status is OrderStatus.UNKNOWN
    for _ in range(100):
        await asyncio.sleep(0.02)
        if journal.get("a").status is OrderStatus.REJECTED:  # type: ignore[union-attr]
            break
    row = journal.get("a")
    assert row is not None and row.status is OrderStatus.REJECTED
    assert row.reason_code == "never_received"
    assert len(venue.sent) == 1


async def test_an_unexpected_plugin_error_is_unknown_not_rejected(
    engine: Engine, venue: ScriptedVenue
) -> None:
    venue.script("M", BOOM)
    result = await engine.submit(request("a"))
    # the venue had accepted it: the lookup finds the fill
    assert result.status is OrderStatus.FILLED and len(venue.sent) == 1


async def test_a_resting_order_is_reported_open_and_followed_to_its_fill(
    engine: Engine, venue: ScriptedVenue, journal: Journal
) -> None:
    venue.script("M", REST)
    result = await engine.submit(request("a"))
    assert result.status is OrderStatus.OPEN
    venue.complete(venue.sent[0])
    for _ in range(100):
        await asyncio.sleep(0.02)
        if journal.get("a").status is OrderStatus.FILLED:  # type: ignore[union-attr]
            break
    assert journal.get("a").status is OrderStatus.FILLED  # type: ignore[union-attr]


async def test_a_partial_fill_is_not_reported_as_filled(engine: Engine, venue: ScriptedVenue
                                                        ) -> None:
    venue.script("M", PARTIAL)
    result = await engine.submit(request("a"))
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert result.filled_quantity == Decimal(5)


async def test_an_unknown_venue_is_denied_and_nothing_is_sent(engine: Engine,
                                                              venue: ScriptedVenue) -> None:
    result = await engine.submit(request("a", venue="nowhere"))
    assert result.status is OrderStatus.DENIED and result.reason_code == "unknown_venue"
    assert "scripted" in (result.reason or "")
    assert venue.sent == []


async def test_off_grid_prices_are_denied_before_sending(engine: Engine, venue: ScriptedVenue
                                                         ) -> None:
    result = await engine.submit(request("a", limit_price="0.505"))
    assert result.status is OrderStatus.DENIED and result.reason_code == "off_grid"
    assert venue.sent == []


async def test_the_halt_flag_blocks_new_orders_until_resumed(engine: Engine,
                                                             venue: ScriptedVenue,
                                                             journal: Journal,
                                                             tmp_path: Path) -> None:
    other = Journal.open(tmp_path / "journal.sqlite3")  # another process's connection
    other.set_halt(True, reason="drill", by="ops")
    denied = await engine.submit(request("a"))
    assert denied.status is OrderStatus.DENIED and denied.reason_code == "halted"
    other.set_halt(False, reason=None, by="ops")
    other.close()
    allowed = await engine.submit(request("a"))  # a denied key may be tried again
    assert allowed.status is OrderStatus.FILLED and len(venue.sent) == 1


@frozen
class _Decision:
    allowed: bool
    verdict: Verdict | None
    verdicts: tuple[Verdict, ...]
    claims: tuple[Claim, ...]


@frozen
class _TotalLimit:
    """A policy with one exposure limit, to prove check-and-reserve is atomic."""

    limit: Decimal
    needs: frozenset[Need] = frozenset()
    observers: tuple[object, ...] = ()

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> _Decision:
        claim = Claim(key="total", amount=request.notional, limit=self.limit,
                      rule="max_total", code="exposure_total")
        return _Decision(True, None, (), (claim,))

    def explain(self, request: OrderRequest, ctx: RiskContext) -> _Decision:
        return self.evaluate(request, ctx)

    def release(self, request: OrderRequest) -> None:
        return None

    def drain_events(self) -> tuple[Event, ...]:
        return ()

    def restore(self, read: object) -> None:
        return None


async def test_concurrent_requests_cannot_together_pass_an_exposure_limit(
    journal: Journal
) -> None:
    venue = ScriptedVenue(default=REST, delay=0.01)
    engine = Engine(journal=journal, venues={"scripted": venue}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([]), policy=_TotalLimit(Decimal(100)),
                    settings=EngineSettings(wait_budget=0.0, background_tracking=False))
    await engine.start()
    # 50 orders of 10 x 0.50 = 5 each; only 20 fit under 100
    results = await asyncio.gather(*(engine.submit(request(f"k{i}")) for i in range(50)))
    await engine.aclose()
    sent = [r for r in results if r.status is OrderStatus.OPEN]
    denied = [r for r in results if r.status is OrderStatus.DENIED]
    assert len(sent) == 20 and len(venue.sent) == 20
    assert all(r.reason_code == "exposure_total" for r in denied)


class _FailingSink:
    name = "failing"

    async def emit(self, event: Event) -> None:
        raise RuntimeError("disk full")

    async def aclose(self) -> None:
        return None


class _SlowSink:
    name = "slow"

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def emit(self, event: Event) -> None:
        await asyncio.sleep(0.01)
        self.seen.append(event.kind)

    async def aclose(self) -> None:
        return None


async def test_failing_and_slow_sinks_never_stall_execution(journal: Journal) -> None:
    venue = ScriptedVenue()
    slow = _SlowSink()
    engine = Engine(journal=journal, venues={"scripted": venue}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([_FailingSink(), slow], close_timeout=5.0))
    await engine.start()
    results = await asyncio.gather(*(engine.submit(request(f"k{i}")) for i in range(30)))
    assert all(r.status is OrderStatus.FILLED for r in results)
    assert len(slow.seen) < 30 * 3  # execution finished long before the slow sink caught up
    await engine.aclose()
    assert slow.seen.count("result") == 30  # and no money-path event was dropped


async def test_restart_turns_pending_into_unknown_then_reconciles(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    venue = ScriptedVenue()
    # A crash after the intent was written but before the send: the venue never got it.
    journal.record_intent(request("lost"), identity="scripted-lost", venue_order_id=None)
    # A crash after the send: the venue has it.
    r = request("landed")
    prepared = await venue.prepare_order(r)
    journal.record_intent(r, identity=prepared.identity, venue_order_id=prepared.venue_order_id)
    await venue.create_order(prepared)
    # the grace (from the send) has passed: a miss now proves the order never arrived
    engine = Engine(journal=journal, venues={"scripted": venue}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([]), settings=EngineSettings(unknown_grace=0.0))
    await engine.start()
    assert journal.get("lost").status is OrderStatus.UNKNOWN  # type: ignore[union-attr]
    report = await engine.reconcile()
    await engine.aclose()
    states = {line["idempotency_key"]: line["now"] for line in report}
    assert states == {"lost": "REJECTED", "landed": "FILLED"}
    assert len(venue.sent) == 1  # nothing was resent
    journal.close()


@pytest.mark.parametrize("budget", [0.0])
async def test_venue_orders_unknown_to_the_journal_are_reported(journal: Journal,
                                                                budget: float) -> None:
    venue = ScriptedVenue(default=REST)
    stray = await venue.prepare_order(request("stray"))
    await venue.create_order(stray)  # placed by someone else
    engine = Engine(journal=journal, venues={"scripted": venue}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([]), settings=EngineSettings(wait_budget=budget))
    await engine.start()
    report = await engine.compare_venues()
    await engine.aclose()
    assert [line["venue_order_id"] for line in report] == [stray.identity]


async def test_partial_fills_count_in_todays_pnl_before_the_order_ends(
    engine: Engine, venue: ScriptedVenue
) -> None:
    await engine.submit(request("buy", limit_price="0.50"))  # 10 bought at 0.50
    venue.script("M", PARTIAL)
    sell = await engine.submit(request("sell", side="SELL", limit_price="0.60"))
    assert sell.status is OrderStatus.PARTIALLY_FILLED  # 5 sold at 0.60, 5 resting
    ctx, _ = await engine.risk_context(request("probe"), venue)
    assert ctx.daily_realised_pnl == Decimal("0.50")  # 5 x (0.60 - 0.50), booked once
    venue.complete(venue.sent[-1])
    for _ in range(100):
        await asyncio.sleep(0.02)
        ctx, _ = await engine.risk_context(request("probe"), venue)
        if ctx.daily_realised_pnl != Decimal("0.50"):
            break
    assert ctx.daily_realised_pnl == Decimal("1.00")  # the rest booked when it filled


async def test_each_request_may_carry_its_own_wait_budget(engine: Engine, venue: ScriptedVenue
                                                          ) -> None:
    venue.script("M", REST, REST)
    quick = await engine.submit(request("quick", wait_budget=0))
    assert quick.status is OrderStatus.OPEN  # reported at once, followed in the background

    async def fill_later() -> None:
        await asyncio.sleep(0.4)  # after the engine's own 0.2 s budget
        venue.complete(venue.sent[-1])

    filler = asyncio.get_running_loop().create_task(fill_later())
    patient = await engine.submit(request("patient", wait_budget=5))
    await filler
    assert patient.status is OrderStatus.FILLED  # its own budget outlasted the engine's


class _BrokenPrepare(ScriptedVenue):
    async def prepare_order(self, request: OrderRequest):  # type: ignore[no-untyped-def]
        raise KeyError("plugin bug")


async def test_a_plugin_failing_before_the_send_denies_and_sends_nothing(
    journal: Journal,
) -> None:
    venue = _BrokenPrepare(name="scripted")
    engine = Engine(journal=journal, venues={"scripted": venue}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([]))
    await engine.start()
    result = await engine.submit(request("a"))
    await engine.aclose()
    assert result.status is OrderStatus.DENIED and result.reason_code == "prepare_failed"
    assert "nothing was sent" in (result.reason or "") and venue.sent == []
