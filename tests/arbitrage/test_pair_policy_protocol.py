"""The executor asks a policy only what ``PairPolicyLike`` declares: a stand-in offering
exactly that protocol runs pairs as the real policy does, and a policy offering only the
engine's ``PolicyLike`` has its pairs refused rather than half checked."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.engine import Engine, OpenPolicy, PairPolicyLike, PolicyLike
from arbexec.journal import Journal
from arbexec.model import OrderRequest
from arbexec.plugins import PluginHost
from arbexec.risk.base import RiskContext, Verdict
from arbexec.risk.policy import load_policy

MakePair = Callable[..., PairRequest]


class EngineOnlyPolicy:
    """Exactly ``PolicyLike`` around a real policy: what the engine needs, no more."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @property
    def needs(self) -> Any:
        return self._inner.needs

    @property
    def observers(self) -> Any:
        return self._inner.observers

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> Any:
        return self._inner.evaluate(request, ctx)

    def explain(self, request: OrderRequest, ctx: RiskContext) -> Any:
        return self._inner.explain(request, ctx)

    def release(self, request: OrderRequest) -> None:
        self._inner.release(request)

    def drain_events(self) -> Any:
        return self._inner.drain_events()

    def restore(self, read: Any) -> None:
        self._inner.restore(read)


class PairOnlyPolicy(EngineOnlyPolicy):
    """Exactly ``PairPolicyLike``: the engine's protocol and the three pair methods."""

    __slots__ = ()

    def check_pair(self, first: OrderRequest, second: OrderRequest, first_ctx: RiskContext,
                   second_ctx: RiskContext) -> Verdict:
        verdict: Verdict = self._inner.check_pair(first, second, first_ctx, second_ctx)
        return verdict

    def unwind_bound(self) -> Decimal | None:
        bound: Decimal | None = self._inner.unwind_bound()
        return bound

    def breaker_state(self, venue: str) -> str:
        return str(self._inner.breaker_state(venue))


def real(*tables: dict[str, Any]) -> Any:
    return load_policy(list(tables), available=PluginHost.create().risk_rules(), source="test")


RULES = ({"rule": "max_exposure", "max_total": "20"},
         {"rule": "min_edge", "min_edge": "0.05"},
         {"rule": "unwind_bound", "max_unwind_loss": "0.75"},
         {"rule": "circuit_breaker", "consecutive_failures": 3})


def test_the_real_policies_offer_the_pair_protocol() -> None:
    assert isinstance(real(*RULES), PairPolicyLike)
    assert isinstance(OpenPolicy(), PairPolicyLike)
    assert isinstance(PairOnlyPolicy(real(*RULES)), PairPolicyLike)
    assert isinstance(EngineOnlyPolicy(real(*RULES)), PolicyLike)
    assert not isinstance(EngineOnlyPolicy(real(*RULES)), PairPolicyLike)
    policy = real(*RULES)
    assert policy.unwind_bound() == Decimal("0.75")
    assert real({"rule": "max_exposure", "max_total": "1"}).unwind_bound() is None
    assert policy.breaker_state("paper-a") == "closed"


async def test_pairs_run_on_a_policy_offering_exactly_the_pair_protocol(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b, policy=PairOnlyPolicy(real(*RULES)))
    await engine.start()
    executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
    explained = await executor.explain(make_pair(max_unwind_loss=None))
    hedged = await executor.execute(make_pair(max_unwind_loss=None))
    thin = await executor.execute(make_pair(pair_id="arb-2", a_price="0.45", b_price="0.48",
                                            max_unwind_loss=None))  # 0.07 - fees < 0.05
    big = await executor.execute(make_pair(pair_id="arb-3", quantity=30))  # 26.10 > 20
    await engine.aclose()
    assert explained["max_unwind_loss"] == "0.75"
    assert explained["max_unwind_loss_from"] == "policy"  # the protocol's unwind_bound
    assert hedged.state is PairState.HEDGED
    assert thin.state is PairState.DENIED and thin.reason_code == "edge_below_min"
    assert "per contract" in (thin.reason or "")  # the min_edge rule's check_pair spoke
    assert big.state is PairState.DENIED and big.reason_code == "exposure_total"


async def test_an_open_breaker_named_by_the_protocol_refuses_the_pair(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    class BreakerOpenOnB(PairOnlyPolicy):
        __slots__ = ()

        def breaker_state(self, venue: str) -> str:
            return "open" if venue == "paper-b" else "closed"

    engine = engine_factory(journal, venue_a, venue_b, policy=BreakerOpenOnB(real(*RULES)))
    await engine.start()
    result = await PairExecutor(engine).execute(make_pair())
    await engine.aclose()
    assert result.state is PairState.DENIED and result.reason_code == "venue_unhealthy"
    assert "circuit breaker of paper-b is open" in (result.reason or "")
    assert journal.get("arb-1:a") is None and journal.get("arb-1:b") is None


async def test_a_policy_without_the_pair_protocol_has_its_pairs_refused(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b, policy=EngineOnlyPolicy(real(*RULES)))
    await engine.start()
    result = await PairExecutor(engine).execute(make_pair())
    await engine.aclose()
    assert result.state is PairState.DENIED and result.reason_code == "policy_without_pairs"
    assert journal.get("arb-1:a") is None and journal.get("arb-1:b") is None
