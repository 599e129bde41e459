"""A pair refused before anything is sent, in the words the trader reads and with the first
leg ``explain`` reports: a halt, an unknown venue, a leg key already taken, no unwind bound,
books that cannot be read, a leg with nothing offered at its limit, the shared ledger away;
and what must not refuse: the pair's own legs, a fee that depends on the market."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from arbexec_paper.exchange import PaperExchange
from attrs import evolve

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, PairState
from arbexec.engine import Engine
from arbexec.errors import VenueUnavailable
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.ledger import InMemoryLedger, LedgerUnavailable
from arbexec.model import OrderRequest, OrderStatus
from arbexec.sinks.hub import SinkHub
from tests.arbitrage.test_pair_policy_protocol import RULES, PairOnlyPolicy, real
from tests.core.test_engine_money_path import ProtocolOnlyPolicy

MakePair = Callable[..., PairRequest]


async def refused(executor: PairExecutor, pair: PairRequest) -> tuple[str, str, str]:
    """The refusal's code and words as executed, and the first leg explain names."""
    explained = await executor.explain(pair)
    result = await executor.execute(pair)
    assert result.state is PairState.DENIED, result.reason
    assert explained["verdicts"][0]["code"] == result.reason_code
    return result.reason_code or "", result.reason or "", explained["first_leg"]


@pytest.mark.parametrize(("why", "shown"), [("maintenance", "maintenance"),
                                            ("", "no reason given")])
async def test_a_halt_refuses_a_pair_saying_why_and_how_to_lift_it(
        executor: PairExecutor, engine: Engine, make_pair: MakePair, why: str,
        shown: str) -> None:
    engine.halt.halt(why, by="test")
    assert await refused(executor, make_pair()) == (
        "halted", f"trading is halted ({shown}); lift it with `arbexec resume`", "a")


async def test_an_unknown_venue_on_either_leg_is_named(
        executor: PairExecutor, make_pair: MakePair, journal: Journal) -> None:
    pair = make_pair()
    on_a = evolve(pair, a=evolve(pair.a, venue="nowhere"))
    assert await refused(executor, on_a) == (
        "unknown_venue", "leg a: venue 'nowhere' is not configured; configured venues: "
        "paper-a, paper-b", "a")
    bare = Engine(journal=journal, venues={}, halt=JournalHaltFlag(journal), hub=SinkHub([]))
    assert (await PairExecutor(bare).execute(on_a)).reason == (
        "leg a: venue 'nowhere' is not configured; configured venues: none")


async def test_a_pair_without_a_bound_is_refused_in_words(
        executor: PairExecutor, make_pair: MakePair) -> None:
    assert await refused(executor, make_pair(max_unwind_loss=None)) == (
        "no_unwind_bound", "the pair names no max_unwind_loss and the policy sets none (an "
        "unwind_bound rule); give one: without it any imbalance would end EXPOSED", "a")


async def test_books_that_cannot_be_read_refuse_the_pair_in_words(
        executor: PairExecutor, make_pair: MakePair, venue_b: PaperExchange) -> None:
    down = VenueUnavailable("market data down", venue="paper-b")

    async def unreadable(market: str) -> Any:
        raise down
    venue_b.market_rules = unreadable  # type: ignore[method-assign]
    assert await refused(executor, make_pair()) == (
        "venue_unhealthy", f"could not read both venues' books and rules: {down}", "a")


async def test_a_leg_with_nothing_offered_at_its_limit_is_named(
        executor: PairExecutor, make_pair: MakePair) -> None:
    # a's YES asks start at 0.41, b's NO asks at 0.46
    assert await refused(executor, make_pair(b_price="0.45")) == (
        "no_liquidity", "leg b: nothing offered at 0.45 or better on paper-b M", "b")
    assert await refused(executor, make_pair(pair_id="arb-2", a_price="0.40")) == (
        "no_liquidity", "leg a: nothing offered at 0.40 or better on paper-a M", "a")
    # one contract offered on a is not nothing: b is the empty leg
    assert await refused(executor, make_pair(pair_id="arb-3", quantity=1, b_price="0.45")) == (
        "no_liquidity", "leg b: nothing offered at 0.45 or better on paper-b M", "b")


@pytest.mark.parametrize(("key", "tags", "leg"), [
    ("arb-1:b", {}, "b"),  # a single order under leg b's key
    ("arb-1:a", {"pair_id": "other", "leg": "a"}, "a"),  # another pair's leg a
    ("arb-1:a", {"pair_id": "arb-1", "leg": "b"}, "a"),  # this pair's name, not its leg
])
async def test_a_leg_key_holding_an_order_this_pair_did_not_send_refuses_it(
        executor: PairExecutor, engine: Engine, make_pair: MakePair, key: str,
        tags: dict[str, Any], leg: str) -> None:
    single = OrderRequest(request_id="single", idempotency_key=key, venue=f"paper-{leg}",
                          market="M", outcome="YES" if leg == "a" else "NO", side="BUY",
                          quantity=10, limit_price="0.41" if leg == "a" else "0.46",
                          tags=tags)
    assert (await engine.submit(single)).status is OrderStatus.FILLED
    assert await refused(executor, make_pair()) == (
        "leg_key_taken", f"leg {leg}: key {key} already holds an order that pair arb-1 did "
        "not send; nothing was sent (give the pair another pair_id)", "a")


