"""Streamed books and the staleness bound: a pair's edge is checked on a venue's streamed
book when it is no older than ``max_book_age``, and read again only when it is stale, not
streamed, or the bound is 0 (counted in venue reads)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairState
from arbexec.config import DEFAULT_MAX_BOOK_AGE, load_deployment
from arbexec.engine import Engine
from arbexec.errors import ConfigError
from arbexec.exchange import StreamedBook, current_book
from arbexec.model import OrderBook


def count_reads(venue: PaperExchange) -> list[str]:
    reads: list[str] = []
    read = venue.fetch_order_book

    async def counted(market: str) -> OrderBook:
        reads.append(market)
        return await read(market)

    venue.fetch_order_book = counted  # type: ignore[method-assign]
    return reads


def age_books(venue: PaperExchange, seconds: float) -> None:
    """The venue's stream last confirmed its books ``seconds`` ago."""
    latest = venue.latest_book

    def aged(market: str) -> StreamedBook | None:
        streamed = latest(market)
        if streamed is None:
            return None
        return StreamedBook(book=streamed.book, received_at=time.monotonic() - seconds)

    venue.latest_book = aged  # type: ignore[method-assign]


async def run_pair(engine: Engine, make_pair: Callable[..., Any], **settings: Any) -> Any:
    executor = PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0, **settings))
    return await executor.execute(make_pair())


async def test_fresh_streamed_books_are_not_read_again(
        engine: Engine, venue_a: PaperExchange, venue_b: PaperExchange,
        make_pair: Callable[..., Any]) -> None:
    await venue_a.fetch_order_book("M")
    await venue_b.fetch_order_book("M")  # the venues know the market (their stream is up)
    reads_a, reads_b = count_reads(venue_a), count_reads(venue_b)
    result = await run_pair(engine, make_pair)
    assert result.state is PairState.HEDGED
    assert (reads_a, reads_b) == ([], [])


async def test_a_stale_book_is_read_again_and_a_fresh_one_is_not(
        engine: Engine, venue_a: PaperExchange, venue_b: PaperExchange,
        make_pair: Callable[..., Any]) -> None:
    await venue_a.fetch_order_book("M")
    await venue_b.fetch_order_book("M")
    age_books(venue_a, 2.0)  # older than the bound of 1 s
    age_books(venue_b, 0.5)
    reads_a, reads_b = count_reads(venue_a), count_reads(venue_b)
    result = await run_pair(engine, make_pair, max_book_age=1.0)
    assert result.state is PairState.HEDGED
    assert (reads_a, reads_b) == (["M"], [])


async def test_a_bound_of_zero_reads_every_book(
        engine: Engine, venue_a: PaperExchange, venue_b: PaperExchange,
        make_pair: Callable[..., Any]) -> None:
    reads_a, reads_b = count_reads(venue_a), count_reads(venue_b)
    result = await run_pair(engine, make_pair, max_book_age=0)
    assert result.state is PairState.HEDGED
    assert (reads_a, reads_b) == (["M"], ["M"])


async def test_the_edge_is_checked_on_the_streamed_book(
        engine: Engine, venue_a: PaperExchange, venue_b: PaperExchange,
        make_pair: Callable[..., Any]) -> None:
    """A streamed book with nothing at the limit denies the pair without any read."""
    await venue_b.fetch_order_book("M")
    streamed = venue_a.latest_book("M")
    assert streamed is not None
    empty = StreamedBook(book=OrderBook(venue=streamed.book.venue, market="M", bids=(),
                                        asks=(), timestamp=streamed.book.timestamp),
                         received_at=time.monotonic())
    venue_a.latest_book = lambda market: empty  # type: ignore[method-assign]
    reads_a = count_reads(venue_a)
    result = await run_pair(engine, make_pair)
    assert result.state is PairState.DENIED and result.reason_code == "no_liquidity"
    assert reads_a == []


async def test_a_venue_without_streamed_books_is_read() -> None:
    class Reads:
        def __init__(self) -> None:
            self.reads = 0

        async def fetch_order_book(self, market: str) -> str:
            self.reads += 1
            return "book"

    venue = Reads()
    assert await current_book(venue, "M", max_age=5.0) == "book"
    assert venue.reads == 1


