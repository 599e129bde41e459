"""Shadow mode: books come from another venue's fetch_order_book, fills are simulated here.

The upstream is a small in-memory exchange serving recorded Polymarket and Kalshi book
responses (tests/paper/data), folded onto the YES book the way the venue plugins do.
"""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from arbexec_paper.exchange import PaperExchange

from arbexec.app import build_venue
from arbexec.config import parse_deployment
from arbexec.errors import ConfigError, InvalidOrder, UnknownNameError
from arbexec.exchange import ExchangeSettings, MarketRules
from arbexec.hookspecs import hookimpl
from arbexec.model import ONE, Liquidity, OrderBook, OrderStatus
from arbexec.plugins import PluginHost
from arbexec.specs import ExchangeSpec

D = Decimal
DATA = Path(__file__).parent / "data"
POLY_BOOK = json.loads((DATA / "polymarket_book.json").read_text())
KALSHI_BOOK = json.loads((DATA / "kalshi_orderbook.json").read_text())
TOKEN = POLY_BOOK["asset_id"]
TICKER = "KXFEDDECISION-26DEC-C25"


def polymarket_to_book(body: dict) -> OrderBook:
    bids = sorted(((D(lv["price"]), D(lv["size"])) for lv in body["bids"]), reverse=True)
    asks = sorted((D(lv["price"]), D(lv["size"])) for lv in body["asks"])
    return OrderBook(venue="polymarket", market=body["asset_id"], bids=bids, asks=asks,
                     tick_size=D(body["tick_size"]))


def kalshi_to_book(ticker: str, body: dict) -> OrderBook:
    book = body["orderbook_fp"]
    bids = sorted(((D(p), D(s)) for p, s in book["yes_dollars"]), reverse=True)
    asks = sorted((ONE - D(p), D(s)) for p, s in book["no_dollars"])
    return OrderBook(venue="kalshi", market=ticker, bids=bids, asks=asks)


class RecordedUpstream:
    """An Exchange-shaped stand-in that answers from recorded responses."""

    name = "upstream"

    def __init__(self) -> None:
        self.polymarket = copy.deepcopy(POLY_BOOK)
        self.kalshi = copy.deepcopy(KALSHI_BOOK)
        self.fetches = 0
        self.closed = False

    async def market_rules(self, market: str) -> MarketRules:
        if market == TOKEN:
            return MarketRules(market=market, tick_size=D(self.polymarket["tick_size"]),
                               quantity_step=D("0.01"),
                               min_quantity=D(self.polymarket["min_order_size"]))
        if market == TICKER:
            return MarketRules(market=market, tick_size=D("0.01"))
        raise InvalidOrder(f"unknown market {market}")

    async def fetch_order_book(self, market: str) -> OrderBook:
        self.fetches += 1
        if market == TOKEN:
            return polymarket_to_book(self.polymarket)
        return kalshi_to_book(market, self.kalshi)

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def upstream() -> RecordedUpstream:
    return RecordedUpstream()


async def test_the_book_is_the_upstream_book(make_venue, upstream):
    venue = make_venue(shadow={"venue": "polymarket"}, upstream=upstream)
    book = await venue.fetch_order_book(TOKEN)
    assert book.bids[0].price == D("0.47") and book.asks[0].price == D("0.49")
    assert book.asks[0].size == D("82.25")
    assert (await venue.market_rules(TOKEN)).min_quantity == 5


async def test_fills_walk_the_recorded_polymarket_book(make_venue, upstream, request_for,
                                                       submit):
    venue = make_venue(shadow={"venue": "polymarket"}, upstream=upstream, fees="polymarket")
    state = await submit(venue, request_for(market=TOKEN, quantity="300", price="0.51"))

    assert state.status is OrderStatus.FILLED
    assert [(f.price, f.quantity) for f in state.fills] == [
        (D("0.49"), D("82.25")), (D("0.50"), D("150")), (D("0.51"), D("67.75"))]
    assert state.average_price == (D("0.49") * D("82.25") + D("75") + D("0.51") * D("67.75")
                                   ) / 300
    assert state.fees > 0
    assert (await venue.fetch_order_book(TOKEN)).asks[0].price == D("0.51")


