"""Adapter behaviour against the fake venue over httpx.MockTransport (no cassettes: these
cases cover transport failures and timing that recordings cannot hold)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from arbexec_kalshi.exchange import KalshiExchange

from arbexec import errors as ax
from arbexec.exchange import Exchange, ExchangeSettings
from arbexec.model import OrderRequest, OrderStatus, Outcome, Side
from arbexec.testing.faults import Fault, mangle, respond
from arbexec.testing.requests import order_request

D = Decimal
TICKER = "KXHIGHNY-26NOV22-B57.5"
SUBPENNY = "KXSUB-26DEC31-T5"


ORDERS = "/trade-api/v2/portfolio/events/orders"
ORDER = "/trade-api/v2/portfolio/orders"
BALANCE = "/trade-api/v2/portfolio/balance"


def still_resting(path: str, *, times: int | None) -> Fault:
    """Reads of an order lag its cancel: the venue answers it as it was, still resting."""
    def resting(content: bytes) -> bytes:
        order = json.loads(content)["order"]
        left = Decimal(order["initial_count_fp"]) - Decimal(order["fill_count_fp"])
        return json.dumps({"order": {**order, "status": "resting",
                                     "remaining_count_fp": f"{left:.2f}"}}).encode()

    return mangle("GET", path, transform=resting, times=times)


def request(**kw: Any) -> OrderRequest:
    return order_request(**{"request_id": "r-1", "idempotency_key": "key-1", "venue": "kalshi",
                            "market": TICKER, **kw})


async def test_is_an_exchange_and_creates_on_v2(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    assert isinstance(exchange, Exchange)
    prepared = await exchange.prepare_order(request(outcome="NO", limit_price=D("0.55")))
    assert prepared.payload == {
        "ticker": TICKER,
        "side": "ask",
        "count": "5.00",
        "price": "0.4500",
        "time_in_force": "good_till_canceled",
        "self_trade_prevention_type": "taker_at_cross",
        "client_order_id": prepared.identity,
    }
    assert "0.4500" not in repr(prepared)
    state = await exchange.create_order(prepared)
    assert state.status is OrderStatus.OPEN
    assert (state.outcome, state.side, state.limit_price) == (Outcome.NO, Side.BUY, D("0.55"))
    posted = [r for r in fake.requests if r.method == "POST"]
    assert [r.url.path for r in posted] == ["/trade-api/v2/portfolio/events/orders"]
    assert all("KALSHI-ACCESS-SIGNATURE" in r.headers for r in posted)
    fetched = await exchange.fetch_order(state.venue_order_id)
    assert (fetched.outcome, fetched.side, fetched.limit_price) == (Outcome.NO, Side.BUY, D("0.55"))
    await exchange.aclose()


async def test_crossing_order_partially_fills_with_reported_fees(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    # buy 10 YES at 0.45: takes 3 @0.42 (NO bid 0.58) and 4 @0.45 (NO bid 0.55), rests 3
    state = await exchange.create_order(
        await exchange.prepare_order(request(quantity=D(10), limit_price=D("0.45")))
    )
    assert state.status is OrderStatus.PARTIALLY_FILLED
    assert state.filled_quantity == D(7)
    assert state.average_price == D("0.4371")  # venue-reported, 4 decimals
    full = await exchange.fetch_order(state.venue_order_id)
    assert [f.price for f in full.fills] == [D("0.42"), D("0.45")]
    assert full.fees == sum(f.fee for f in full.fills) == D("0.0512") + D("0.0693")
    cancelled = await exchange.cancel_order(state.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.filled_quantity == D(7)


async def test_off_grid_and_size_refused_before_sending(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    with pytest.raises(ax.OffGridOrder, match=r"0\.515 .*nearest valid: 0\.51 or 0\.52"):
        await exchange.prepare_order(request(limit_price=D("0.515")))
    with pytest.raises(ax.OffGridOrder, match=r"NO price 0\.485, i\.e\. YES price 0\.515"):
        await exchange.prepare_order(request(outcome="NO", limit_price=D("0.485")))
    with pytest.raises(ax.OffGridOrder, match="whole contracts"):
        await exchange.prepare_order(request(quantity=D("1.5")))
    sub = await exchange.prepare_order(
        request(market=SUBPENNY, limit_price=D("0.055"), quantity=D("0.30"))
    )
    assert sub.payload["price"] == "0.0550" and sub.payload["count"] == "0.30"
    assert not [r for r in fake.requests if r.method != "GET"]


async def test_duplicate_client_order_id_resolved_by_lookup(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = await exchange.prepare_order(request())
    first = await exchange.create_order(prepared)
    again = await exchange.create_order(prepared)  # e.g. a retry after an ambiguous send
    assert again.venue_order_id == first.venue_order_id
    assert len(fake.orders) == 1
    # a fresh process (nothing cached) still finds it by identity
    other = make_exchange(httpx.MockTransport(fake))
    found = await other.lookup_order(prepared.identity)
    assert found is not None and found.venue_order_id == first.venue_order_id
    assert await other.lookup_order("ax-by-" + "0" * 32) is None


async def test_timeout_after_sending_an_order_is_ambiguous_and_not_retried(
    fake: Any, make_exchange: Any
) -> None:
    calls: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            calls.append(req)
            fake(req)  # the venue got it...
            raise httpx.ReadTimeout("lost answer", request=req)  # ...the answer was lost
        return fake(req)

    exchange = make_exchange(httpx.MockTransport(handler))
    prepared = await exchange.prepare_order(request())
    with pytest.raises(ax.AmbiguousSubmission):
        await exchange.create_order(prepared)
    assert len(calls) == 1
    found = await exchange.lookup_order(prepared.identity)
    assert found is not None and found.status is OrderStatus.OPEN


async def test_connect_failure_on_post_is_not_ambiguous(fake: Any, make_exchange: Any) -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            raise httpx.ConnectError("refused", request=req)
        return fake(req)

    exchange = make_exchange(httpx.MockTransport(handler))
    with pytest.raises(ax.NetworkError) as info:
        await exchange.create_order(await exchange.prepare_order(request()))
    assert not isinstance(info.value, ax.AmbiguousSubmission)


async def test_5xx_on_order_post_is_ambiguous(fake: Any, make_exchange: Any) -> None:
    transport = fake.transport(mangle("POST", ORDERS, status=503,
                                      json={"error": {"code": "service_unavailable"}}))
    exchange = make_exchange(transport)
    with pytest.raises(ax.AmbiguousSubmission) as info:
        await exchange.create_order(await exchange.prepare_order(request()))
    assert info.value.http_status == 503
    transport.assert_all_fired()


async def test_reads_retry_429_with_backoff_writes_do_not(fake: Any, make_exchange: Any) -> None:
    transport = fake.transport(respond("GET", BALANCE, 429, json={"error": "too many requests"},
                                       times=2))
    exchange = make_exchange(transport)
    balance = await exchange.fetch_balance()
    assert balance.available == D("1000.00")
    assert len(exchange.sleeps) == 2 and exchange.sleeps[0] > 0
    signatures = [
        r.headers["KALSHI-ACCESS-SIGNATURE"]
        for r in transport.requests
        if r.url.path.endswith("balance")
    ]
    assert len(set(signatures)) == 3  # each attempt signed afresh
    transport.add(respond("POST", ORDERS, 429, json={"error": "too many requests"}))
    with pytest.raises(ax.RateLimited):
        await exchange.create_order(await exchange.prepare_order(request()))
    assert not fake.orders and transport.calls[f"POST {ORDERS}"] == 1
    transport.assert_all_fired()


async def test_expired_timestamp_is_resigned_once(fake: Any, make_exchange: Any) -> None:
    transport = fake.transport(respond("POST", ORDERS, 401,
                                       json={"error": {"code": "header_timestamp_expired"}}))
    exchange = make_exchange(transport)
    state = await exchange.create_order(await exchange.prepare_order(request()))
    assert state.status is OrderStatus.OPEN and len(fake.orders) == 1
    transport.assert_all_fired()
    skewed = make_exchange(httpx.MockTransport(fake), clock=lambda: 1_000_000_000_000)
    with pytest.raises(ax.AuthenticationError, match="clock") as info:
        await skewed.fetch_balance()
    assert info.value.venue_code == "header_timestamp_expired"


async def test_error_shapes_map_onto_arbexec_errors(fake: Any, make_exchange: Any) -> None:
    transport = fake.transport(
        respond("GET", BALANCE, 400, json={"msg": "Parameter validation failed"}),
        respond("POST", ORDERS, 400, json={
            "code": "bad_request", "message": "bad request", "details": "json: cannot unmarshal"}),
    )
    exchange = make_exchange(transport)
    with pytest.raises(ax.ExchangeError, match="Parameter validation failed"):
        await exchange.fetch_balance()
    with pytest.raises(ax.InvalidOrder) as info:
        await exchange.create_order(await exchange.prepare_order(request()))
    assert info.value.venue_code == "bad_request"
    transport.assert_all_fired()
    with pytest.raises(ax.OrderNotFound):
        await exchange.fetch_order("no-such-order")
    with pytest.raises(ax.OrderNotFound):
        await exchange.cancel_order("no-such-order")


async def test_insufficient_balance_and_closed_market(fake: Any, make_exchange: Any) -> None:
    fake.balance_cents = 100
    exchange = make_exchange(httpx.MockTransport(fake))
    with pytest.raises(ax.InsufficientFunds) as info:
        await exchange.create_order(await exchange.prepare_order(request(quantity=D(50))))
    assert info.value.venue_code == "insufficient_balance"
    fake.markets[TICKER]["status"] = "closed"
    closed = make_exchange(httpx.MockTransport(fake))
    with pytest.raises(ax.MarketClosed):
        await closed.prepare_order(request())


async def test_post_only_reduce_only_expiry_and_groups(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake), order_group_id="grp-1", subaccount=2)
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    prepared = await exchange.prepare_order(
        request(post_only=True, time_in_force="GTD", expires_at=expiry)
    )
    assert prepared.payload["post_only"] is True
    assert prepared.payload["expiration_time"] == int(expiry.timestamp())
    assert prepared.payload["time_in_force"] == "good_till_canceled"
    assert prepared.payload["order_group_id"] == "grp-1" and prepared.payload["subaccount"] == 2
    ioc = await exchange.prepare_order(request(time_in_force="IOC", tags={"reduce_only": True}))
    assert ioc.payload["reduce_only"] is True
    assert ioc.payload["time_in_force"] == "immediate_or_cancel"
    with pytest.raises(ax.InvalidOrder, match="reduce_only"):
        await exchange.prepare_order(request(tags={"reduce_only": True}))
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    with pytest.raises(ax.InvalidOrder, match="past"):
        await exchange.prepare_order(request(time_in_force="GTD", expires_at=past))
    crossing = await exchange.prepare_order(request(post_only=True, limit_price=D("0.50")))
    with pytest.raises(ax.PostOnlyWouldCross):
        await exchange.create_order(crossing)


async def test_ioc_without_liquidity_is_cancelled_at_entry(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    state = await exchange.create_order(
        await exchange.prepare_order(request(time_in_force="IOC", limit_price=D("0.10")))
    )
    assert state.status is OrderStatus.CANCELLED and state.filled_quantity == 0
    assert state.reason and "entry" in state.reason


async def test_cancel_confirms_through_a_lagging_read(fake: Any, make_exchange: Any) -> None:
    transport = fake.transport()
    exchange = make_exchange(transport)
    state = await exchange.create_order(await exchange.prepare_order(request()))
    read = f"{ORDER}/{state.venue_order_id}"
    transport.add(still_resting(read, times=2))
    cancelled = await exchange.cancel_order(state.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert len(exchange.sleeps) == 2
    transport.assert_all_fired()
    transport.add(still_resting(read, times=None))
    again = await exchange.cancel_order(state.venue_order_id)  # 404 -> reads it
    # every read still shows it resting: the venue's own record wins over the 404
    assert again.status is OrderStatus.OPEN and "not confirmed" in (again.reason or "")


async def test_batch_amend_decrease_and_cancel_all(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = [
        await exchange.prepare_order(request(idempotency_key=f"b-{i}", limit_price=D("0.2")))
        for i in range(3)
    ]
    items = await exchange.create_orders(prepared)
    assert [i.state.status for i in items if i.state] == [OrderStatus.OPEN] * 3
    dup = await exchange.create_orders(prepared[:1])  # a resend: adopted, not refused
    assert dup[0].error is None and dup[0].state is not None
    assert dup[0].state.venue_order_id == items[0].state.venue_order_id  # type: ignore[union-attr]
    oid = items[0].state.venue_order_id  # type: ignore[union-attr]
    amended = await exchange.amend_order(oid, price=D("0.25"), quantity=D(8))
    assert (amended.limit_price, amended.quantity) == (D("0.25"), D(8))
    with pytest.raises(ax.OffGridOrder):
        await exchange.amend_order(oid, price=D("0.255"))
    decreased = await exchange.decrease_order(oid, reduce_by=D(3))
    assert decreased.remaining == D(5)
    assert len(await exchange.fetch_open_orders(TICKER)) == 3
    assert await exchange.cancel_all_orders(TICKER) == 3
    assert await exchange.fetch_open_orders() == []


async def test_portfolio_reads(fake: Any, make_exchange: Any) -> None:
    fake.page_size = 1
    exchange = make_exchange(httpx.MockTransport(fake))
    await exchange.create_order(
        await exchange.prepare_order(request(quantity=D(2), limit_price=D("0.45")))
    )
    await exchange.create_order(
        await exchange.prepare_order(
            request(idempotency_key="k2", outcome="NO", quantity=D(1), limit_price=D("0.61"))
        )
    )
    positions = await exchange.fetch_positions()
    assert [(p.outcome, p.quantity) for p in positions] == [(Outcome.YES, D(1))]
    fills = await exchange.fetch_fills(ticker=TICKER)
    assert len(fills) == 2 and {f.order_id for f in fills} == {o for o in fake.orders}
    fake.settlements.append(
        {
            "ticker": TICKER,
            "event_ticker": "KXHIGHNY-26NOV22",
            "market_result": "yes",
            "yes_count_fp": "1.00",
            "no_count_fp": "0.00",
            "yes_total_cost_dollars": "0.4200",
            "no_total_cost_dollars": "0.0000",
            "revenue": 100,
            "fee_cost": "0.017500",
            "settled_time": "2026-11-23T00:00:00Z",
            "exchange_index": 1,
        }
    )
    (settlement,) = await exchange.fetch_settlements()
    assert settlement.revenue == D(1) and settlement.fee == D("0.0175")
    markets = await exchange.fetch_markets()
    assert {m["ticker"] for m in markets} == {TICKER, SUBPENNY}
    assert (await exchange.exchange_status())["trading_active"] is True
    event = await exchange.fetch_event("KXHIGHNY-26NOV22", with_markets=True)
    assert event["event"]["markets"][0]["ticker"] == TICKER
    series = await exchange.fetch_series("KXHIGHNY")
    assert series["fee_type"] == "quadratic_with_maker_fees"


async def test_fee_uses_market_schedule(fake: Any, make_exchange: Any) -> None:
    from arbexec.model import Liquidity

    exchange = make_exchange(httpx.MockTransport(fake))
    await exchange.market_rules(TICKER)
    assert exchange.fee(TICKER, D("0.52"), D(1), Liquidity.TAKER) == D("0.0175")
    assert exchange.fee(TICKER, D("0.5"), D(100), Liquidity.MAKER) == D("0.4375")


async def test_token_bucket_paces_requests() -> None:
    from arbexec_kalshi.ratelimit import TokenBucket

    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(100, 100, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        await bucket.acquire(10)
    assert waits == []
    await bucket.acquire(10)
    assert waits == [pytest.approx(0.1)]


def test_settings_factory_credentials_and_proxy(
    rsa_key: dict[str, Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem = tmp_path / "key.pem"
    pem.write_text(rsa_key["private_key_pem"])
    monkeypatch.setenv("KALSHI_API_KEY_ID", rsa_key["key_id"])
    monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(pem))
    monkeypatch.setenv("KALSHI_ENV", "demo")
    monkeypatch.delenv("KALSHI_PRIVATE_KEY", raising=False)
    exchange = KalshiExchange.from_settings(
        ExchangeSettings(name="k", options={"proxy": "socks5://127.0.0.1:9050"})
    )
    assert exchange.http.base_url == "https://external-api.demo.kalshi.co/trade-api/v2"
    assert exchange.signer is not None and exchange.signer.key_type == "rsa"
    text = repr(exchange) + repr(exchange.config) + repr(exchange.signer)
    assert rsa_key["key_id"] not in text and "9050" not in text
    with pytest.raises(ax.ConfigError, match="unknown Kalshi option"):
        KalshiExchange.from_settings(ExchangeSettings(name="k", options={"bogus": 1}))
    with pytest.raises(ax.ConfigError, match="no such file"):
        KalshiExchange.from_settings(
            ExchangeSettings(name="k", options={"private_key_path": str(tmp_path / "nope")})
        )
    monkeypatch.delenv("KALSHI_PRIVATE_KEY_PATH")
    with pytest.raises(ax.ConfigError, match="no private key"):
        KalshiExchange.from_settings(ExchangeSettings(name="k"))
    monkeypatch.setenv("KALSHI_ENV", "staging")
    with pytest.raises(ax.ConfigError, match="production"):
        KalshiExchange.from_settings(ExchangeSettings(name="k"))


async def test_public_only_without_credentials(fake: Any) -> None:
    exchange = KalshiExchange(transport=httpx.MockTransport(fake))
    book = await exchange.fetch_order_book(TICKER)
    assert book.bids[0].price == D("0.40") and book.asks[0].price == D("0.42")
    with pytest.raises(ax.AuthenticationError, match="KALSHI_API_KEY_ID"):
        await exchange.fetch_balance()
    assert exchange.watch_orders() is None
