"""The scanner over two paper venues: it predicts exactly the figures the arbitrage executor
checks, executes an opportunity once under one pair key, and journals what it saw."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from attrs import evolve

from arbexec.arbitrage import ArbitrageSettings, PairExecutor
from arbexec.catalog.pairfile import MarketRef, MatchedPair, PairStatus
from arbexec.exchange import StreamedBook
from arbexec.journal import Journal
from arbexec.scanner.feed import BookFeed
from arbexec.scanner.scan import Scanner
from arbexec.scanner.settings import ScanSettings
from arbexec.scanner.store import ScanStore

from .conftest import MARKET_A, MARKET_B, PAIR, make_engine, paper


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def venues() -> tuple:
    return paper("paper-a", MARKET_A, fees="kalshi"), paper("paper-b", MARKET_B,
                                                            fees="polymarket")


async def test_the_executor_checks_the_edge_the_scanner_predicts(venues: tuple,
                                                                 journal: Journal) -> None:
    engine = make_engine(journal, *venues)
    await engine.start()
    try:
        executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
        settings = ScanSettings(max_unwind_loss=D(1))
        scanner = Scanner([PAIR], BookFeed(engine.venues, max_age=10), settings)
        report = await scanner.scan_once()
        yes = next(r for r in report.rows if r.direction == "yes")
        level = yes.opportunity
        assert level is not None and level.quantity == 600
        # the executor's own verdict on that pair: allowed at exactly the predicted
        # executable edge per contract, refused a billionth of a dollar above it
        exact = scanner.request(PAIR, "yes", level, "k-1")
        # the executor holds the pair to the scan's minimum again on the books it reads
        assert (exact.min_edge, exact.max_unwind_loss) == (D("0.05"), D(1))
        assert (exact.a.limit_price, exact.b.limit_price, exact.quantity) == (
            D("0.43"), D("0.48"), 600)
        allowed = await executor.explain(evolve(exact, min_edge=level.executable_edge_per_contract))
        assert allowed["allowed"], allowed
        refused = await executor.explain(evolve(
            exact, min_edge=level.executable_edge_per_contract + D("1e-9")))
        assert not refused["allowed"] and refused["verdicts"][0]["code"] == "edge_below_min"
    finally:
        await engine.aclose()


async def test_an_opportunity_is_executed_once_and_hedged_at_the_predicted_edge(
        venues: tuple, journal: Journal, tmp_path: Path) -> None:
    engine = make_engine(journal, *venues)
    await engine.start()
    store = ScanStore(tmp_path / "scan.sqlite3")
    clock = Clock()
    feed = BookFeed(engine.venues, max_age=10, clock=clock)
    try:
        executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
        scanner = Scanner([PAIR], feed, ScanSettings(max_unwind_loss=D(1)), store=store,
                          executor=executor)
        seen: dict = {}
        real_refresh = feed.refresh

        async def remember(markets: object, *, force: bool = False) -> None:
            await real_refresh(markets, force=force)  # type: ignore[arg-type]
            if not seen:  # the books as the scan saw them, before its trade
                seen.update(feed._latest)

        feed.refresh = remember  # type: ignore[method-assign]
        first = await scanner.scan_once()
        yes = next(r for r in first.rows if r.direction == "yes")
        assert yes.result is not None and yes.result.state.value == "HEDGED"
        assert yes.observation.status == "executed"
        assert yes.opportunity is not None
        assert yes.result.realised_edge == yes.opportunity.edge
        no = next(r for r in first.rows if r.direction == "no")
        assert no.observation.status == "below_min" and no.result is None
        sent = sum(len(v._orders) for v in venues)
        assert sent == 2

        # the feed offers the books as they were (a restart reading the same figures): the
        # same opportunity again is answered from the executor's journal under the same
        # key, and nothing is sent
        async def as_before(_markets: object, *, force: bool = False) -> None:
            feed._latest.update(seen)

        feed.refresh = as_before  # type: ignore[method-assign]
        again = await scanner.scan_once()
        yes2 = next(r for r in again.rows if r.direction == "yes")
        assert yes2.observation.pair_key == yes.observation.pair_key
        assert yes2.observation.status == "seen"
        assert yes2.observation.reason_code == "handled_before"
        assert yes2.result is not None and yes2.result.duplicate
        assert sum(len(v._orders) for v in venues) == sent

        # a real refresh: the depth was taken, so there is no opportunity left
        del feed.refresh
        third = await scanner.scan_once()
        assert all(r.opportunity is None for r in third.rows)
        statuses = [o.status for o in store.observations()]
        assert statuses.count("executed") == 1
    finally:
        store.close()
        await engine.aclose()


async def test_a_stale_or_missing_book_is_reported_not_traded(venues: tuple) -> None:
    clock = Clock()
    lost = MatchedPair(a=MarketRef(venue="paper-a", market="M"),
                       b=MarketRef(venue="nowhere", market="X"), status=PairStatus.ACCEPTED)
    feed = BookFeed({v.name: v for v in venues}, max_age=5, clock=clock)
    scanner = Scanner([PAIR, lost], feed, ScanSettings())
    report = await scanner.scan_once()
    by_pair = {(r.pair.id, r.direction): r.observation for r in report.rows}
    assert by_pair[(lost.id, "yes")].status == "unavailable"
    assert by_pair[(lost.id, "yes")].reason_code == "unknown_venue"
    assert by_pair[(PAIR.id, "yes")].status == "seen"  # no executor: seen, not executed

    async def frozen(_markets: object, *, force: bool = False) -> None:
        return None

    feed.refresh = frozen  # type: ignore[method-assign]
    clock.now = 6.0  # the books are now older than the bound
    report = await scanner.scan_once()
    stale = {(r.pair.id, r.direction): r.observation for r in report.rows}
    assert stale[(PAIR.id, "yes")].status == "unavailable"
    assert stale[(PAIR.id, "yes")].reason_code == "stale_book"
    assert all(r.opportunity is None for r in report.rows)


def test_an_unchanged_opportunity_keeps_its_key_and_a_new_one_gets_another(
        tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scan.sqlite3")
    first = store.key_for("p", "yes", "YES@0.41|NO@0.46|100")
    assert store.key_for("p", "yes", "YES@0.41|NO@0.46|100") == first
    changed = store.key_for("p", "yes", "YES@0.42|NO@0.46|300")
    assert changed != first
    store.close_opportunity("p", "yes")  # gone for a scan: the same figures are new
    assert store.key_for("p", "yes", "YES@0.42|NO@0.46|300") not in (first, changed)
    assert store.key_for("p", "no", "NO@0.59|YES@0.30|5") != first
    store.close()
    reopened = ScanStore(tmp_path / "scan.sqlite3")  # a restart keeps the counters
    assert reopened.key_for("p", "yes", "YES@0.42|NO@0.46|300").endswith("-yes-3")
    reopened.close()


async def test_an_inverted_pair_is_executed_buying_yes_on_both_markets(
        journal: Journal) -> None:
    from arbexec.plugins import PluginHost
    from arbexec.risk.policy import load_policy

    # c lists the same contract the other way round: its YES is a's NO (asks 0.46, 0.47, ...)
    a = paper("paper-a", MARKET_A, fees="kalshi")
    c = paper("paper-c", {**MARKET_B, "mid": "0.45"}, fees="polymarket")
    inverted = MatchedPair(a=MarketRef(venue="paper-a", market="M"),
                           b=MarketRef(venue="paper-c", market="M"),
                           status=PairStatus.ACCEPTED, inverted=True)
    engine = make_engine(journal, a, c)
    # the pair check of the policy's min_edge rule sees both legs buy YES, tagged inverted
    engine.policy = load_policy([{"rule": "min_edge", "min_edge": "0.05"}],
                                available=PluginHost.create().risk_rules(), source="test")
    await engine.start()
    try:
        executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
        scanner = Scanner([inverted], BookFeed(engine.venues, max_age=10),
                          ScanSettings(max_unwind_loss=D(1), max_quantity=D(100)),
                          executor=executor)
        report = await scanner.scan_once()
        yes = next(r for r in report.rows if r.direction == "yes")
        assert (yes.outcome_a.value, yes.outcome_b.value) == ("YES", "YES")
        assert yes.result is not None and yes.result.state.value == "HEDGED", yes.result
        assert yes.opportunity is not None
        assert yes.result.realised_edge == yes.opportunity.edge
        held = {(p.venue, p.outcome.value, p.quantity)
                for v in (a, c) for p in await v.fetch_positions()}
        assert held == {("paper-a", "YES", 100), ("paper-c", "YES", 100)}
    finally:
        await engine.aclose()


def test_a_pair_request_says_whether_its_markets_are_inverted() -> None:
    from arbexec.arbitrage.model import pair_from_mapping, pair_to_dict
    from arbexec.model import RequestError

    legs = [{"venue": "x", "market": "M", "outcome": "YES", "limit_price": "0.4"},
            {"venue": "y", "market": "N", "outcome": "YES", "limit_price": "0.5"}]
    with pytest.raises(RequestError, match="set inverted"):
        pair_from_mapping({"pair_id": "p", "quantity": "1", "legs": legs})
    pair = pair_from_mapping({"pair_id": "p", "quantity": "1", "legs": legs, "inverted": True})
    assert pair.inverted and pair_from_mapping(pair_to_dict(pair)) == pair
    opposite = [legs[0], {**legs[1], "outcome": "NO"}]
    with pytest.raises(RequestError, match="same outcome"):
        pair_from_mapping({"pair_id": "p", "quantity": "1", "legs": opposite,
                           "inverted": True})
    with pytest.raises(RequestError, match="true or false"):
        pair_from_mapping({"pair_id": "p", "quantity": "1", "legs": legs, "inverted": "yes"})
    assert "inverted" not in pair_to_dict(pair_from_mapping(
        {"pair_id": "p", "quantity": "1", "legs": opposite}))


class Streaming:
    """A venue wrapper whose stream keeps a book (the optional ``latest_book``), and that
    counts its book reads."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.polls = 0
        self.streamed: StreamedBook | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def fetch_order_book(self, market: str) -> object:
        self.polls += 1
        return await self.inner.fetch_order_book(market)  # type: ignore[attr-defined]

    def latest_book(self, market: str) -> StreamedBook | None:
        return self.streamed


