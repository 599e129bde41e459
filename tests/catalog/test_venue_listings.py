"""Each venue's list_markets on answers in the venue's own shapes: Kalshi's validated by
kalshi-python-sync's models, Polymarket's Gamma pages, the paper venue's configuration."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import kalshi_sdk_models as sdk
import pytest
from arbexec_kalshi.config import KalshiConfig
from arbexec_kalshi.exchange import KalshiExchange
from arbexec_kalshi.testing.catalogue import CatalogueServer, market_record, series_record
from arbexec_paper.exchange import PaperExchange
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.credentials import load_credentials
from arbexec_polymarket.exchange import PolymarketExchange
from labelled import gamma_market, kalshi_market, kalshi_series, raw_pairs

from arbexec.api import ExchangeSettings, MarketStatus, RateLimiter, Window
from arbexec.catalog.store import Catalog
from arbexec.catalog.sync import sync_venue
from arbexec.errors import ExchangeError

MARKETS = "/trade-api/v2/markets"


def test_the_stand_in_and_the_labelled_records_are_kalshi_shaped() -> None:
    page = {"markets": [market_record(i) for i in range(0, 4000, 250)], "cursor": "c1"}
    assert sdk.check_response("GET", MARKETS, 200, json.dumps(page)) == []
    assert sdk.check_response("GET", "/trade-api/v2/series/KXCAT00", 200,
                              json.dumps({"series": series_record("KXCAT00")})) == []
    with CatalogueServer(1200) as server:
        listed = httpx.get(f"{server.base_url}/series")
    assert sdk.check_response("GET", "/trade-api/v2/series", 200, listed.content) == []
    assert [s["ticker"] for s in listed.json()["series"]] == ["KXCAT00", "KXCAT01", "KXCAT02"]
    labelled = [kalshi_market(i, e["k"], e["close"]) for i, e in enumerate(raw_pairs())]
    assert sdk.check_response("GET", MARKETS, 200,
                              json.dumps({"markets": labelled, "cursor": ""})) == []
    series = {"series": kalshi_series(0, raw_pairs()[0]["k"])}
    assert sdk.check_response("GET", "/trade-api/v2/series/KXLAB00", 200,
                              json.dumps(series)) == []
    broken = dict(page["markets"][0], status=7)
    assert sdk.check_response("GET", MARKETS, 200, json.dumps({"markets": [broken]}))


async def test_kalshi_asks_for_every_series_once_and_for_a_new_one_alone() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/trade-api/v2")
        asked.append(path)
        if path == "/markets":
            markets = [market_record(0), market_record(401), market_record(1)]
            return httpx.Response(200, json={"markets": markets, "cursor": "" if len(
                asked) > 3 else "next"})
        if path == "/series":
            return httpx.Response(200, json={"series": [series_record("KXCAT00")]})
        return httpx.Response(200, json={"series": series_record(path.rsplit("/", 1)[1])})

    exchange = KalshiExchange(transport=httpx.MockTransport(handler))
    try:
        first = await exchange.list_markets()
        await exchange.list_markets(first.cursor)
    finally:
        await exchange.aclose()
    assert asked == ["/markets", "/series", "/series/KXCAT01", "/markets"]
    assert first.markets[1].resolution_source.startswith("Bureau of Labor Statistics")


async def test_kalshi_lists_open_markets_page_by_page_with_their_series_source() -> None:
    with CatalogueServer(2_300) as server:
        exchange = KalshiExchange(config=KalshiConfig.from_options({"base_url": server.base_url}))
        try:
            first = await exchange.list_markets(limit=1000)
            second = await exchange.list_markets(first.cursor, limit=1000)
            third = await exchange.list_markets(second.cursor, limit=1000)
        finally:
            await exchange.aclose()
    assert exchange.capabilities.list_markets
    assert (len(first.markets), len(second.markets), len(third.markets)) == (1000, 1000, 300)
    assert third.cursor is None and server.requests == ["", "c1000", "c2000"]
    market = first.markets[0]
    assert market.venue == "kalshi" and market.market == "KXCAT00-27JAN01-T0"
    assert market.title == "Will Bitcoin be above $1,000 on Jan 1, 2027?"
    assert market.outcomes == ("Above $1,000", "Above $1,000")
    assert market.status is MarketStatus.OPEN and market.tick_size == Decimal("0.01")
    assert market.close_time is not None and market.close_time.isoformat() == (
        "2027-01-01T04:59:00+00:00")
    assert market.resolution_source == "Bureau of Labor Statistics (https://www.bls.gov/)"
    assert market.rules.startswith("If will bitcoin be above")
    assert market.event == "KXCAT00-27JAN01" and market.series == "KXCAT00"


async def test_kalshi_asks_only_for_open_markets_and_never_more_than_a_page() -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/markets"):
            query = parse_qs(request.url.query.decode())
            seen.append(query)
            assert sdk.check_request("GET", request.url.path, query, None) == []
            return httpx.Response(200, json={"markets": [], "cursor": ""})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "x"}})

    exchange = KalshiExchange(transport=httpx.MockTransport(handler))
    try:
        page = await exchange.list_markets(limit=50_000)
    finally:
        await exchange.aclose()
    assert page.markets == () and page.cursor is None
    assert seen == [{"status": ["open"], "limit": ["1000"]}]


async def test_kalshi_lists_the_markets_changed_since_a_time_whatever_their_status() -> None:
    from datetime import UTC, datetime

    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        seen.append(query)
        assert sdk.check_request("GET", request.url.path, query, None) == []
        settled = dict(market_record(3), status="finalized", result="yes")
        return httpx.Response(200, json={"markets": [settled], "cursor": ""})

    exchange = KalshiExchange(transport=httpx.MockTransport(handler))
    exchange._series_listed = True  # the series are not what this test is about
    exchange._series["KXCAT00"] = series_record("KXCAT00")
    try:
        page = await exchange.list_markets(updated_since=datetime(2026, 12, 1, tzinfo=UTC))
    finally:
        await exchange.aclose()
    assert exchange.capabilities.list_markets_since
    assert seen == [{"limit": ["1000"], "min_updated_ts": ["1796083200"]}]
    assert page.markets[0].status is MarketStatus.SETTLED
    assert page.markets[0].venue_status == "finalized"


async def test_kalshi_market_a_record_cannot_read_is_a_venue_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/markets"):
            return httpx.Response(200, json={"markets": [{"title": "no ticker"}], "cursor": ""})
        return httpx.Response(200, json={"series": [series_record("X")]})

    exchange = KalshiExchange(transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(ExchangeError, match="cannot read"):
            await exchange.list_markets()
    finally:
        await exchange.aclose()


def _gamma(count: int, seen: list[dict[str, str]]) -> httpx.MockTransport:
    records = [gamma_market(i, {"q": f"Will thing {i} happen?", "g": "Thing"} if i % 2 else
                            {"q": f"Lakers vs. Celtics {i}", "o": ["Lakers", "Celtics"]},
                            "2026-12-31T00:00:00Z") for i in range(count)]
    records[3]["closed"] = True

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "gamma-api.polymarket.com"
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        seen.append(query)
        start, size = int(query["offset"]), int(query["limit"])
        return httpx.Response(200, json=records[start:start + size])

    return httpx.MockTransport(handler)


def _polymarket(transport: httpx.MockTransport, sleeps: list[float]) -> PolymarketExchange:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return PolymarketExchange(PolymarketConfig.from_options({}), load_credentials({}, env={}),
                              client=httpx.AsyncClient(transport=transport), sleep=sleep)


async def test_polymarket_pages_gamma_by_offset_and_pays_its_rate_limit() -> None:
    seen: list[dict[str, str]] = []
    sleeps: list[float] = []
    exchange = _polymarket(_gamma(7, seen), [])
    now = [0.0]

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    exchange.http.gamma_limiter = RateLimiter({"GET /markets": (Window(1, 10),)},
                                              clock=lambda: now[0], sleep=sleep)
    try:
        first = await exchange.list_markets(limit=4)
        second = await exchange.list_markets(first.cursor, limit=4)
    finally:
        await exchange.aclose()
    assert exchange.capabilities.list_markets
    assert [q["offset"] for q in seen] == ["0", "4"] and first.cursor == "4"
    assert second.cursor is None and len(first.markets) + len(second.markets) == 7
    assert seen[0]["closed"] == "false" and seen[0]["order"] == "id"
    assert len(sleeps) == 1 and sleeps[0] == pytest.approx(10, rel=0.05)  # second call waited
    game, member = first.markets[0], first.markets[1]
    assert game.outcomes == ("Lakers", "Celtics") and not game.neg_risk
    assert member.question == "Thing" and member.neg_risk and member.group
    assert game.market.startswith("0x") and game.tick_size == Decimal("0.01")
    assert game.volume == Decimal("125000.5") and game.liquidity == Decimal("8200.25")
    assert first.markets[3].status is MarketStatus.CLOSED
    assert game.event_title == "Lakers vs. Celtics 0" and game.resolution_source == ""


async def test_polymarket_refuses_an_answer_that_is_not_a_list_of_markets() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": "nope"})

    exchange = _polymarket(httpx.MockTransport(handler), [])
    try:
        with pytest.raises(ExchangeError, match="not a list of markets"):
            await exchange.list_markets()
    finally:
        await exchange.aclose()


async def test_paper_lists_its_configured_markets() -> None:
    options: dict[str, Any] = {"markets": {"PAPER-BTC": {
        "mid": "0.40", "title": "Will Bitcoin be above $100,000 on Dec 31, 2026?",
        "close_time": "2026-12-31T23:00:00Z", "rules": "Paper rules.",
        "resolution_source": "Coinbase"}}}
    exchange = PaperExchange(ExchangeSettings(name="paper-a", options=options, read_only=True))
    page = await exchange.list_markets()
    assert page.cursor is None and [m.market for m in page.markets] == ["PAPER-BTC"]
    market = page.markets[0]
    assert market.venue == "paper-a" and market.title.startswith("Will Bitcoin")
    assert market.close_time is not None and market.close_time.year == 2026
    assert market.resolution_source == "Coinbase" and market.status is MarketStatus.OPEN


def test_paper_refuses_a_close_time_without_a_timezone() -> None:
    from arbexec.errors import ConfigError

    options = {"markets": {"X": {"mid": "0.5", "close_time": "2026-12-31T23:00:00"}}}
    with pytest.raises(ConfigError, match="close_time"):
        PaperExchange(ExchangeSettings(name="p", options=options, read_only=True))


async def test_a_polymarket_market_closing_mid_pass_does_not_hide_an_open_one(
        tmp_path: Path) -> None:
    """Gamma pages by offset: a market that closes between two pages shifts the later ones
    down by one. The pages overlap, so no open market goes unread (and is then taken for
    closed by the end of the pass)."""
    records = [gamma_market(i, {"q": f"Will thing {i} happen?"}, "2026-12-31T00:00:00Z")
               for i in range(40)]
    listed = list(records)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 2:
            listed.remove(records[5])  # closes after the first page was read
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        start, size = int(query["offset"]), int(query["limit"])
        return httpx.Response(200, json=listed[start:start + size])

    exchange = _polymarket(httpx.MockTransport(handler), [])
    try:
        with Catalog.open(tmp_path / "m.sqlite3") as catalog:
            result = await sync_venue(catalog, exchange, page_size=20)
            stored = {m.market: m.status for m in catalog.listings("polymarket",
                                                                  open_only=False)}
    finally:
        await exchange.aclose()
    assert result.complete and result.total == 40 and result.unlisted == 0
    assert set(stored) == {r["conditionId"] for r in records}
    assert set(stored.values()) == {MarketStatus.OPEN}
