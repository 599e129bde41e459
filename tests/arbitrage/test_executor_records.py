"""What the executor writes down, figure by figure: the explain answer, the EXPOSED alert
and halt, a pair left waiting, the unwind orders' tags, and the leg follow-up (a leg left
UNKNOWN is looked up; a leg still resting at ``leg_timeout`` is cancelled)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.engine import Engine
from arbexec.errors import VenueUnavailable
from arbexec.journal import Journal
from arbexec.model import OrderRequest, OrderStatus
from arbexec.plugins import PluginHost
from arbexec.risk.policy import load_policy
from arbexec.testing.scripted_venue import FILL, REST, ScriptedVenue
from tests.arbitrage.conftest import MARKET_A, MARKET_B

MakePair = Callable[..., PairRequest]


def policy(*tables: dict[str, Any]) -> Any:
    return load_policy(list(tables), available=PluginHost.create().risk_rules(), source="test")


async def test_explain_answers_the_pair_verdict_and_reserves_nothing(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b,
                            policy=policy({"rule": "max_exposure", "max_total": "20"}))
    await engine.start()
    executor = PairExecutor(engine)
    passes = await executor.explain(make_pair(quantity=20))  # 17.40 of 20
    # the room explain saw is still free: a single order may take it
    single = await engine.submit(OrderRequest(
        request_id="s", idempotency_key="s", venue="paper-a", market="M", outcome="YES",
        side="BUY", quantity="10", limit_price="0.41", time_in_force="IOC"))
    refused = await executor.explain(make_pair(pair_id="arb-2", quantity=20))
    await engine.aclose()
    assert passes == {"pair_id": "arb-1", "allowed": True, "first_leg": "a",
                      "max_unwind_loss": "0.50", "max_unwind_loss_from": "pair",
                      "verdicts": [{"rule": "pair", "allowed": True, "code": None,
                                    "message": "the pair passes as a unit", "figures": {}}]}
    assert single.status is OrderStatus.FILLED
    assert refused["allowed"] is False
    [verdict] = refused["verdicts"]
    assert verdict["rule"] == "pair" and verdict["allowed"] is False
    assert verdict["code"] == "exposure_total"
    assert verdict["message"].startswith("total would reach more than its limit of 20")
    assert verdict["figures"] == {"limit": "20", "current": "4.10", "key": "total"}
    assert journal.get("arb-1:a") is None and journal.get_pair("arb-1") is None


async def test_an_exposed_pair_records_its_alert_its_reason_and_the_halt(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange,
        engine: Engine, journal: Journal) -> None:
    venue_b.switches.reject_rate = 1.0
    result = await executor.execute(make_pair(quantity=10, max_unwind_loss="0"))
    reason = result.reason or ""
    assert result.state is PairState.EXPOSED and result.reason_code == "exposed"
    assert reason.startswith("10 contracts of leg a are unhedged: nothing closes it")
    [(_, alert)] = list(journal.events(kinds=["alert"]))
    assert alert.request_id == "arb-1"
    assert alert.data == {"reason": "arbitrage pair exposed", "pair_id": "arb-1", "leg": "a",
                          "exposed_quantity": "10", "detail": reason}
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["state"] == "EXPOSED" and saved["step"] == "done"
    detail = saved["detail"]
    assert (detail["reason_code"], detail["reason"], detail["halted"]) == (
        "exposed", reason, True)
    halt = engine.halt.current()
    assert halt.halted and halt.by == "arbitrage"
    assert halt.reason == f"arbitrage pair arb-1 exposed: {reason}"


async def test_unwind_orders_carry_the_pair_their_kind_and_why_they_may_pass_a_halt(
        executor: PairExecutor, make_pair: MakePair, journal: Journal) -> None:
    # b fills 100 of 150: the 50 extra on a are completed by buying NO on b (no reduce-only)
    result = await executor.execute(make_pair(quantity=150, a_price="0.42",
                                              max_unwind_loss="1"))
    assert result.state is PairState.UNWOUND
    row = journal.get("arb-1:unwind-1")
    assert row is not None and row.side == "BUY" and row.request["time_in_force"] == "IOC"
    assert row.request["tags"] == {"pair_id": "arb-1", "leg": "unwind-1", "unwind": "complete",
                                   "risk_reducing": "unwind"}


async def test_a_closing_unwind_is_reduce_only(
        journal: Journal, make_pair: MakePair, venue_a: PaperExchange,
        paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [100],
                                       "volatility": 0.0})
    engine = engine_factory(journal, venue_a, thin_b)
    await engine.start()
    result = await PairExecutor(engine).execute(
        make_pair(quantity=150, a_price="0.42", max_unwind_loss="4"))
    await engine.aclose()
    assert result.state is PairState.UNWOUND
    row = journal.get("arb-1:unwind-1")
    assert row is not None and row.side == "SELL"
    assert row.request["tags"] == {"pair_id": "arb-1", "leg": "unwind-1", "unwind": "close",
                                   "risk_reducing": "unwind", "reduce_only": True}


async def test_a_pair_whose_leg_stays_unknown_waits_and_says_for_what(
        tmp_path: Path, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange, venue_b: PaperExchange) -> None:
    venue_b.switches.ambiguous_rate = 1.0
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = engine_factory(journal, venue_a, venue_b, wait_budget=0.0,
                            background_tracking=False, unknown_grace=30.0)
    await engine.start()
    venue_b.switches.outage = False
    original = venue_b.lookup_order

    async def lookup_fails(identity: str) -> Any:
        raise OSError("lookups down")
    venue_b.lookup_order = lookup_fails  # type: ignore[method-assign]
    result = await PairExecutor(engine, ArbitrageSettings(leg_timeout=0.05)).execute(
        make_pair())
    venue_b.lookup_order = original  # type: ignore[method-assign]
    await engine.aclose()
    why = ("waiting for b to reach a final state on the venue; the pair resumes after "
           "reconciliation")
    assert result.state is PairState.EXECUTING
    assert (result.reason_code, result.reason) == ("unresolved", why)
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["state"] == "EXECUTING" and saved["step"] == "waiting"
    assert saved["detail"]["reason"] == why


async def test_a_resumed_leg_left_unknown_is_looked_up_by_the_executor(
        tmp_path: Path, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange, venue_b: PaperExchange) -> None:
    # the venue took leg b but its answer was lost; after a restart nobody follows it, so
    # the resumed pair looks it up itself (no reconcile first) and finds it filled
    path = tmp_path / "j.sqlite3"
    venue_b.switches.ambiguous_rate = 1.0
    journal = Journal.open(path)
    first = engine_factory(journal, venue_a, venue_b, wait_budget=0.0,
                           background_tracking=False)
    await first.start()
    stopped = await PairExecutor(first, ArbitrageSettings(leg_timeout=0.05)).execute(
        make_pair())
    await first.aclose(close_venues=False)
    journal.close()
    venue_b.switches.ambiguous_rate = 0.0
    journal = Journal.open(path)
    second = engine_factory(journal, venue_a, venue_b, background_tracking=False,
                            unknown_grace=0.0)
    await second.start()
    resumed = await PairExecutor(second, ArbitrageSettings(leg_timeout=5.0)).resume_all()
    await second.aclose(close_venues=False)
    assert stopped.state is PairState.EXECUTING
    assert [r.state for r in resumed] == [PairState.HEDGED], resumed
    assert journal.get("arb-1:b").status is OrderStatus.FILLED  # type: ignore[union-attr]
    journal.close()


async def test_a_leg_still_resting_at_the_leg_timeout_is_cancelled_once(
        journal: Journal, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange) -> None:
    # leg b rests on a venue that never fills it: cancelled at the timeout, then the 10
    # bought on a are completed there (the scripted venue fills the unwind)
    resting = ScriptedVenue(name="paper-b")
    resting.script("M", REST, FILL)
    engine = engine_factory(journal, venue_a, resting, wait_budget=0.0)
    await engine.start()
    result = await PairExecutor(engine, ArbitrageSettings(leg_timeout=0.05)).execute(
        make_pair(b_price="0.52", max_unwind_loss="2"))
    await engine.aclose()
    leg_b = journal.get("arb-1:b")
    assert leg_b is not None and leg_b.status is OrderStatus.CANCELLED
    assert resting.orders[leg_b.identity].status is OrderStatus.CANCELLED  # type: ignore[index]
    assert result.state is PairState.UNWOUND, result.reason
    assert result.hedged_quantity == Decimal(10)


async def test_final_states_record_their_reason(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange, journal: Journal) -> None:
    hedged = await executor.execute(make_pair())
    venue_a.switches.reject_rate = venue_b.switches.reject_rate = 1.0
    missed = await executor.execute(make_pair(pair_id="arb-2"))
    assert (hedged.state, hedged.reason_code, hedged.reason) == (PairState.HEDGED, "hedged",
                                                                 None)
    assert (missed.state, missed.reason_code, missed.reason) == (
        PairState.MISSED, "missed", "neither leg filled")
    for pair_id, code, reason in (("arb-1", "hedged", None),
                                  ("arb-2", "missed", "neither leg filled")):
        saved = journal.get_pair(pair_id)
        assert saved is not None and saved["step"] == "done"
        assert (saved["detail"]["reason_code"], saved["detail"]["reason"]) == (code, reason)


async def test_a_leg_whose_venue_refused_it_is_not_completed_there(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange) -> None:
    venue_a.switches.reject_rate = 1.0  # leg a refused; b's 10 can only be sold back
    result = await executor.execute(make_pair(max_unwind_loss="0"))
    assert result.state is PairState.EXPOSED
    assert (result.reason or "").endswith(
        "; completing on leg a is not tried (its venue refused it)")
    assert [leg.name for leg in result.legs] == ["a", "b"]  # no unwind sent to a


async def test_the_edge_at_the_limits_may_equal_min_edge_and_states_its_figures(
        journal: Journal, make_pair: MakePair, paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    engine = engine_factory(journal, paper_factory("paper-a", MARKET_A),
                            paper_factory("paper-b", MARKET_B))  # no fees
    await engine.start()
    executor = PairExecutor(engine)
    exact = await executor.execute(make_pair(min_edge="0.13"))  # 1 - 0.41 - 0.46
    short = await executor.execute(make_pair(pair_id="arb-2", min_edge="0.14"))
    await engine.aclose()
    assert exact.state is PairState.HEDGED
    assert short.state is PairState.DENIED and short.reason_code == "edge_below_min"
    saved = journal.get_pair("arb-2")
    assert saved is not None and saved["detail"]["figures"] == {
        "edge": "0.130000", "fees": "0", "limits": "0.41+0.46", "basis": "limits"}


async def test_explain_sums_both_legs_up_to_the_limit_exactly(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b, policy=policy(
        {"rule": "max_exposure", "max_total": "17.40"}))  # 20 x (0.41 + 0.46) exactly
    await engine.start()
    fits = await PairExecutor(engine).explain(make_pair(quantity=20))
    engine.policy = policy({"rule": "max_open_orders", "total": 1})  # a slot per leg
    slots = await PairExecutor(engine).explain(make_pair(quantity=20))
    await engine.aclose()
    assert fits["allowed"] is True
    assert slots["allowed"] is False
    assert slots["verdicts"][0]["code"] == "open_orders_total"


async def test_the_exposed_reason_names_every_option_tried(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    # a fills 10, b is refused: completing on b is not tried, closing on a (bids 0.39)
    # would lose 0.02 a contract, more than the bound of 0.01 allows
    venue_b.switches.reject_rate = 1.0
    result = await executor.execute(make_pair(max_unwind_loss="0.01", halt_on_exposed=False))
    assert result.state is PairState.EXPOSED
    assert result.reason == (
        "10 contracts of leg a are unhedged: nothing closes it within the remaining unwind "
        "budget of 0.0100: close on paper-a M: the budget blocks it (the best YES bid is "
        "0.39; the budget allows 0.45 at worst); completing on leg b is not tried (its "
        "venue refused it)")


async def test_books_unreadable_at_the_unwind_leave_the_pair_exposed_and_logged(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange, caplog: Any) -> None:
    venue_b.switches.reject_rate = 1.0
    original = venue_a.fetch_order_book
    calls = {"n": 0}

    async def fails_after_the_check(market: str) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:  # the pair check reads it once; the unwind cannot
            raise VenueUnavailable("books down", venue="paper-a")
        return await original(market)
    venue_a.fetch_order_book = fails_after_the_check  # type: ignore[method-assign]
    venue_a.latest_book = lambda market: None  # type: ignore[method-assign]  # no stream
    with caplog.at_level("WARNING", logger="arbexec.arbitrage"):
        result = await executor.execute(make_pair(halt_on_exposed=False))
    assert result.state is PairState.EXPOSED
    assert result.reason == ("10 contracts of leg a are unhedged: the books could not be "
                             "read to unwind (books down)")
    assert "pair arb-1: cannot read books to unwind: books down" in caplog.messages


class NoCancel(ScriptedVenue):
    async def cancel_order(self, venue_order_id: str) -> Any:
        raise VenueUnavailable("cancel endpoint down", venue=self.name)


async def test_a_leg_that_cannot_be_cancelled_at_the_timeout_is_logged_and_waited_for(
        journal: Journal, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange, caplog: Any) -> None:
    resting = NoCancel(name="paper-b")
    resting.script("M", REST)
    engine = engine_factory(journal, venue_a, resting, wait_budget=0.0)
    await engine.start()
    with caplog.at_level("WARNING", logger="arbexec.arbitrage"):
        result = await PairExecutor(engine, ArbitrageSettings(leg_timeout=0.05)).execute(
            make_pair(b_price="0.52"))
    await engine.aclose()
    assert result.state is PairState.EXECUTING and result.reason_code == "unresolved"
    assert [m for m in caplog.messages if m.startswith("cancelling pair leg")] == [
        "cancelling pair leg arb-1:b failed: cancel endpoint down"]


async def test_a_leg_refused_by_a_rule_refuses_the_pair_with_that_rule_s_words(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b, policy=policy(
        {"rule": "max_exposure", "max_per_market": "4"}))  # leg a: 10 x 0.41 = 4.10
    await engine.start()
    executor = PairExecutor(engine)
    unbounded = await executor.explain(make_pair(max_unwind_loss=None))
    result = await executor.execute(make_pair())
    await engine.aclose()
    assert (result.state, result.reason_code) == (PairState.DENIED, "exposure_market")
    assert (result.reason or "").startswith("leg a: market exposure would be 4.10 ")
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["detail"]["figures"]["limit"] == "4"
    assert (unbounded["max_unwind_loss"], unbounded["max_unwind_loss_from"]) == (None, "none")
