"""What the executor records and answers for a pair: the journaled result and the sinks'
events, a final pair answered again from the journal, a denied pair's record, the bound a
pair was accepted under, the legs' requests, the pair's latency and tags, and an error that
is not a trading outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.arbitrage.executor import _leg_tags, _tidy
from arbexec.arbitrage.model import pair_result_to_dict
from arbexec.engine import Engine, EngineSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.risk.base import PAIR_INVERTED_TAG
from arbexec.sinks.hub import SinkHub
from tests.arbitrage.test_executor_outcomes import RecordingSink

MakePair = Callable[..., PairRequest]


async def test_a_pair_s_result_is_journaled_once_and_every_answer_reaches_the_sinks(
        journal: Journal, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    sink = RecordingSink()
    engine = Engine(journal=journal, venues={v.name: v for v in (venue_a, venue_b)},
                    halt=JournalHaltFlag(journal), hub=SinkHub([sink]),
                    settings=EngineSettings(wait_budget=0.5, unknown_grace=0.5,
                                            poll_interval=0.005))
    await engine.start()
    executor = PairExecutor(engine)
    first = await executor.execute(make_pair())
    again = await executor.execute(make_pair())  # answered from the journal
    await engine.aclose()
    assert first.state is again.state is PairState.HEDGED and again.duplicate
    journaled = list(journal.events(kinds=["pair.result"], key="arb-1"))
    assert [(e.request_id, e.data) for _, e in journaled] == [
        ("arb-1", {"result": pair_result_to_dict(first)})]
    results = [e for e in sink.events if e is not None and e.kind == "pair.result"]
    assert [(e.request_id, e.data) for e in results] == [
        ("arb-1", {"result": pair_result_to_dict(first), "result_obj": first}),
        ("arb-1", {"result": pair_result_to_dict(again), "result_obj": again})]
    states = [(e.request_id, e.data) for e in sink.events
              if e is not None and e.kind == "pair.state"]
    assert states == [("arb-1", {"pair_id": "arb-1", "state": "EXECUTING", "step": "legs"}),
                      ("arb-1", {"pair_id": "arb-1", "state": "HEDGED", "step": "done"})]
    assert [(e.request_id, e.data) for _, e in journal.events(kinds=["pair.state"])] == states


async def test_a_final_pair_asked_again_is_answered_from_the_journal_as_it_ended(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange) -> None:
    # b refuses its leg; the first unwind sells the 100 bid at 0.39 and the other 50 fit
    # no price within the bound: EXPOSED after one unwind
    venue_b.switches.reject_rate = 1.0
    pair = make_pair(quantity=150, a_price="0.42", max_unwind_loss="9",
                     halt_on_exposed=False)
    first = await executor.execute(pair)
    again = await executor.execute(pair)
    assert first.state is again.state is PairState.EXPOSED
    assert [leg.name for leg in again.legs] == ["a", "b", "unwind-1"]
    assert (again.reason_code, again.reason) == (first.reason_code, first.reason) == (
        "exposed", first.reason)
    assert first.reason and first.reason.startswith("50 contracts of leg a are unhedged")
    assert [leg.result.duplicate for leg in first.legs] == [False, False, False]
    assert [leg.result.duplicate for leg in again.legs] == [True, True, True]
    assert again.duplicate and not first.duplicate


async def test_a_denied_pair_is_journaled_with_its_reason(
        executor: PairExecutor, make_pair: MakePair, journal: Journal) -> None:
    result = await executor.execute(make_pair(min_edge="0.5"))
    assert result.state is PairState.DENIED and result.reason_code == "edge_below_min"
    saved = journal.get_pair("arb-1")
    assert saved is not None
    assert (saved["state"], saved["step"]) == ("DENIED", "risk")
    assert saved["detail"]["reason_code"] == "edge_below_min"
    assert saved["detail"]["reason"] == result.reason
    assert saved["detail"]["figures"]["basis"] == "limits"


async def test_a_pair_is_journaled_with_the_bound_it_was_accepted_under(
        engine: Engine, make_pair: MakePair, journal: Journal, venue_a: PaperExchange) -> None:
    # the pair names no bound; the executor's setting gives it. At the first leg's send the
    # pair is EXECUTING at step "legs", its request carrying that bound
    seen: list[dict[str, Any] | None] = []
    original_create = venue_a.create_order

    async def record_the_pair(order: Any) -> Any:
        seen.append(journal.get_pair("arb-1"))
        await asyncio.sleep(0.05)  # a venue taking its time: the pair's latency shows it
        return await original_create(order)
    venue_a.create_order = record_the_pair  # type: ignore[method-assign]
    executor = PairExecutor(engine, ArbitrageSettings(max_unwind_loss=Decimal("0.30")))
    before = datetime.now().astimezone()
    started = time.perf_counter()
    result = await executor.execute(make_pair(max_unwind_loss=None,
                                              tags={"strategy": "s1"}))
    took_ms = (time.perf_counter() - started) * 1000
    assert result.state is PairState.HEDGED, result.reason
    [saved] = seen
    assert saved is not None and (saved["state"], saved["step"]) == ("EXECUTING", "legs")
    assert saved["request"]["max_unwind_loss"] == "0.30"
    assert saved["detail"]["max_unwind_loss"] == "0.30"
    assert saved["detail"]["max_unwind_loss_from"] == "settings"
    assert before <= datetime.fromisoformat(saved["detail"]["updated_at"]) <= \
        datetime.now().astimezone()
    assert result.latency_ms is not None and 50 <= result.latency_ms <= took_ms
    assert result.tags == {"strategy": "s1"}


async def test_each_leg_is_sent_with_the_pair_s_tags_and_the_other_leg_s_value(
        executor: PairExecutor, make_pair: MakePair, journal: Journal) -> None:
    # a leg's expected value is what the other leg's limit leaves of the dollar: buying
    # YES at 0.41 is worth 1 - 0.46 with NO held on b, and NO at 0.46 is worth 1 - 0.41
    result = await executor.execute(make_pair(tags={"strategy": "s1"}))
    assert result.state is PairState.HEDGED
    a, b = journal.get("arb-1:a"), journal.get("arb-1:b")
    assert a is not None and b is not None
    assert (a.request["expected_value"], b.request["expected_value"]) == ("0.54", "0.59")
    assert a.request["tags"] == {"strategy": "s1", "pair_id": "arb-1", "leg": "a"}
    assert b.request["tags"] == {"strategy": "s1", "pair_id": "arb-1", "leg": "b"}
    assert a.request["time_in_force"] == b.request["time_in_force"] == "IOC"


def test_an_inverted_pair_s_legs_say_so(make_pair: MakePair) -> None:
    inverted = make_pair(inverted=True, legs=[
        {"venue": "paper-a", "market": "M", "outcome": "YES", "limit_price": "0.41"},
        {"venue": "paper-b", "market": "M", "outcome": "YES", "limit_price": "0.46"}])
    assert _leg_tags(inverted, "b") == {"pair_id": "arb-1", "leg": "b",
                                        PAIR_INVERTED_TAG: True}
    assert PAIR_INVERTED_TAG not in _leg_tags(make_pair(), "b")


def test_reported_figures_are_plain_decimals() -> None:
    assert str(_tidy(Decimal("20.000000001"))) == "20"
    assert str(_tidy(Decimal("0.125"))) == "0.125"


async def test_thinner_first_sends_the_second_leg_for_a_single_contract_filled(
        journal: Journal, make_pair: MakePair, venue_a: PaperExchange,
        paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [1],
                                       "volatility": 0.0}, fees="polymarket")
    engine = engine_factory(journal, venue_a, thin_b)
    await engine.start()
    result = await PairExecutor(engine).execute(make_pair(sequencing="thinner_first"))
    await engine.aclose()
    assert result.state is PairState.HEDGED, result.reason
    assert result.hedged_quantity == 1
    assert [leg.name for leg in result.legs] == ["a", "b"]


async def test_an_error_that_is_no_trading_outcome_reaches_every_caller(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange) -> None:
    async def broken_rules(market: str) -> Any:
        await asyncio.sleep(0.01)
        raise RuntimeError("plugin bug reading the market rules")
    venue_a.market_rules = broken_rules  # type: ignore[method-assign]
    first, second = await asyncio.gather(executor.execute(make_pair()),
                                         executor.execute(make_pair()),
                                         return_exceptions=True)
    assert isinstance(first, RuntimeError) and isinstance(second, RuntimeError)
    assert str(first) == str(second) == "plugin bug reading the market rules"
