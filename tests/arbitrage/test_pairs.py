"""Pairs on two paper venues with the realism switches: every final state, no doubles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.engine import Engine
from arbexec.journal import Journal
from arbexec.model import OrderStatus, Outcome

MakePair = Callable[..., PairRequest]


async def positions(venue: PaperExchange) -> dict[tuple[str, Outcome], Decimal]:
    return {(p.market, p.outcome): p.quantity for p in await venue.fetch_positions()
            if p.quantity}


async def test_both_legs_fill_and_the_pair_is_hedged(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange, journal: Journal) -> None:
    result = await executor.execute(make_pair(quantity=10))
    assert result.state is PairState.HEDGED
    assert result.hedged_quantity == 10 and result.exposed_quantity == 0
    fee_a = venue_a.fee("M", Decimal("0.41"), Decimal(10), "TAKER")  # type: ignore[arg-type]
    assert result.fees["paper-a"] > 0 and result.fees["paper-b"] > 0
    # (1 - 0.41 - 0.46) per contract, minus both venues' fees
    expected = Decimal(10) * (1 - Decimal("0.41") - Decimal("0.46")) - result.total_fees
    assert result.realised_edge == expected
    assert result.realised_edge_per_contract == expected / 10
    assert fee_a >= 0
    assert [leg.name for leg in result.legs] == ["a", "b"]
    assert all(leg.latency_ms is not None for leg in result.legs)
    assert await positions(venue_a) == {("M", Outcome.YES): Decimal(10)}
    assert await positions(venue_b) == {("M", Outcome.NO): Decimal(10)}
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["state"] == "HEDGED"
    leg = journal.get("arb-1:a")
    assert leg is not None and leg.request["tags"]["pair_id"] == "arb-1"


async def test_a_rejected_leg_is_unwound_within_the_bound(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange, journal: Journal) -> None:
    venue_b.switches.reject_rate = 1.0
    # selling 10 back at 0.39 after buying at 0.41 costs 0.20 plus a's fees both ways
    result = await executor.execute(make_pair(quantity=10, max_unwind_loss="1"))
    assert result.state is PairState.UNWOUND
    legs = {leg.name: leg.result for leg in result.legs}
    assert legs["b"].status is OrderStatus.REJECTED
    assert legs["a"].filled_quantity == 10
    # b refused, so the excess was sold back on a (at the 0.39 bid), not completed on b
    assert legs["unwind-1"].venue == "paper-a" and legs["unwind-1"].side.value == "SELL"
    assert legs["unwind-1"].filled_quantity == 10
    assert Decimal("0.20") < result.unwind_loss <= Decimal(1)
    assert result.unwind_loss == -result.realised_edge  # nothing hedged: the loss is all
    assert result.hedged_quantity == 0 and result.exposed_quantity == 0
    assert await positions(venue_a) == {}
    assert journal.get_pair("arb-1")["state"] == "UNWOUND"  # type: ignore[index]


async def test_a_partial_leg_is_completed(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    # b offers only 100 NO at 0.46: it fills 100 of 150, a fills 150 (0.41 x100, 0.42 x50)
    result = await executor.execute(make_pair(quantity=150, a_price="0.42",
                                              max_unwind_loss="1"))
    assert result.state is PairState.UNWOUND
    legs = {leg.name: leg.result for leg in result.legs}
    assert legs["a"].filled_quantity == 150 and legs["b"].filled_quantity == 100
    # completing on b (NO at 0.47) still earns, so it beats selling 50 back at 0.39
    assert legs["unwind-1"].venue == "paper-b" and legs["unwind-1"].side.value == "BUY"
    assert result.hedged_quantity == 150 and result.exposed_quantity == 0
    assert result.unwind_loss == 0 and result.realised_edge > 0
    assert await positions(venue_a) == {("M", Outcome.YES): Decimal(150)}
    assert await positions(venue_b) == {("M", Outcome.NO): Decimal(150)}


async def test_a_partial_leg_is_closed_when_the_other_book_is_empty(
        journal: Journal, make_pair: MakePair, venue_a: PaperExchange,
        paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    # b shows one level only: after b's 100 nothing is left to complete with, so the 50
    # contracts a bought beyond b's fill are sold back on a
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [100],
                                       "volatility": 0.0})
    engine = engine_factory(journal, venue_a, thin_b)
    await engine.start()
    try:
        result = await PairExecutor(engine).execute(
            make_pair(quantity=150, a_price="0.42", max_unwind_loss="4"))
    finally:
        await engine.aclose()
    assert result.state is PairState.UNWOUND
    legs = {leg.name: leg.result for leg in result.legs}
    assert legs["unwind-1"].venue == "paper-a" and legs["unwind-1"].side.value == "SELL"
    assert legs["unwind-1"].filled_quantity == 50
    assert result.hedged_quantity == 100 and result.exposed_quantity == 0
    assert Decimal(2) < result.unwind_loss <= Decimal(4)  # 50 x (0.43 - 0.39) + fees
    assert await positions(venue_a) == {("M", Outcome.YES): Decimal(100)}


async def test_an_unwind_that_cannot_fit_the_bound_is_exposed_and_halts(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange,
        engine: Engine, journal: Journal) -> None:
    venue_b.switches.reject_rate = 1.0
    result = await executor.execute(make_pair(quantity=10, max_unwind_loss="0"))
    assert result.state is PairState.EXPOSED
    assert result.exposed_quantity == 10 and result.hedged_quantity == 0
    alerts = [e for _, e in journal.events(kinds=["alert"])]
    assert alerts and alerts[0].data["pair_id"] == "arb-1"
    assert engine.halt.current().halted
    assert journal.get_pair("arb-1")["state"] == "EXPOSED"  # type: ignore[index]
    # the halt stops the next pair before anything is sent
    venue_b.switches.reject_rate = 0.0
    after = await executor.execute(make_pair("arb-2"))
    assert after.state is PairState.DENIED and after.reason_code == "halted"


async def test_an_exposed_pair_does_not_halt_when_told_not_to(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange,
        engine: Engine) -> None:
    venue_b.switches.reject_rate = 1.0
    result = await executor.execute(make_pair(max_unwind_loss="0", halt_on_exposed=False))
    assert result.state is PairState.EXPOSED
    assert not engine.halt.current().halted


async def test_a_lost_acknowledgement_is_resolved_by_lookup(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange) -> None:
    venue_b.switches.ambiguous_rate = 1.0
    result = await executor.execute(make_pair())
    assert result.state is PairState.HEDGED
    assert {leg.name: leg.result.status for leg in result.legs} == {
        "a": OrderStatus.FILLED, "b": OrderStatus.FILLED}


async def test_a_leg_left_unknown_is_resolved_by_reconciliation_after_a_restart(
        tmp_path: Path, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange, venue_b: PaperExchange) -> None:
    path = tmp_path / "j.sqlite3"
    venue_b.switches.ambiguous_rate = 1.0
    journal = Journal.open(path)
    first = engine_factory(journal, venue_a, venue_b, wait_budget=0.0,
                           background_tracking=False)
    await first.start()
    stopped = await PairExecutor(first, ArbitrageSettings(leg_timeout=0.05)).execute(
        make_pair())
    assert stopped.state is PairState.EXECUTING  # leg b is UNKNOWN: the pair waits
    assert journal.get("arb-1:b").status is OrderStatus.UNKNOWN  # type: ignore[union-attr]
    await first.aclose(close_venues=False)
    journal.close()

    venue_b.switches.ambiguous_rate = 0.0
    journal = Journal.open(path)
    second = engine_factory(journal, venue_a, venue_b)
    await second.start()
    report = await second.reconcile()
    assert {line["idempotency_key"]: line["now"] for line in report} == {"arb-1:b": "FILLED"}
    resumed = await PairExecutor(second).resume_all()
    assert [r.state for r in resumed] == [PairState.HEDGED]
    assert resumed[0].hedged_quantity == 10
    assert len(venue_b.open_orders()) == 0
    assert await positions(venue_b) == {("M", Outcome.NO): Decimal(10)}
    await second.aclose(close_venues=False)
    journal.close()


async def test_thinner_leg_goes_first_and_sizes_the_second(
        executor: PairExecutor, make_pair: MakePair, journal: Journal) -> None:
    # at its limit b offers 100, a offers 300: b goes first, a follows with b's fill
    result = await executor.execute(make_pair(quantity=150, a_price="0.43",
                                              sequencing="thinner_first"))
    assert result.state is PairState.HEDGED
    legs = {leg.name: leg.result for leg in result.legs}
    assert legs["b"].filled_quantity == 100 and legs["a"].quantity == 100
    assert legs["b"].executed_at <= legs["a"].requested_at  # type: ignore[operator]


async def test_no_fills_is_missed(executor: PairExecutor, make_pair: MakePair,
                                  venue_a: PaperExchange, venue_b: PaperExchange) -> None:
    venue_a.switches.reject_rate = 1.0
    venue_b.switches.reject_rate = 1.0
    result = await executor.execute(make_pair())
    assert result.state is PairState.MISSED
    assert result.hedged_quantity == 0 and result.realised_edge == 0


async def test_a_thin_edge_is_denied_before_anything_is_sent(
        executor: PairExecutor, make_pair: MakePair, journal: Journal) -> None:
    result = await executor.execute(make_pair(min_edge="0.20"))
    assert result.state is PairState.DENIED and result.reason_code == "edge_below_min"
    assert journal.get("arb-1:a") is None and journal.get("arb-1:b") is None
    assert journal.get_pair("arb-1")["state"] == "DENIED"  # type: ignore[index]


async def test_an_unconfigured_venue_is_denied(executor: PairExecutor,
                                               make_pair: MakePair) -> None:
    p = make_pair()
    from attrs import evolve

    bad = evolve(p, b=evolve(p.b, venue="nowhere"))
    result = await executor.execute(bad)
    assert result.state is PairState.DENIED and result.reason_code == "unknown_venue"


async def test_an_unhealthy_venue_is_denied(executor: PairExecutor, make_pair: MakePair,
                                            venue_b: PaperExchange) -> None:
    venue_b.switches.outage = True
    result = await executor.execute(make_pair())
    assert result.state is PairState.DENIED and result.reason_code == "venue_unhealthy"


async def test_the_same_pair_twice_sends_nothing_more(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    results = await asyncio.gather(*(executor.execute(make_pair()) for _ in range(5)))
    again = await executor.execute(make_pair())
    assert all(r.state is PairState.HEDGED for r in [*results, again])
    assert sum(not r.duplicate for r in results) == 1 and again.duplicate
    assert await positions(venue_a) == {("M", Outcome.YES): Decimal(10)}
    assert await positions(venue_b) == {("M", Outcome.NO): Decimal(10)}


async def test_concurrent_legs_are_in_flight_together_and_thinner_first_are_not(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    in_flight = {"now": 0, "most": 0}

    def watch(venue: PaperExchange) -> None:
        original = venue.create_order

        async def create_order(order: object) -> object:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
            try:
                return await original(order)  # type: ignore[arg-type]
            finally:
                in_flight["now"] -= 1

        venue.create_order = create_order  # type: ignore[method-assign,assignment]

    for venue in (venue_a, venue_b):
        venue.switches.latency = (0.02, 0.02)
        watch(venue)
    assert (await executor.execute(make_pair("c"))).state is PairState.HEDGED
    assert in_flight["most"] == 2
    in_flight["most"] = 0
    result = await executor.execute(make_pair("t", sequencing="thinner_first"))
    assert result.state is PairState.HEDGED and in_flight["most"] == 1


async def test_the_policy_judges_both_legs_together(
        executor: PairExecutor, make_pair: MakePair, engine: Engine, journal: Journal) -> None:
    from arbexec.plugins import PluginHost
    from arbexec.risk.policy import load_policy

    engine.policy = load_policy(
        [{"rule": "max_exposure", "max_total": "8"}, {"rule": "min_edge", "min_edge": "0.05"}],
        available=PluginHost.create().risk_rules(), source="test")
    # 10 x 0.41 = 4.10 and 10 x 0.46 = 4.60 each fit under 8, together they do not
    result = await executor.execute(make_pair("too-big", quantity=10))
    assert result.state is PairState.DENIED and result.reason_code == "exposure_total"
    assert journal.get("too-big:a") is None
    assert (await executor.execute(make_pair("fits", quantity=8))).state is PairState.HEDGED
    engine.policy = load_policy([{"rule": "min_edge", "min_edge": "0.20"}],
                                available=PluginHost.create().risk_rules(), source="test")
    thin = await executor.execute(make_pair("thin", quantity=5))
    assert thin.state is PairState.DENIED and thin.reason_code == "edge_below_min"
