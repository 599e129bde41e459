"""Venue rules checked without a cassette: amounts, fees, metadata answers, balances,
heartbeats, the user-channel watchdog (mock transports answering what the venue answers).

Sources: py-clob-client-v2 1.2.1 (market-order rounding, fee exponent default 0,
``CONDITIONAL-V2``), docs.polymarket.com (fees; heartbeats: all orders cancelled ~10 s
after the last heartbeat), the protocol notes §13, §15, §16, §23.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from arbexec_paper.fees import PolymarketFees
from arbexec_polymarket import exchange as exchange_module
from arbexec_polymarket import stream as stream_module
from arbexec_polymarket.amounts import market_amounts
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.credentials import Credentials
from arbexec_polymarket.exchange import PolymarketExchange
from arbexec_polymarket.markets import ExchangeKind, FeeSchedule, MarketInfo
from arbexec_polymarket.venue_errors import MalformedAnswer, classify
from hypothesis import given, settings
from hypothesis import strategies as st

from arbexec import errors
from arbexec.fees import polymarket_fee
from arbexec.model import Liquidity, Outcome, Side

CONDITION = "0x" + "12" * 32
YES = "1001"
NO = "1002"


def venue_for(handler: Any, credentials: Any, **config: Any) -> PolymarketExchange:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PolymarketExchange(PolymarketConfig(**config), credentials, client=client)


def metadata(request: httpx.Request, *, version: str = "v1", tick: Any = "0.01",
             fd: Any = None) -> httpx.Response | None:
    path = request.url.path
    if request.url.host.startswith("gamma"):
        return httpx.Response(200, json=[{
            "conditionId": CONDITION, "clobTokenIds": json.dumps([YES, NO]),
            "outcomes": json.dumps(["Yes", "No"]), "orderMinSize": "5", "version": version}])
    if path == "/tick-size":
        return httpx.Response(200, json={} if tick is None else {"minimum_tick_size": tick})
    if path == "/neg-risk":
        return httpx.Response(200, json={"neg_risk": False})
    if path.startswith("/clob-markets/"):
        body: dict[str, Any] = {"t": [{"t": YES}, {"t": NO}], "mts": 0.01}
        if fd is not None:
            body["fd"] = fd
        return httpx.Response(200, json=body)
    return None


# ---------------------------------------------------------------------------- amounts


def test_fok_buy_on_a_tenth_tick_keeps_three_decimals_as_the_official_client() -> None:
    # 1.00 / 0.3 = 3.333...: py-clob-client-v2 keeps min(4, amount decimals = 3) decimals
    assert market_amounts(Side.BUY, Decimal("0.3"), Decimal("1.00"), Decimal("0.1")) == (
        1_000_000, 3_333_000)
    # a 0.01 tick keeps 4, a 0.001 tick is capped at the server's 4
    assert market_amounts(Side.BUY, Decimal("0.03"), Decimal("1.00"), Decimal("0.01"))[1] == (
        33_333_300)
    assert market_amounts(Side.BUY, Decimal("0.003"), Decimal("1.00"), Decimal("0.001"))[1] == (
        333_333_300)


# ---------------------------------------------------------------------------- fees


_SHARED: list[PolymarketExchange] = []


def _venue_with_fees(credentials: Any, schedule: FeeSchedule) -> PolymarketExchange:
    if not _SHARED:  # building a client per example would dominate the property test
        _SHARED.append(PolymarketExchange(PolymarketConfig(), credentials))
    venue = _SHARED[0]
    venue.markets._store(MarketInfo(
        market="m", condition_id=CONDITION, yes_token=YES, no_token=NO, outcomes=("Yes", "No"),
        neg_risk=False, exchange=ExchangeKind.STANDARD, tick_size=Decimal("0.01"),
        min_size=Decimal("5"), fees=schedule))
    return venue


def test_fill_fees_are_cut_to_five_decimals_like_the_paper_venue(credentials: Any) -> None:
    venue = _venue_with_fees(credentials, FeeSchedule(rate=Decimal("0.00002"),
                                                      exponent=Decimal(1)))
    # 3 x 0.00002 x 0.25 = 0.000015: the venue charges 0.00001 (nothing below a step)
    live = venue.fee("m", Decimal("0.5"), Decimal("3"), Liquidity.TAKER)
    paper = PolymarketFees(rate=Decimal("0.00002")).fee(Decimal("0.5"), Decimal("3"),
                                                        Liquidity.TAKER)
    assert live == paper == Decimal("0.00001")


@settings(max_examples=300, deadline=None)
@given(
    price=st.integers(1, 999).map(lambda n: Decimal(n) / 1000),
    quantity=st.integers(1, 10**7).map(lambda n: Decimal(n) / 100),
    rate=st.sampled_from(["0", "0.00002", "0.02", "0.0625", "0.07", "0.25"]).map(Decimal),
    exponent=st.sampled_from(["0", "0.5", "1", "2"]).map(Decimal),
    taker_only=st.booleans(),
    liquidity=st.sampled_from(list(Liquidity)),
)
def test_plugin_and_paper_fees_agree_everywhere(
    price: Decimal, quantity: Decimal, rate: Decimal, exponent: Decimal,
    taker_only: bool, liquidity: Liquidity,
) -> None:
    venue = _venue_with_fees(Credentials(), FeeSchedule(rate=rate, exponent=exponent,
                                                        taker_only=taker_only))
    live = venue.fee("m", price, quantity, liquidity)
    paper = PolymarketFees(rate=rate, exponent=exponent, taker_only=taker_only).fee(
        price, quantity, liquidity)
    assert live == paper
    charged = not (taker_only and liquidity is Liquidity.MAKER)
    assert live == (polymarket_fee(quantity, price, rate, exponent) if charged else 0)
    assert live == live.quantize(Decimal("0.00001")) and live >= 0


async def test_maker_fees_follow_the_schedules_taker_only_flag(credentials: Any) -> None:
    both = _venue_with_fees(credentials, FeeSchedule(rate=Decimal("0.02"), exponent=Decimal(1),
                                                     taker_only=False))
    assert both.fee("m", Decimal("0.5"), Decimal("100"), Liquidity.MAKER) == Decimal("0.5")
    takers = _venue_with_fees(credentials, FeeSchedule(rate=Decimal("0.02"),
                                                       exponent=Decimal(1)))
    assert takers.fee("m", Decimal("0.5"), Decimal("100"), Liquidity.MAKER) == 0


@pytest.mark.parametrize(("fd", "exponent", "taker_only"), [
    ({"r": 0.02}, Decimal(0), True),  # the official client's defaults: e = 0; makers free
    ({"r": 0.02, "e": 2, "to": False}, Decimal(2), False),
])
async def test_fee_schedule_defaults_follow_the_official_client(
    credentials: Any, fd: dict[str, Any], exponent: Decimal, taker_only: bool
) -> None:
    venue = venue_for(lambda r: metadata(r, fd=fd), credentials)
    info = await venue.market_info(CONDITION)
    await venue.aclose()
    assert info.fees == FeeSchedule(rate=Decimal("0.02"), exponent=exponent,
                                    taker_only=taker_only)


# ---------------------------------------------------------------------------- metadata


@pytest.mark.parametrize("tick", [None, "", "abc", "0.02", float("nan")])
async def test_a_tick_size_answer_without_a_usable_tick_is_an_error(
    credentials: Any, tick: Any
) -> None:
    def handler(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/tick-size" and isinstance(tick, float):
            return httpx.Response(200, content=b'{"minimum_tick_size": NaN}')
        return metadata(request, tick=tick)

    venue = venue_for(handler, credentials)
    with pytest.raises(MalformedAnswer, match="minimum_tick_size"):
        await venue.market_info(CONDITION)
    await venue.aclose()


@pytest.mark.parametrize(("version", "asset_type"), [("v1", "CONDITIONAL"),
                                                     ("v2", "CONDITIONAL-V2")])
async def test_outcome_balances_name_the_asset_type_of_the_exchange(
    credentials: Any, version: str, asset_type: str
) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.startswith("/balance-allowance"):
            seen.append(dict(request.url.params))
            return httpx.Response(200, json={"balance": "1"})
        return metadata(request, version=version)

    venue = venue_for(handler, credentials)
    await venue.balance_allowance(YES)
    await venue.update_balance_allowance(YES)
    await venue.aclose()
    assert [s["asset_type"] for s in seen] == [asset_type, asset_type]


@pytest.mark.parametrize(("message", "kind"), [
    ("INVALID_ORDER_ERROR: upstream connection closed", errors.InvalidOrder),
    ("the market is closed", errors.MarketClosed),
    ("account is in closed-only mode", errors.PermissionDenied),
])
def test_closed_only_names_a_closed_market_or_account(message: str, kind: type) -> None:
    assert type(classify(message)) is kind


async def test_trades_of_an_order_are_read_in_one_call_not_one_per_trade(
    credentials: Any
) -> None:
    order_id = "0x" + "aa" * 32
    trades = [{"id": f"t{i}", "status": "CONFIRMED", "taker_order_id": order_id, "size": "1",
               "price": "0.5", "match_time": "1760000000"} for i in range(4)]
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response | None:
        calls.append(request.url.path)
        if request.url.path == f"/data/order/{order_id}":
            return httpx.Response(200, json={
                "id": order_id, "status": "MATCHED", "market": CONDITION, "asset_id": YES,
                "side": "BUY", "original_size": "4", "size_matched": "4", "price": "0.5",
                "associate_trades": [t["id"] for t in trades]})
        if request.url.path == "/data/trades":
            return httpx.Response(200, json={"data": trades, "next_cursor": "LTE="})
        return metadata(request)

    venue = venue_for(handler, credentials)
    state = await venue.fetch_order(order_id)
    await venue.aclose()
    assert state.filled_quantity == 4 and len(state.fills) == 4
    assert calls.count("/data/trades") == 1


# ---------------------------------------------------------------------------- heartbeats


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if len(self.sleeps) >= 4:
            raise asyncio.CancelledError


async def test_heartbeats_start_a_fixed_interval_apart_however_long_each_takes(
    credentials: Any
) -> None:
    clock = Clock()
    starts: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now)
        clock.now += 2.0  # a slow venue
        return httpx.Response(200, json={"heartbeat_id": f"hb-{len(starts)}"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    venue = PolymarketExchange(PolymarketConfig(heartbeats=True), credentials, client=client,
                               clock=clock, sleep=clock.sleep)
    with pytest.raises(asyncio.CancelledError):
        await venue._heartbeat_loop()
    await venue.aclose()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == [exchange_module.HEARTBEAT_INTERVAL] * 3


async def test_a_hanging_heartbeat_is_cut_short_and_retried_soon(
    credentials: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exchange_module, "HEARTBEAT_TIMEOUT", 0.01)
    clock = Clock()
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await release.wait()  # never answers
        return httpx.Response(200, json={"heartbeat_id": "late"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    venue = PolymarketExchange(PolymarketConfig(heartbeats=True), credentials, client=client,
                               clock=clock, sleep=clock.sleep)
    async with asyncio.timeout(30):  # a guard only: the old loop hung here forever
        with pytest.raises(asyncio.CancelledError):
            await venue._heartbeat_loop()
    release.set()
    await venue.aclose()
    assert clock.sleeps and all(s <= exchange_module.HEARTBEAT_RETRY for s in clock.sleeps)


async def test_a_refused_heartbeat_id_without_a_replacement_is_not_sent_again(
    credentials: Any
) -> None:
    bodies: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if body["heartbeat_id"] == "hb-stale":
            return httpx.Response(400, json={"error_msg": "Invalid Heartbeat ID"})
        return httpx.Response(200, json={"heartbeat_id": "hb-new"})

    venue = venue_for(handler, credentials)
    venue._heartbeat_id = "hb-stale"
    with pytest.raises(errors.ExchangeError):
        await venue.heartbeat()
    assert await venue.heartbeat() == "hb-new"
    await venue.aclose()
    assert [b["heartbeat_id"] for b in bodies] == ["hb-stale", ""]


async def test_heartbeats_start_after_an_order_only_when_enabled(credentials: Any) -> None:
    for enabled in (False, True):
        venue = venue_for(lambda r: httpx.Response(200, json={"heartbeat_id": "hb"}),
                          credentials, heartbeats=enabled)
        venue._maybe_start_heartbeats()
        assert (venue._heartbeat_task is not None) is enabled
        await venue.aclose()


# ---------------------------------------------------------------------------- user channel


class SilentSocket:
    """Connects, then never says anything (no PONG): a half-dead connection."""

    def __init__(self, opened: list[SilentSocket]) -> None:
        self.closed = asyncio.Event()
        opened.append(self)

    async def __aenter__(self) -> SilentSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, text: str) -> None:
        return None

    async def close(self) -> None:
        self.closed.set()

    def __aiter__(self) -> Any:
        return self._messages()

    async def _messages(self) -> Any:
        await self.closed.wait()
        return
        yield  # an async generator that ends when closed


async def test_a_socket_that_never_answers_ping_is_replaced(
    credentials: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "PING_SECONDS", 0.001)
    monkeypatch.setattr(stream_module, "PONG_TIMEOUT", 0.005)
    opened: list[SilentSocket] = []

    async def no_sleep(_seconds: float) -> None:
        if len(opened) >= 3:
            raise asyncio.CancelledError

    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    venue = PolymarketExchange(PolymarketConfig(), credentials, client=client, sleep=no_sleep,
                               ws_connect=lambda url: SilentSocket(opened))
    stream = stream_module.UserStream(venue, connect=venue._ws_connect)
    async with asyncio.timeout(30):  # a guard only: without the watchdog this never ends
        with pytest.raises(asyncio.CancelledError):
            async for _ in stream.updates():
                pass
    await venue.aclose()
    assert len(opened) >= 3 and stream.stale_closes >= 2


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", True, [1], {"x": 1}])
def test_a_venue_number_that_is_not_a_number_is_an_error_not_zero(bad: Any) -> None:
    from arbexec_polymarket import parsing

    raw = {"id": "0x1", "status": "LIVE", "side": "BUY", "original_size": bad,
           "size_matched": "0", "price": "0.5"}
    with pytest.raises(MalformedAnswer):
        parsing.order_state(raw, market="m", outcome=Outcome.YES)
    with pytest.raises(MalformedAnswer):
        parsing.order_book({"bids": [{"price": bad, "size": "1"}], "asks": []}, market="m")
    assert parsing.dec("") == 0 and parsing.dec(None) == 0  # absent stays absent