async def test_a_bound_of_zero_reads_even_a_book_received_this_instant() -> None:
    class Streams:
        reads = 0

        def latest_book(self, market: str) -> StreamedBook:
            return StreamedBook(book="streamed", received_at=100.0)  # type: ignore[arg-type]

        async def fetch_order_book(self, market: str) -> str:
            self.reads += 1
            return "read"

    venue = Streams()
    assert await current_book(venue, "M", max_age=0.0, clock=lambda: 100.0) == "read"
    assert await current_book(venue, "M", max_age=0.1, clock=lambda: 100.1) == "streamed"
    assert await current_book(venue, "M", max_age=0.1, clock=lambda: 100.2) == "read"
    assert venue.reads == 2


def test_the_default_bound_and_its_validation(tmp_path: Path) -> None:
    path = tmp_path / "arbexec.toml"
    path.write_text("")
    assert load_deployment(path, environ={}).max_book_age == DEFAULT_MAX_BOOK_AGE == 0.5
    path.write_text("[arbitrage]\nmax_book_age = 0.25\n")
    assert load_deployment(path, environ={}).max_book_age == 0.25
    assert ArbitrageSettings().max_book_age == DEFAULT_MAX_BOOK_AGE


@pytest.mark.parametrize("text", [
    "max_book_age = -1", "max_book_age = 61", "max_book_age = 'fast'",
    "max_book_age = true", "max_book_age = inf", "max_book_age = nan",
])
def test_an_invalid_bound_is_refused_with_its_key(tmp_path: Path, text: str) -> None:
    path = tmp_path / "arbexec.toml"
    path.write_text(f"[arbitrage]\n{text}\n")
    with pytest.raises(ConfigError) as info:
        load_deployment(path, environ={})
    assert str(info.value).startswith(f"{path}:arbitrage.max_book_age:")
    assert "from 0 to 60" in str(info.value)


def test_an_unknown_arbitrage_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "arbexec.toml"
    path.write_text("[arbitrage]\nmax_book_ag = 1\n")
    with pytest.raises(ConfigError) as info:
        load_deployment(path, environ={})
    assert "arbitrage.max_book_ag" in str(info.value) and "max_book_age" in str(info.value)


def _default_policy() -> Any:
    """The built-in deployment's rules, price_sanity (a rule that needs the book) among them."""
    from arbexec.plugins import PluginHost
    from arbexec.risk.policy import load_policy

    deployment = load_deployment(None)
    assert any(rule.get("rule") == "price_sanity" for rule in deployment.risk_rules)
    return load_policy(list(deployment.risk_rules), available=PluginHost.create().risk_rules(),
                       source="test")


@pytest.mark.parametrize(("bound", "reads_expected"), [(DEFAULT_MAX_BOOK_AGE, 0), (0.0, 3)])
async def test_under_the_default_policy_a_pair_reads_no_book_when_both_are_streamed(
        journal: Any, venue_a: PaperExchange, venue_b: PaperExchange,
        make_pair: Callable[..., Any], engine_factory: Callable[..., Engine],
        bound: float, reads_expected: int) -> None:
    """The engine's risk context (price bands need the book) follows the same staleness
    rule as the pair's edge check: with fresh streamed books nothing is read before the
    legs leave; with a bound of 0 every reader reads (the check, and each leg's rules)."""
    engine = engine_factory(journal, venue_a, venue_b, policy=_default_policy(),
                            max_book_age=bound)
    await engine.start()
    try:
        await venue_a.fetch_order_book("M")
        await venue_b.fetch_order_book("M")
        reads_a, reads_b = count_reads(venue_a), count_reads(venue_b)
        result = await run_pair(engine, make_pair, max_book_age=bound)
        assert result.state is PairState.HEDGED, result.reason
        assert len(reads_a) >= reads_expected and len(reads_b) >= reads_expected
        if reads_expected == 0:
            assert (reads_a, reads_b) == ([], [])
    finally:
        await engine.aclose()


def test_the_deployment_bound_reaches_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text("[arbitrage]\nmax_book_age = 0.25\n")
    assert load_deployment(path).engine.max_book_age == 0.25
    assert load_deployment(None).engine.max_book_age == DEFAULT_MAX_BOOK_AGE