async def test_a_streamed_book_is_used_without_polling_until_it_goes_quiet(
        venues: tuple) -> None:
    a, b = venues
    streaming = Streaming(a)
    feed = BookFeed({"paper-a": streaming, "paper-b": b}, max_age=4)  # type: ignore[dict-item]
    scanner = Scanner([PAIR], feed, ScanSettings())
    await scanner.scan_once()  # the first scan reads the book (and the market's rules)
    assert streaming.polls == 1
    book = await a.fetch_order_book("M")
    streaming.polls = 0
    streaming.streamed = StreamedBook(book=book, received_at=time.monotonic())
    report = await scanner.scan_once()
    assert streaming.polls == 0  # the streamed book was fresh
    row = next(r for r in report.rows if r.direction == "yes")
    assert row.opportunity is not None
    streaming.streamed = StreamedBook(book=book, received_at=time.monotonic() - 3.0)
    await scanner.scan_once()  # older than half the bound: read again
    assert streaming.polls == 1
    await feed.aclose()


async def test_a_pair_sharing_a_market_with_an_executed_one_reads_its_book_again(
        journal: Journal) -> None:
    a = paper("paper-a", MARKET_A, fees="kalshi")
    b = paper("paper-b", MARKET_B, fees="polymarket")
    c = paper("paper-c", MARKET_B, fees="polymarket")
    first = PAIR
    second = MatchedPair(a=MarketRef(venue="paper-a", market="M"),
                         b=MarketRef(venue="paper-c", market="M"), status=PairStatus.ACCEPTED)
    engine = make_engine(journal, a, b, c)
    await engine.start()
    try:
        executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))
        scanner = Scanner([first, second], BookFeed(engine.venues, max_age=10),
                          ScanSettings(max_unwind_loss=D(1)), executor=executor)
        report = await scanner.scan_once()
        done = {r.pair.id: r for r in report.rows if r.direction == "yes"}
        assert done[first.id].observation.status == "executed"
        # the first pair took all of a's depth: the second sees an empty side, and
        # sends nothing instead of trading on the book read before the first trade
        assert done[second.id].opportunity is None
        assert done[second.id].observation.reason_code == "no_depth"
        assert not [o for o in c.open_orders()] and not await c.fetch_positions()
    finally:
        await engine.aclose()
