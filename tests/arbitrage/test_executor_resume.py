"""Pairs resumed from the journal: an unwind resolved after a restart finishes the pair
UNWOUND without a second unwind, and a pair journaled without a bound in its request is
driven under the bound its journal says it was accepted under."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.arbitrage.model import pair_to_dict
from arbexec.engine import Engine
from arbexec.journal import Journal
from arbexec.model import Fill, OrderRequest, OrderStatus

MakePair = Callable[..., PairRequest]


def steps(journal: Journal, since: int = 0) -> list[tuple[str, str]]:
    """The pair states and steps journaled for arb-1 after event ``since``."""
    return [(event.data["state"], event.data["step"])
            for _, event in journal.events(kinds=["pair.state"], since_seq=since)
            if event.data["pair_id"] == "arb-1"]


def last_seq(journal: Journal) -> int:
    return max((seq for seq, _ in journal.events()), default=0)


async def test_an_unwind_resolved_after_a_restart_finishes_the_pair_unwound(
        tmp_path: Path, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange, venue_b: PaperExchange) -> None:
    # b refuses its leg; the unwind selling a's 10 back loses its answer and cannot be
    # looked up: the pair waits. After a restart the unwind is found FILLED: the resumed
    # pair is UNWOUND by that unwind alone
    path = tmp_path / "j.sqlite3"
    venue_b.switches.reject_rate = 1.0
    journal = Journal.open(path)
    first = engine_factory(journal, venue_a, venue_b, wait_budget=0.0,
                           background_tracking=False, unknown_grace=30.0)
    await first.start()
    original_create, original_lookup = venue_a.create_order, venue_a.lookup_order

    async def unwind_loses_its_answer(order: Any) -> Any:
        if order.request.idempotency_key.endswith(":unwind-1"):
            venue_a.switches.ambiguous_rate = 1.0
        return await original_create(order)

    async def lookup_fails(identity: str) -> Any:
        raise OSError("lookups down")
    venue_a.create_order = unwind_loses_its_answer  # type: ignore[method-assign]
    venue_a.lookup_order = lookup_fails  # type: ignore[method-assign]
    executor = PairExecutor(first, ArbitrageSettings(leg_timeout=0.05))
    waiting = await executor.execute(make_pair(max_unwind_loss="2", halt_on_exposed=False))
    assert waiting.state is PairState.UNWINDING
    # asked again before the unwind is resolved: it still waits for that unwind, plans
    # and sends nothing more
    before = last_seq(journal)
    again = await executor.execute(make_pair(max_unwind_loss="2", halt_on_exposed=False))
    assert again.state is PairState.UNWINDING and again.reason_code == "unresolved"
    assert again.reason == ("waiting for unwind to reach a final state on the venue; the "
                            "pair resumes after reconciliation")
    assert [leg.name for leg in again.legs] == ["a", "b", "unwind-1"]
    assert steps(journal, before) == [("UNWINDING", "waiting")]
    assert journal.get("arb-1:unwind-2") is None
    await first.aclose(close_venues=False)
    journal.close()

    venue_a.switches.ambiguous_rate = 0.0
    venue_a.create_order = original_create  # type: ignore[method-assign]
    venue_a.lookup_order = original_lookup  # type: ignore[method-assign]
    journal = Journal.open(path)
    second = engine_factory(journal, venue_a, venue_b)
    await second.start()
    await second.reconcile()
    assert journal.get("arb-1:unwind-1").status is OrderStatus.FILLED  # type: ignore[union-attr]
    before = last_seq(journal)
    [resumed] = await PairExecutor(second).resume_all()
    assert steps(journal, before) == [("UNWOUND", "done")]  # nothing planned again
    await second.aclose(close_venues=False)
    assert resumed.state is PairState.UNWOUND, resumed.reason
    assert resumed.reason_code == "unwound" and resumed.reason is None
    assert [leg.name for leg in resumed.legs] == ["a", "b", "unwind-1"]
    assert resumed.exposed_quantity == 0 and resumed.unwind_loss > 0
    assert journal.get("arb-1:unwind-2") is None
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["state"] == "UNWOUND" and saved["step"] == "done"
    journal.close()


def _journal_legacy_pair(journal: Journal, pair: PairRequest, detail: dict[str, Any]) -> None:
    """A pair as an older journal holds it: EXECUTING, its request without a bound (and
    the detail given), nothing sent yet."""
    request = pair_to_dict(pair)
    request.pop("max_unwind_loss", None)
    journal.save_pair(pair.pair_id, request=request, state="EXECUTING", step="legs",
                      detail=detail)


@pytest.mark.parametrize(("detail", "setting", "bound"), [
    ({"first": "a", "max_unwind_loss": "0.01"}, "0.02", "0.01"),  # as journaled
    ({}, "0.02", "0.02"),  # not journaled: the executor's setting
    ({}, None, "0"),  # nowhere: no unwind loss at all
])
async def test_a_pair_journaled_without_a_bound_resumes_under_the_journaled_one(
        journal: Journal, make_pair: MakePair, engine_factory: Callable[..., Engine],
        venue_a: PaperExchange, venue_b: PaperExchange, detail: dict[str, Any],
        setting: str | None, bound: str) -> None:
    # b refuses its leg: selling a's 10 back at 0.39 loses more than any of these bounds,
    # so the reason shows the budget the pair was driven under. Thinner first with no
    # journaled first leg: a goes first, then b for what a filled
    venue_b.switches.reject_rate = 1.0
    engine = engine_factory(journal, venue_a, venue_b)
    await engine.start()
    pair = make_pair(sequencing="thinner_first", halt_on_exposed=False)
    _journal_legacy_pair(journal, pair, detail)
    settings = ArbitrageSettings(max_unwind_loss=None if setting is None
                                 else Decimal(setting))
    result = await PairExecutor(engine, settings).execute(pair)
    await engine.aclose()
    assert result.state is PairState.EXPOSED, result.reason
    assert [leg.name for leg in result.legs] == ["a", "b"]
    assert journal.get("arb-1:a").filled_quantity == 10  # type: ignore[union-attr]
    assert journal.get("arb-1:b").status is OrderStatus.REJECTED  # type: ignore[union-attr]
    assert f"the remaining unwind budget of {Decimal(bound):.4f}: close on paper-a M" in (
        result.reason or ""), result.reason


async def test_a_pair_resumed_after_two_unwinds_counts_both(
        journal: Journal, make_pair: MakePair, engine: Engine) -> None:
    # a journal left by a crash after the second unwind filled and before the pair's
    # final state was saved: a filled 10, b refused, the unwinds sold 6 and then 4
    pair = make_pair(max_unwind_loss="2")
    orders = [("a", "paper-a", "YES", "BUY", "10", "0.41", OrderStatus.FILLED),
              ("b", "paper-b", "NO", "BUY", "10", "0.46", OrderStatus.REJECTED),
              ("unwind-1", "paper-a", "YES", "SELL", "6", "0.39", OrderStatus.FILLED),
              ("unwind-2", "paper-a", "YES", "SELL", "4", "0.39", OrderStatus.FILLED)]
    for name, venue, outcome, side, quantity, price, status in orders:
        key = f"arb-1:{name}"
        journal.record_intent(OrderRequest(
            request_id=key, idempotency_key=key, venue=venue, market="M", outcome=outcome,
            side=side, quantity=quantity, limit_price=price), identity=key,
            venue_order_id=f"v-{name}")
        if status is OrderStatus.FILLED:
            journal.record_state(key, status=status, filled_quantity=Decimal(quantity),
                                 average_price=Decimal(price), fees=Decimal(0),
                                 fills=[Fill(trade_id=f"t-{name}", quantity=quantity,
                                             price=price)])
        else:
            journal.record_state(key, status=status)
    journal.save_pair("arb-1", request=pair_to_dict(pair), state="UNWINDING",
                      step="unwind-2", detail={"first": "a", "max_unwind_loss": "2"})
    before = last_seq(journal)
    result = await PairExecutor(engine).execute(pair)
    assert result.state is PairState.UNWOUND, result.reason
    assert [leg.name for leg in result.legs] == ["a", "b", "unwind-1", "unwind-2"]
    assert result.exposed_quantity == 0 and result.unwind_loss == Decimal("0.20")
    assert steps(journal, before) == [("UNWOUND", "done")]
    assert journal.get("arb-1:unwind-3") is None


async def test_a_resumed_pair_never_sends_a_leg_the_engine_denied(
        journal: Journal, make_pair: MakePair, engine: Engine, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    # both legs were denied (a halt arrived between the pair's check and its sends) and
    # the process stopped before the pair's final state was saved: resumed, the pair
    # follows the legs as journaled, MISSED; a denied key is never taken as unsent
    pair = make_pair()
    for name in ("a", "b"):
        leg = pair.leg(name)
        journal.record_denial(OrderRequest(
            request_id=f"arb-1:{name}", idempotency_key=f"arb-1:{name}", venue=leg.venue,
            market="M", outcome=leg.outcome, side="BUY", quantity="10",
            limit_price=leg.limit_price), code="halted", reason="trading is halted (test)")
    journal.save_pair("arb-1", request=pair_to_dict(pair), state="EXECUTING", step="legs",
                      detail={"first": "a", "max_unwind_loss": "0.50"})
    result = await PairExecutor(engine).execute(pair)
    assert result.state is PairState.MISSED, result.reason
    assert [leg.result.status for leg in result.legs] == [OrderStatus.DENIED] * 2
    assert venue_a.open_orders() == [] and await venue_a.fetch_positions() == []
    assert await venue_b.fetch_positions() == []


async def test_a_journaled_pair_that_cannot_be_read_back_is_logged_and_the_rest_resume(
        journal: Journal, make_pair: MakePair, engine: Engine,
        caplog: pytest.LogCaptureFixture) -> None:
    journal.save_pair("bad", request={"pair_id": "bad", "quantity": "10", "legs": []},
                      state="EXECUTING", step="legs", detail={})
    journal.save_pair("arb-1", request=pair_to_dict(make_pair()), state="EXECUTING",
                      step="legs", detail={"first": "a", "max_unwind_loss": "0.50"})
    with caplog.at_level(logging.ERROR, logger="arbexec.arbitrage"):
        resumed = await PairExecutor(engine).resume_all()
    assert [(r.pair_id, r.state) for r in resumed] == [("arb-1", PairState.HEDGED)]
    [record] = [r for r in caplog.records if r.name == "arbexec.arbitrage"]
    assert record.getMessage().startswith("pair bad cannot be read back: ")
    assert "legs" in record.getMessage()  # and why: the request's error
