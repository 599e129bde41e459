"""The executor's outcome paths word for word: an EXPOSED reason that tried both ways out,
an unwind loss already past the bound, a pair waiting on its unwind, the EXPOSED alert as
the sinks receive it, and the earmark of a leg that was never sent."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.arbitrage.accounting import LegTally, PairBook
from arbexec.engine import Engine, EngineSettings
from arbexec.events import Event
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.plugins import PluginHost
from arbexec.risk.policy import load_policy
from arbexec.sinks.hub import SinkHub

MakePair = Callable[..., PairRequest]


class RecordingSink:
    name = "recording"

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def emit(self, event: Event) -> None:
        self.events.append(event)

    async def aclose(self) -> None:
        return None


async def test_an_exposed_reason_names_both_ways_out_it_tried(
        journal: Journal, make_pair: MakePair, venue_a: PaperExchange,
        paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    # b offers 100 NO and fills them; the 50 extra on a can neither be completed on b
    # (nothing left offered) nor sold back on a within a bound of 0.01
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [100],
                                       "volatility": 0.0})
    engine = engine_factory(journal, venue_a, thin_b)
    await engine.start()
    result = await PairExecutor(engine).execute(make_pair(
        quantity=150, a_price="0.42", max_unwind_loss="0.01", halt_on_exposed=False))
    await engine.aclose()
    assert result.state is PairState.EXPOSED
    assert result.reason == (
        "50 contracts of leg a are unhedged: nothing closes it within the remaining unwind "
        "budget of 0.0100: close on paper-a M: the budget blocks it (the best YES bid is "
        "0.39; the budget allows 0.45 at worst); complete on paper-b M: the book is empty "
        "(no NO asks)")


async def test_an_unwind_loss_past_the_bound_plans_nothing_and_says_so(
        executor: PairExecutor, make_pair: MakePair) -> None:
    # a pair accepted under a bound of 0.50 whose unwinds have already lost 0.75 (an
    # unwind that filled worse than planned, or a bound lowered before a resume)
    pair = make_pair()
    book = PairBook(legs={"a": LegTally(bought=Decimal(10), bought_cost=Decimal("4.10")),
                          "b": LegTally()},
                    primary_edge=Decimal("0.75"), fees_by_venue={}, any_fill=True)
    assert book.unwind_loss == Decimal("0.75")
    plan, why = await executor._plan(pair, book, set())
    assert plan is None
    assert why == "the unwind loss so far, 0.7500, used up the bound of 0.5000"


async def test_a_pair_waiting_on_its_unwind_stays_unwinding(
        tmp_path: Path, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange, venue_b: PaperExchange) -> None:
    # b refuses its leg; the unwind selling a's 10 back loses its acknowledgement and
    # cannot be looked up: the pair waits for it, still UNWINDING
    venue_b.switches.reject_rate = 1.0
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = engine_factory(journal, venue_a, venue_b, wait_budget=0.0,
                            background_tracking=False, unknown_grace=30.0)
    await engine.start()
    original_create = venue_a.create_order

    async def second_loses_its_answer(order: Any) -> Any:
        if order.request.idempotency_key.endswith(":unwind-1"):
            venue_a.switches.ambiguous_rate = 1.0
        return await original_create(order)

    async def lookup_fails(identity: str) -> Any:
        raise OSError("lookups down")
    venue_a.create_order = second_loses_its_answer  # type: ignore[method-assign]
    venue_a.lookup_order = lookup_fails  # type: ignore[method-assign]
    result = await PairExecutor(engine, ArbitrageSettings(leg_timeout=0.05)).execute(
        make_pair(max_unwind_loss="2", halt_on_exposed=False))
    await engine.aclose()
    assert journal.get("arb-1:unwind-1") is not None, result
    assert result.state is PairState.UNWINDING and result.reason_code == "unresolved"
    assert result.reason == ("waiting for unwind to reach a final state on the venue; the "
                             "pair resumes after reconciliation")
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["state"] == "UNWINDING" and saved["step"] == "waiting"


async def test_the_exposed_alert_reaches_the_sinks(
        journal: Journal, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    sink = RecordingSink()
    engine = Engine(journal=journal, venues={v.name: v for v in (venue_a, venue_b)},
                    halt=JournalHaltFlag(journal), hub=SinkHub([sink]),
                    settings=EngineSettings(wait_budget=0.5, unknown_grace=0.5,
                                            poll_interval=0.005))
    await engine.start()
    venue_b.switches.reject_rate = 1.0
    result = await PairExecutor(engine).execute(make_pair(max_unwind_loss="0",
                                                          halt_on_exposed=False))
    await engine.aclose()
    assert result.state is PairState.EXPOSED
    alerts = [e for e in sink.events if e is None or e.kind == "alert"]
    assert len(alerts) == 1 and alerts[0] is not None
    assert alerts[0].data["pair_id"] == "arb-1" and alerts[0].data["detail"] == result.reason


async def test_the_earmark_of_a_leg_never_sent_is_given_back(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    # room for one pair (10 x 0.41 + 10 x 0.46 = 8.70 of 10): the first goes thinner
    # first and its first leg is refused, so its second is never sent; its earmark must
    # be free for the next pair
    engine = engine_factory(journal, venue_a, venue_b, policy=load_policy(
        [{"rule": "max_exposure", "max_total": "10"}],
        available=PluginHost.create().risk_rules(), source="test"))
    await engine.start()
    executor = PairExecutor(engine)
    venue_a.switches.reject_rate = venue_b.switches.reject_rate = 1.0
    missed = await executor.execute(make_pair(sequencing="thinner_first"))
    venue_a.switches.reject_rate = venue_b.switches.reject_rate = 0.0
    second = await executor.execute(make_pair(pair_id="arb-2"))
    await engine.aclose()
    assert missed.state is PairState.MISSED
    assert journal.get("arb-1:b") is None and journal.get("arb-1:a") is not None
    assert second.state is PairState.HEDGED, second.reason


async def test_an_excess_below_the_venue_s_minimum_size_is_named_in_the_reason(
        journal: Journal, make_pair: MakePair, paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    # a fills 8, b only the 5 NO it offers; the 3 extra cannot be sold back on a, whose
    # minimum order is 5, nor completed on b, where nothing is left
    venue_a = paper_factory("paper-a", {
        "mid": "0.40", "spread_ticks": 2, "depth": [100], "volatility": 0.0,
        "min_quantity": "5"}, fees="kalshi")
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [5],
                                       "volatility": 0.0}, fees="polymarket")
    engine = engine_factory(journal, venue_a, thin_b)
    await engine.start()
    result = await PairExecutor(engine).execute(make_pair(quantity=8, halt_on_exposed=False))
    await engine.aclose()
    assert result.state is PairState.EXPOSED
    assert (result.reason or "").endswith(
        ": close on paper-a M: 3 contracts is below the venue's minimum size; complete on "
        "paper-b M: the book is empty (no NO asks)"), result.reason
