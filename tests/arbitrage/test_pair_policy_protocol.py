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
from arbexec.engine.policy import Allow
from arbexec.errors import VenueUnavailable
from arbexec.journal import Journal
from arbexec.model import OrderRequest
from arbexec.plugins import PluginHost
from arbexec.risk.base import RiskContext, Verdict
from arbexec.risk.policy import load_policy
from tests.core.test_engine_money_path import ProtocolOnlyPolicy as EngineOnlyPolicy

MakePair = Callable[..., PairRequest]


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
    explained = await PairExecutor(engine).explain(make_pair())
    result = await PairExecutor(engine).execute(make_pair())
    await engine.aclose()
    assert result.state is PairState.DENIED and result.reason_code == "policy_without_pairs"
    assert result.reason == ("the risk policy does not offer the pair checks (check_pair, "
                             "unwind_bound, breaker_state of PairPolicyLike); nothing was sent")
    assert (explained["allowed"], explained["first_leg"]) == (False, "a")
    assert journal.get("arb-1:a") is None and journal.get("arb-1:b") is None


class Recording(PairOnlyPolicy):
    """The pair protocol around a real policy, noting what the executor asks it, and
    answering as told: ``refuse_leg`` (a denial without a verdict) or ``pair_verdict``."""

    __slots__ = ("asked", "pair_verdict", "paired", "refuse_leg")

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.asked: list[OrderRequest] = []
        self.paired: list[tuple[OrderRequest, OrderRequest]] = []
        self.refuse_leg = False
        self.pair_verdict: Verdict | None = None

    def explain(self, request: OrderRequest, ctx: RiskContext) -> Any:
        self.asked.append(request)
        if self.refuse_leg:
            return Allow(allowed=False)  # a policy refusing without saying why
        return super().explain(request, ctx)

    def check_pair(self, first: OrderRequest, second: OrderRequest, first_ctx: RiskContext,
                   second_ctx: RiskContext) -> Verdict:
        self.paired.append((first, second))
        if self.pair_verdict is not None:
            return self.pair_verdict
        return super().check_pair(first, second, first_ctx, second_ctx)


async def test_the_policy_is_asked_about_both_legs_as_they_will_be_sent(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    recording = Recording(real(*RULES))
    engine = engine_factory(journal, venue_a, venue_b, policy=recording)
    await engine.start()
    result = await PairExecutor(engine).execute(make_pair(tags={"desk": "x"}))
    await engine.aclose()
    assert result.state is PairState.HEDGED
    a, b = recording.asked
    assert recording.paired == [(a, b)]
    assert (a.idempotency_key, a.venue, a.market, a.outcome.value, a.side.value) == (
        "arb-1:a", "paper-a", "M", "YES", "BUY")
    assert (b.idempotency_key, b.venue, b.market, b.outcome.value, b.side.value) == (
        "arb-1:b", "paper-b", "M", "NO", "BUY")
    assert (a.quantity, a.limit_price, b.limit_price) == (10, Decimal("0.41"), Decimal("0.46"))
    assert a.time_in_force.value == b.time_in_force.value == "IOC"
    # each leg's value is the dollar its partner's contract leaves: 1 - the other's limit
    assert (a.expected_value, b.expected_value) == (Decimal("0.54"), Decimal("0.59"))
    assert a.tags == {"desk": "x", "pair_id": "arb-1", "leg": "a"}
    assert b.tags == {"desk": "x", "pair_id": "arb-1", "leg": "b"}
    assert a.request_id == "arb-1:a" and b.request_id == "arb-1:b"


async def test_refusals_without_a_code_are_named_risk(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    recording = Recording(real(*RULES))
    engine = engine_factory(journal, venue_a, venue_b, policy=recording)
    await engine.start()
    executor = PairExecutor(engine)
    recording.refuse_leg = True
    silent = await executor.execute(make_pair())
    recording.refuse_leg = False
    recording.pair_verdict = Verdict(rule="custom", allowed=False, message="not today",
                                     figures={"why": "test"})
    uncoded = await executor.execute(make_pair(pair_id="arb-2"))
    await engine.aclose()
    assert (silent.state, silent.reason_code, silent.reason) == (
        PairState.DENIED, "risk", "leg a: denied by the risk policy")
    assert (uncoded.state, uncoded.reason_code, uncoded.reason) == (
        PairState.DENIED, "risk", "not today")
    saved = journal.get_pair("arb-2")
    assert saved is not None and saved["detail"]["figures"] == {"why": "test"}
    assert journal.get_pair("arb-1")["detail"]["figures"] == {}  # type: ignore[index]


async def test_a_pair_whose_risk_data_cannot_be_read_is_denied(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b,
                            policy=real(*RULES, {"rule": "available_balance"}))
    await engine.start()

    async def no_balance() -> Any:
        raise VenueUnavailable("balance endpoint down", venue="paper-b")
    venue_b.fetch_balance = no_balance  # type: ignore[method-assign]
    result = await PairExecutor(engine).execute(make_pair())
    await engine.aclose()
    assert (result.state, result.reason_code) == (PairState.DENIED, "risk_data_unavailable")
    assert result.reason == "could not fetch what the risk policy needs: balance endpoint down"
    assert journal.get("arb-1:a") is None and journal.get("arb-1:b") is None
