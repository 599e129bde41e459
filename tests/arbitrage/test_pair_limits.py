"""What a pair must clear before anything is sent, and what it says when it cannot close.

The edge the leg limits lock in, the legs reserved as one unit under concurrency, the
unwind bound in force, why an imbalance stayed open, and unwinds marked risk-reducing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.arbitrage.unwind import DEFAULT_FEE_ROUNDING, fee_rounding_of
from arbexec.engine import Engine
from arbexec.journal import Journal
from arbexec.model import OrderBook, OrderStatus
from arbexec.plugins import PluginHost
from arbexec.risk.policy import load_policy

MakePair = Callable[..., PairRequest]


def policy(*tables: dict[str, Any]) -> Any:
    return load_policy(list(tables), available=PluginHost.create().risk_rules(), source="test")


async def test_the_edge_the_leg_limits_lock_in_must_clear_min_edge(
        executor: PairExecutor, make_pair: MakePair, journal: Journal) -> None:
    # YES at up to 0.60 and NO at up to 0.45 cost 1.05 for a dollar, whatever the books say
    result = await executor.execute(make_pair(a_price="0.60", b_price="0.45",
                                              min_edge="0.02"))
    assert result.state is PairState.DENIED and result.reason_code == "edge_below_min"
    assert "leg limits" in (result.reason or "")
    assert journal.get("arb-1:a") is None and journal.get("arb-1:b") is None  # nothing sent
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["detail"]["figures"]["basis"] == "limits"


async def test_fees_at_the_limits_count_in_the_locked_in_edge(
        executor: PairExecutor, make_pair: MakePair) -> None:
    # 1 - 0.48 - 0.50 = 0.02 before fees, but both venues' fees at those limits (0.2248
    # for 10) take more: below even a min_edge of 0
    result = await executor.execute(make_pair(a_price="0.48", b_price="0.50", min_edge="0"))
    assert result.reason_code == "edge_below_min"
    assert "0.22480 fees" in (result.reason or "")
    passed = await executor.execute(make_pair(pair_id="arb-2", a_price="0.43", b_price="0.48",
                                              min_edge="0.05"))
    assert passed.state is PairState.HEDGED


async def test_twenty_concurrent_pairs_are_reserved_as_units(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    # each pair risks 60 x (0.43 + 0.48) = 54.60: the limit of 110 has room for two
    engine = engine_factory(journal, venue_a, venue_b,
                            policy=policy({"rule": "max_exposure", "max_total": "110"}))
    await engine.start()
    executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
    pairs = [make_pair(pair_id=f"p{i}", quantity=60, a_price="0.43", b_price="0.48")
             for i in range(20)]
    results = await asyncio.gather(*(executor.execute(p) for p in pairs))
    await engine.aclose()
    states = [r.state for r in results]
    assert states.count(PairState.HEDGED) == 2, [(r.state, r.reason) for r in results]
    assert states.count(PairState.DENIED) == 18
    assert {r.reason_code for r in results if r.state is PairState.DENIED} == {
        "exposure_total"}
    for result in results:
        if result.state is PairState.DENIED:  # refused as a unit: nothing sent
            assert journal.get(f"{result.pair_id}:a") is None
            assert journal.get(f"{result.pair_id}:b") is None
    legs = [journal.get(f"{r.pair_id}:{n}") for r in results for n in "ab"]
    assert not any(row is not None and row.status is OrderStatus.DENIED for row in legs)
    assert engine.ledger.exposure_now("total") <= Decimal(110)  # type: ignore[attr-defined]


async def test_a_denied_pair_may_be_tried_again_once_there_is_room(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b,
                            policy=policy({"rule": "max_exposure", "max_total": "10"}))
    await engine.start()
    executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
    denied = await executor.execute(make_pair(quantity=20))  # 17.40 > 10
    assert denied.state is PairState.DENIED and denied.reason_code == "exposure_total"
    engine.policy = policy({"rule": "max_exposure", "max_total": "100"})
    again = await executor.execute(make_pair(quantity=20))
    await engine.aclose()
    assert again.state is PairState.HEDGED and not again.duplicate


async def test_explaining_a_pair_reserves_nothing(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b,
                            policy=policy({"rule": "max_exposure", "max_total": "20"}))
    await engine.start()
    executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
    for _ in range(3):
        explained = await executor.explain(make_pair(quantity=20))  # 17.40 each
        assert explained["allowed"] is True
        assert explained["max_unwind_loss"] == "0.50"
        assert explained["max_unwind_loss_from"] == "pair"
    result = await executor.execute(make_pair(quantity=20))
    await engine.aclose()
    assert result.state is PairState.HEDGED


async def test_the_unwind_bound_comes_from_the_pair_else_the_policy_else_none(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b)
    await engine.start()
    executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
    unbounded = make_pair(max_unwind_loss=None)
    assert unbounded.max_unwind_loss is None
    assert executor.unwind_bound(unbounded) == (None, "none")
    refused = await executor.execute(unbounded)
    assert refused.state is PairState.DENIED and refused.reason_code == "no_unwind_bound"
    assert journal.get("arb-1:a") is None
    engine.policy = policy({"rule": "unwind_bound", "max_unwind_loss": "0.75"})
    assert executor.unwind_bound(unbounded) == (Decimal("0.75"), "policy")
    assert executor.unwind_bound(make_pair(max_unwind_loss="0")) == (Decimal(0), "pair")
    done = await executor.execute(unbounded)
    assert done.state is PairState.HEDGED
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["detail"]["max_unwind_loss"] == "0.75"  # kept
    assert saved["detail"]["max_unwind_loss_from"] == "policy"
    fallback = PairExecutor(engine, ArbitrageSettings(max_unwind_loss=Decimal("3")))
    engine.policy = policy({"rule": "max_exposure", "max_total": "1000"})
    assert fallback.unwind_bound(unbounded) == (Decimal(3), "settings")
    await engine.aclose()


async def test_exposed_because_the_budget_blocks_says_so(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange) -> None:
    venue_b.switches.reject_rate = 1.0
    # selling 10 back at 0.39 loses at least 0.20: a bound of 0.05 cannot pay for it
    result = await executor.execute(make_pair(max_unwind_loss="0.05", halt_on_exposed=False))
    assert result.state is PairState.EXPOSED
    assert "budget blocks it" in (result.reason or "")
    assert "book is empty" not in (result.reason or "")


async def test_exposed_because_the_book_is_empty_says_so(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange, journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    venue_b.switches.reject_rate = 1.0
    real = venue_a.fetch_order_book

    async def emptied(market: str) -> OrderBook:
        book = await real(market)
        leg = journal.get("arb-1:a")
        if leg is not None and leg.status.is_final:  # the bids vanish once a has filled
            return OrderBook(venue=book.venue, market=market, bids=[], asks=book.asks)
        return book

    monkeypatch.setattr(venue_a, "fetch_order_book", emptied)
    result = await executor.execute(make_pair(max_unwind_loss="5", halt_on_exposed=False))
    assert result.state is PairState.EXPOSED
    reason = result.reason or ""
    assert "book is empty (no YES bids)" in reason, reason
    assert "budget blocks it" not in reason
    assert "completing on leg b is not tried" in reason


async def test_unwind_orders_are_marked_risk_reducing(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange,
        journal: Journal) -> None:
    venue_b.switches.reject_rate = 1.0
    result = await executor.execute(make_pair(max_unwind_loss="1"))
    assert result.state is PairState.UNWOUND
    row = journal.get("arb-1:unwind-1")
    assert row is not None
    tags = row.request["tags"]
    assert tags["risk_reducing"] == "unwind"
    assert tags["reduce_only"] is True  # a close sells held contracts: never opens
    assert journal.get("arb-1:a").request["tags"].get("risk_reducing") is None  # type: ignore[union-attr]


async def test_a_halt_does_not_block_an_unwind(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange,
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    venue_b.switches.reject_rate = 1.0
    plan = PairExecutor._plan

    async def halt_first(self: PairExecutor, *args: Any) -> Any:
        engine.halt.halt("another pair exposed", by="test")
        return await plan(self, *args)

    monkeypatch.setattr(PairExecutor, "_plan", halt_first)
    result = await executor.execute(make_pair(max_unwind_loss="1"))
    assert result.state is PairState.UNWOUND, result.reason
    passed = [e for _, e in engine.journal.events(kinds=["risk.halt_passed"],
                                                  key="arb-1:unwind-1")]
    assert passed and passed[0].data["reason"] == "unwind"


def test_fee_rounding_comes_from_each_venue(
        paper_factory: Callable[..., PaperExchange]) -> None:
    market = {"mid": "0.40"}
    assert fee_rounding_of(paper_factory("k", market, fees="kalshi")) == Decimal("0.0001")
    assert fee_rounding_of(paper_factory("p", market, fees="polymarket")) == Decimal("0.00001")
    assert fee_rounding_of(paper_factory("n", market, fees="none")) == Decimal(0)
    assert fee_rounding_of(object()) == DEFAULT_FEE_ROUNDING == Decimal("0.01")


async def test_a_second_unwind_gets_only_the_budget_the_first_left(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange) -> None:
    venue_b.switches.reject_rate = 1.0
    # a fills 150 (100 at 0.41, 50 at 0.42) and b nothing; selling 150 back within 9.00
    # reaches down to 0.39 only, where 100 are bid: the first unwind sells those, losing
    # about 5.70; the remaining 50 must fit the 3.30 left (down to 0.39, now empty), not
    # the whole 9.00 (down to 0.38, which would end at a loss of 9.04)
    result = await executor.execute(make_pair(quantity=150, a_price="0.42",
                                              max_unwind_loss="9", halt_on_exposed=False))
    unwinds = [leg for leg in result.legs if leg.name.startswith("unwind")]
    assert unwinds[0].result.filled_quantity == 100
    assert result.unwind_loss <= Decimal(9), (result.state, result.unwind_loss)
    assert result.state is PairState.EXPOSED and result.exposed_quantity == 50
    assert "remaining unwind budget of 3.3041" in (result.reason or "")
    assert "the budget blocks it (the best YES bid is 0.38; the budget allows 0.39" in (
        result.reason or "")