async def test_a_pair_s_own_legs_are_not_taken_for_foreign_ones(
        executor: PairExecutor, make_pair: MakePair) -> None:
    assert (await executor.execute(make_pair())).state is PairState.HEDGED
    explained = await executor.explain(make_pair())
    assert explained["verdicts"][0]["code"] != "leg_key_taken", explained
    assert explained["allowed"], explained


class AwayLedger(InMemoryLedger):
    async def try_earmark(self, groups: Any) -> Any:
        raise LedgerUnavailable("the ledger's store does not answer")


async def test_the_shared_ledger_away_refuses_the_pair_in_words(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        make_pair: MakePair) -> None:
    engine = Engine(journal=journal, venues={v.name: v for v in (venue_a, venue_b)},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]), ledger=AwayLedger())
    result = await PairExecutor(engine).execute(make_pair())
    assert result.state is PairState.DENIED and result.reason_code == "ledger_unavailable"
    assert result.reason == "the ledger's store does not answer; nothing was sent"


async def test_the_edge_at_the_limits_asks_each_venue_the_fee_of_the_leg_s_market(
        executor: PairExecutor, make_pair: MakePair, venue_a: PaperExchange) -> None:
    # fees differ by market on Kalshi and Polymarket: a fee asked for any other market
    # than the leg's would be this venue's prohibitive one
    def by_market(market: str, price: Decimal, quantity: Decimal, liquidity: Any) -> Decimal:
        return Decimal(0) if market == "M" else Decimal(100)
    venue_a.fee = by_market  # type: ignore[method-assign]
    explained = await executor.explain(make_pair())
    assert explained["allowed"], explained


async def test_explain_under_a_policy_without_pairs_names_no_bound(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    engine = engine_factory(journal, venue_a, venue_b, policy=ProtocolOnlyPolicy(real(*RULES)))
    explained = await PairExecutor(engine, ArbitrageSettings()).explain(
        make_pair(max_unwind_loss=None))
    assert explained["verdicts"][0]["code"] == "policy_without_pairs"
    assert (explained["max_unwind_loss"], explained["max_unwind_loss_from"]) == (None, "none")


async def test_edges_and_breakers_refuse_with_leg_a_named_first(
        journal: Journal, venue_a: PaperExchange, venue_b: PaperExchange,
        engine_factory: Callable[..., Engine], make_pair: MakePair) -> None:
    class BreakerOpenOnB(PairOnlyPolicy):
        __slots__ = ()

        def breaker_state(self, venue: str) -> str:
            return "open" if venue == "paper-b" else "closed"

    plain = PairExecutor(engine_factory(journal, venue_a, venue_b))
    code, _, first = await refused(plain, make_pair(min_edge="0.5"))
    assert (code, first) == ("edge_below_min", "a")
    broken = PairExecutor(engine_factory(journal, venue_a, venue_b,
                                         policy=BreakerOpenOnB(real(*RULES))))
    assert await refused(broken, make_pair(pair_id="arb-2")) == (
        "venue_unhealthy", "leg b: the circuit breaker of paper-b is open", "a")


async def test_the_book_check_refuses_what_fee_rounding_on_fewer_contracts_takes(
        journal: Journal, make_pair: MakePair, paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    # Kalshi fees on a, none on b, b offering only 2 NO. At the limits, 10 contracts pay
    # 0.1694 (0.07 x 10 x 0.41 x 0.59 = 0.16933, up to the next 0.0001): 0.11306 each.
    # The books match only 2, whose fee rounds up to 0.0339: 0.11305 each, below a
    # min_edge of 0.11306 that the limits meet: the fresher test refuses the pair
    venue_a = paper_factory("paper-a", {"mid": "0.40", "spread_ticks": 2,
                                        "depth": [100, 200, 300], "volatility": 0.0},
                            fees="kalshi")
    thin_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2, "depth": [2],
                                       "volatility": 0.0})
    executor = PairExecutor(engine_factory(journal, venue_a, thin_b))
    assert await refused(executor, make_pair(min_edge="0.11306")) == (
        "edge_below_min", "edge after 0.0339 fees is 0.1130 per contract on the fresh "
        "books, below the minimum of 0.11306", "b")
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["detail"]["figures"] == {
        "edge": "0.113050", "fees": "0.0339", "matched": "2", "basis": "book"}
    assert (await executor.execute(make_pair(pair_id="arb-2", min_edge="0.11305"))
            ).state is not PairState.DENIED


async def test_the_book_check_counts_leg_b_s_fees_too(
        journal: Journal, make_pair: MakePair, paper_factory: Callable[..., PaperExchange],
        engine_factory: Callable[..., Engine]) -> None:
    # the same on the other side: a offers only 2 YES and charges nothing; b's Kalshi fee
    # is 0.1739 for 10 NO at 0.46 (0.11261 each) but 0.0348 for 2 (0.1126 each)
    thin_a = paper_factory("paper-a", {"mid": "0.40", "spread_ticks": 2, "depth": [2],
                                       "volatility": 0.0})
    venue_b = paper_factory("paper-b", {"mid": "0.55", "spread_ticks": 2,
                                        "depth": [100, 200, 300], "volatility": 0.0},
                            fees="kalshi")
    executor = PairExecutor(engine_factory(journal, thin_a, venue_b))
    assert await refused(executor, make_pair(min_edge="0.11261")) == (
        "edge_below_min", "edge after 0.0348 fees is 0.1126 per contract on the fresh "
        "books, below the minimum of 0.11261", "a")
    saved = journal.get_pair("arb-1")
    assert saved is not None and saved["detail"]["figures"] == {
        "edge": "0.112600", "fees": "0.0348", "matched": "2", "basis": "book"}
