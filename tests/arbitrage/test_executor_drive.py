"""The executor's drive loop: an excess of a single contract is unwound, the unwind attempt
budget is counted exactly, each unwind's plan is journaled before it is sent, and the earmark
of a first leg never sent is given back whichever leg went first."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.engine import Engine
from arbexec.journal import Journal
from arbexec.plugins import PluginHost
from arbexec.risk.policy import load_policy

MakePair = Callable[..., PairRequest]


async def test_an_excess_of_one_contract_is_unwound(
        journal: Journal, make_pair: MakePair, venue_a: PaperExchange,
        paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    # b offers 9 NO: a fills 10, b 9; the one extra contract of a is sold back
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [9],
                                       "volatility": 0.0}, fees="polymarket")
    engine = engine_factory(journal, venue_a, thin_b)
    await engine.start()
    result = await PairExecutor(engine).execute(make_pair(halt_on_exposed=False))
    await engine.aclose()
    assert result.state is PairState.UNWOUND, result.reason
    assert result.hedged_quantity == 9 and result.exposed_quantity == 0
    assert [leg.name for leg in result.legs] == ["a", "b", "unwind-1"]
    assert result.legs[2].result.filled_quantity == 1


@pytest.mark.parametrize(("attempts", "state"), [(1, PairState.UNWOUND),
                                                 (0, PairState.EXPOSED)])
async def test_the_unwind_attempts_are_counted_exactly(
        engine: Engine, make_pair: MakePair, venue_b: PaperExchange, attempts: int,
        state: PairState) -> None:
    # b refuses its leg: one unwind closes a's 10; with no attempts allowed the pair is
    # EXPOSED and says that the attempts, not the books or the budget, stopped it
    venue_b.switches.reject_rate = 1.0
    executor = PairExecutor(engine, ArbitrageSettings(max_unwind_attempts=attempts))
    result = await executor.execute(make_pair(max_unwind_loss="2", halt_on_exposed=False))
    assert result.state is state, result.reason
    if state is PairState.EXPOSED:
        assert result.reason == ("10 contracts of leg a are unhedged: the unwind attempts "
                                 "are used up")
        assert engine.journal.get("arb-1:unwind-1") is None
        assert result.unwind_loss == 0  # nothing was unwound: no unwind loss, whatever
        # the held leg is worth
    else:
        assert [leg.name for leg in result.legs] == ["a", "b", "unwind-1"]


async def test_each_unwind_s_plan_is_journaled_before_it_is_sent(
        engine: Engine, make_pair: MakePair, venue_a: PaperExchange,
        venue_b: PaperExchange) -> None:
    # what a crash during the unwind's send leaves for the operator: the pair UNWINDING at
    # step unwind-1 with the plan being sent
    venue_b.switches.reject_rate = 1.0
    seen: list[dict[str, Any] | None] = []
    original_create = venue_a.create_order

    async def record_the_pair(order: Any) -> Any:
        if order.request.idempotency_key == "arb-1:unwind-1":
            seen.append(engine.journal.get_pair("arb-1"))
        return await original_create(order)
    venue_a.create_order = record_the_pair  # type: ignore[method-assign]
    result = await PairExecutor(engine).execute(make_pair(max_unwind_loss="2",
                                                          halt_on_exposed=False))
    assert result.state is PairState.UNWOUND, result.reason
    [saved] = seen
    assert saved is not None and saved["state"] == "UNWINDING"
    assert saved["step"] == "unwind-1"
    # a's 10 cost 4.10 + 0.1694 fees (0.42694 each); selling them at 0.25 loses 1.7694,
    # plus the largest Kalshi fee between 0.49 and 0.25 (0.18) and 25 levels of fee
    # rounding: 1.9519, the last price within the bound of 2
    assert saved["detail"]["unwind"] == {
        "attempt": 1, "kind": "close", "venue": "paper-a", "quantity": "10",
        "limit_price": "0.25", "worst_loss": "1.95190"}
    assert result.legs[2].result.limit_price == Decimal("0.25")


async def test_the_earmark_of_leg_a_never_sent_is_given_back_when_b_went_first(
        journal: Journal, venue_a: PaperExchange, paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    # room for one pair (10 x 0.41 + 10 x 0.46 = 8.70 of 10). b offers only 5 NO, so it is
    # the thinner leg and goes first; its venue refuses it, so a is never sent: a's
    # earmark (4.10) must be free again, or the next pair would not fit
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [5],
                                       "volatility": 0.0}, fees="polymarket")
    engine = engine_factory(journal, venue_a, thin_b, policy=load_policy(
        [{"rule": "max_exposure", "max_total": "10"}],
        available=PluginHost.create().risk_rules(), source="test"))
    await engine.start()
    executor = PairExecutor(engine)
    thin_b.switches.reject_rate = 1.0
    missed = await executor.execute(make_pair(sequencing="thinner_first"))
    thin_b.switches.reject_rate = 0.0
    second = await executor.execute(make_pair(pair_id="arb-2", sequencing="thinner_first"))
    await engine.aclose()
    assert missed.state is PairState.MISSED
    assert journal.get("arb-1:a") is None and journal.get("arb-1:b") is not None
    assert second.state is PairState.HEDGED and second.hedged_quantity == 5, second.reason