async def test_kalshi_no_bids_are_yes_asks(make_venue, upstream, request_for, submit):
    venue = make_venue(shadow={"venue": "kalshi"}, upstream=upstream, fees="kalshi")
    book = await venue.fetch_order_book(TICKER)
    assert (book.bids[0].price, book.asks[0].price) == (D("0.42"), D("0.44"))
    assert book.asks[0].size == 17

    # Buying NO takes YES bids: NO at 1 - 0.42 = 0.58 for 13, then 1 - 0.35 = 0.65 for 11.
    state = await submit(venue, request_for(market=TICKER, outcome="NO", quantity=20,
                                            price="0.65", time_in_force="IOC"))
    assert [(f.price, f.quantity) for f in state.fills] == [(D("0.58"), 13), (D("0.65"), 7)]
    # Kalshi fees: ceil(0.07 x 13 x 0.58 x 0.42) and ceil(0.07 x 7 x 0.65 x 0.35)
    assert [f.fee for f in state.fills] == [D("0.2217"), D("0.1115")]


async def test_refresh_fetches_again_and_resting_orders_fill_against_it(
    make_venue, upstream, request_for, submit, clock
):
    venue = make_venue(shadow={"venue": "polymarket", "refresh_seconds": 5}, upstream=upstream)
    resting = await submit(venue, request_for(market=TOKEN, quantity=100, price="0.45"))
    assert resting.status is OrderStatus.OPEN
    fetches = upstream.fetches

    clock.advance(4)
    await venue.fetch_order_book(TOKEN)
    assert upstream.fetches == fetches  # still fresh

    upstream.polymarket["asks"].append({"price": "0.44", "size": "60"})  # a seller arrives
    clock.advance(1)
    book = await venue.fetch_order_book(TOKEN)
    assert upstream.fetches == fetches + 1
    assert book.asks[0].price == D("0.49")  # the 0.44 offer went to our resting bid
    state = await venue.fetch_order(resting.venue_order_id)
    assert state.status is OrderStatus.PARTIALLY_FILLED
    assert [(f.price, f.quantity, f.liquidity) for f in state.fills] == [
        (D("0.45"), 60, Liquidity.MAKER)]


async def test_shadow_markets_can_be_restricted(make_venue, upstream, request_for):
    venue = make_venue(shadow={"venue": "kalshi", "markets": [TICKER]}, upstream=upstream)
    await venue.prepare_order(request_for(market=TICKER, price="0.30"))
    with pytest.raises(InvalidOrder, match="unknown market"):
        await venue.prepare_order(request_for(market=TOKEN, price="0.30"))


def test_an_upstream_type_that_is_not_installed_is_named():
    host = PluginHost.create()
    settings = ExchangeSettings(name="shadowed", options={"shadow": {"venue": "nosuchvenue"}},
                                find_exchange_type=lambda name: host.require("exchange", name))
    with pytest.raises(UnknownNameError, match="nosuchvenue"):
        PaperExchange(settings)


def test_without_exchange_types_shadow_mode_says_how_to_run_it():
    settings = ExchangeSettings(name="shadowed", options={"shadow": {"venue": "kalshi"}})
    with pytest.raises(ConfigError, match=r"venues\.shadowed\.shadow\.venue.*arbexec run"):
        PaperExchange(settings)


async def test_the_upstream_comes_from_the_deployment_host_not_a_global_one(
        tmp_path: Path, upstream) -> None:
    """The paper venue builds its upstream through its settings: the host that built the
    deployment offers the upstream type; no process-wide host is consulted."""
    built: list[ExchangeSettings] = []

    def factory(settings: ExchangeSettings):
        built.append(settings)
        return upstream

    class Upstream:
        @hookimpl
        def arbexec_exchanges(self) -> list[ExchangeSpec]:
            return [ExchangeSpec(name="localupstream", factory=factory)]

    host = PluginHost.create(environ={"ARBEXEC_DISABLE_PLUGINS": "kalshi,polymarket"})
    host.register(Upstream(), name="upstream")
    deployment = parse_deployment(
        {"venues": {"shadowed": {"type": "paper", "shadow": {"venue": "localupstream"}}}},
        source="deploy.toml", base_dir=tmp_path)
    venue = build_venue(deployment.venues[0], deployment, host)
    assert [s.name for s in built] == ["shadowed-upstream"]
    assert venue._upstream is upstream
    await venue.aclose()


async def test_the_streamed_book_of_a_shadowed_market_is_as_old_as_its_last_read(
    make_venue, upstream, clock
):
    venue = make_venue(shadow={"venue": "polymarket", "refresh_seconds": 60},
                       upstream=upstream)
    assert venue.latest_book(TOKEN) is None  # never read: nothing streamed yet
    await venue.fetch_order_book(TOKEN)
    clock.advance(3)
    streamed = venue.latest_book(TOKEN)
    assert streamed is not None and streamed.book.asks[0].price == D("0.49")
    assert 2.9 <= time.monotonic() - streamed.received_at <= 4.0  # read 3 s ago
    venue.switches.outage = True
    assert venue.latest_book(TOKEN) is None  # the stream is down
