"""Recorded HTTP (cassettes/kalshi/test_recorded/), replayed with record mode none."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from kalshi_venue_checks import LoseAnswer, Respond

from arbexec import errors as ax
from arbexec.model import OrderRequest, OrderStatus, Outcome
from arbexec.testing.requests import order_request

D = Decimal
TICKER = "KXHIGHNY-26NOV22-B57.5"
SUBPENNY = "KXSUB-26DEC31-T5"
pytestmark = pytest.mark.vcr


def request(key: str = "rec-1", **kw: Any) -> OrderRequest:
    return order_request(key, **{"venue": "kalshi", "market": TICKER, **kw})


async def test_market_data_endpoints(venue: Any) -> None:
    rules = await venue.market_rules(SUBPENNY)
    assert rules.tick_size == D("0.001") and rules.quantity_step == D("0.01")
    book = await venue.fetch_order_book(TICKER)
    assert book.bids[0].price == D("0.40") and book.asks[0].price == D("0.42")
    assert book.asks[0].size == D(3)
    markets = await venue.fetch_markets(status="open")
    assert {m["ticker"] for m in markets} == {TICKER, SUBPENNY}
    assert isinstance(markets[0]["volume_fp"], Decimal)
    events = await venue.fetch_events()
    assert len(events) == 2
    event = await venue.fetch_event("KXHIGHNY-26NOV22", with_markets=True)
    assert event["event"]["series_ticker"] == "KXHIGHNY"
    series = await venue.fetch_series("KXHIGHNY")
    assert series["fee_multiplier"] == 1
    status = await venue.exchange_status()
    assert status["trading_active"] is True


async def test_order_lifecycle_endpoints(venue: Any) -> None:
    prepared = await venue.prepare_order(request())
    state = await venue.create_order(prepared)
    assert state.status is OrderStatus.OPEN
    fetched = await venue.fetch_order(state.venue_order_id)
    assert fetched.client_order_id == prepared.identity
    amended = await venue.amend_order(state.venue_order_id, price=D("0.31"), quantity=D(6))
    assert (amended.limit_price, amended.quantity) == (D("0.31"), D(6))
    decreased = await venue.decrease_order(state.venue_order_id, reduce_to=D(2))
    assert decreased.remaining == D(2)
    orders = await venue.list_orders(ticker=TICKER)
    assert [o.venue_order_id for o in orders] == [state.venue_order_id]
    cancelled = await venue.cancel_order(state.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED


async def test_batch_create_and_cancel(venue: Any) -> None:
    prepared = [
        await venue.prepare_order(request(f"batch-{i}", limit_price=D("0.2"))) for i in range(2)
    ]
    items = await venue.create_orders(prepared)
    assert all(i.state is not None and i.state.status is OrderStatus.OPEN for i in items)
    results = await venue.cancel_orders([i.state.venue_order_id for i in items])
    assert [r.error for r in results] == [None, None]
    assert await venue.fetch_open_orders() == []


async def test_portfolio_endpoints(venue: Any) -> None:
    balance = await venue.fetch_balance()
    assert balance.available == D("1000.00") and isinstance(balance.total, Decimal)
    filled = await venue.create_order(
        await venue.prepare_order(request("fill-1", quantity=D(2), limit_price=D("0.45")))
    )
    assert filled.status is OrderStatus.FILLED
    positions = await venue.fetch_positions()
    assert [(p.market, p.outcome, p.quantity) for p in positions] == [(TICKER, Outcome.YES, 2)]
    fills = await venue.fetch_fills(order_id=filled.venue_order_id)
    assert [(f.yes_price, f.fill.quantity, f.fill.fee) for f in fills] == [
        (D("0.42"), D(2), D("0.0342"))
    ]
    assert await venue.fetch_settlements() == []


async def test_bad_signature_is_401(venue: Any, ed_key: dict[str, Any]) -> None:
    from arbexec_kalshi.signing import Signer

    # the right key id, signed with a different key
    venue.http.signer = Signer.from_pem(venue.signer.key_id, ed_key["private_key_pem"])
    with pytest.raises(ax.AuthenticationError) as info:
        await venue.fetch_balance()
    assert info.value.venue_code == "authentication_error"
    assert "INCORRECT_API_KEY_SIGNATURE" in str(info.value)
    assert info.value.http_status == 401


async def test_expired_timestamp(venue: Any, rsa_key: dict[str, Any]) -> None:
    from arbexec_kalshi.signing import Signer, now_ms

    venue.http.signer = Signer.from_pem(
        rsa_key["key_id"], rsa_key["private_key_pem"], clock=lambda: now_ms() - 60_000
    )
    with pytest.raises(ax.AuthenticationError, match="NTP") as info:
        await venue.fetch_balance()
    assert info.value.venue_code == "header_timestamp_expired"


async def test_insufficient_balance(venue: Any) -> None:
    with pytest.raises(ax.InsufficientFunds) as info:
        await venue.create_order(
            await venue.prepare_order(request("big-1", quantity=D(5000), limit_price=D("0.30")))
        )
    assert info.value.venue_code == "insufficient_balance"
    assert "insufficient balance" in (info.value.venue_message or "")


async def test_duplicate_client_order_id_resolved_by_lookup(venue: Any) -> None:
    prepared = await venue.prepare_order(request("dup-1"))
    first = await venue.create_order(prepared)
    second = await venue.create_order(prepared)
    assert second.venue_order_id == first.venue_order_id
    assert second.client_order_id == prepared.identity


async def test_retired_v1_endpoint_is_a_clear_error(venue: Any) -> None:
    venue.checks.allowed_unknown.add(("POST", "/portfolio/orders"))  # gone from the SDK
    legacy = {"ticker": TICKER, "side": "yes", "action": "buy", "count": 1, "yes_price": 30}
    with pytest.raises(ax.DeprecatedEndpoint, match="upgrade the plugin") as info:
        await venue.http.request(
            "POST", "/portfolio/orders", json=legacy, order_post=True, order_request=True
        )
    assert info.value.venue_code == "deprecated_v1_order_endpoint"
    assert info.value.http_status == 410


TOO_MANY = Respond(429, b'{"error": "too many requests"}')


async def test_429_on_a_read_is_retried(venue: Any) -> None:
    await _read_retried_after(venue, inject=True)


async def test_removing_the_injected_429_fails_the_retry_test(venue: Any) -> None:
    # the injection is what the retry test exercises, on replay too: without it the
    # same assertions fail
    with pytest.raises(AssertionError):
        await _read_retried_after(venue, inject=False)


async def _read_retried_after(venue: Any, *, inject: bool) -> None:
    if inject:
        venue.checks.inject("GET", "/portfolio/balance", TOO_MANY)
    balance = await venue.fetch_balance()
    assert balance.available == D("1000.00")
    assert len(venue.sleeps) == 1
    assert venue.checks.pending_faults() == []


async def test_429_on_an_order_is_not_retried(venue: Any) -> None:
    venue.checks.inject("POST", "/portfolio/events/orders", TOO_MANY)
    with pytest.raises(ax.RateLimited):
        await venue.create_order(await venue.prepare_order(request("rl-1")))
    assert [r.method for r in venue.checks.requests].count("POST") == 1


async def test_garbage_signatures_fail_on_replay(venue: Any) -> None:
    import os

    from arbexec_kalshi.signing import Signer

    # the right key id and timestamp, random bytes for a signature
    venue.http.signer = Signer(venue.signer.key_id, "rsa", sign=lambda _: os.urandom(256))
    with pytest.raises(ax.AuthenticationError, match="INCORRECT_API_KEY_SIGNATURE"):
        await venue.fetch_balance()


async def test_a_lost_order_answer_is_resolved_by_lookup(venue: Any) -> None:
    prepared = await venue.prepare_order(request("lost-1"))
    venue.checks.inject("POST", "/portfolio/events/orders", LoseAnswer())
    with pytest.raises(ax.AmbiguousSubmission):
        await venue.create_order(prepared)
    found = await venue.lookup_order(prepared.identity)
    assert found is not None and found.status is OrderStatus.OPEN


async def test_partial_fill_then_cancel_through_a_lagging_read(venue: Any) -> None:
    state = await venue.create_order(
        await venue.prepare_order(request("part-1", quantity=D(10), limit_price=D("0.45")))
    )
    assert state.status is OrderStatus.PARTIALLY_FILLED and state.filled_quantity == D(7)
    lagging = json.loads(_RESTING_READ.replace("ID", state.venue_order_id))
    venue.checks.inject(  # the first read after the cancel lags
        "GET", f"/portfolio/orders/{state.venue_order_id}",
        Respond(200, json.dumps(lagging).encode()),
    )
    cancelled = await venue.cancel_order(state.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.filled_quantity == D(7) and len(cancelled.fills) == 2
    assert cancelled.fees == D("0.1205")
    assert venue.sleeps  # it waited before reading again


_RESTING_READ = json.dumps({"order": {
    "order_id": "ID", "user_id": "user-0001", "client_order_id": "", "ticker": TICKER,
    "outcome_side": "yes", "book_side": "bid", "type": "limit", "status": "resting",
    "yes_price_dollars": "0.4500", "no_price_dollars": "0.5500", "initial_count_fp": "10.00",
    "fill_count_fp": "7.00", "remaining_count_fp": "3.00", "taker_fill_cost_dollars": "3.0600",
    "maker_fill_cost_dollars": "0.0000", "taker_fees_dollars": "0.120500",
    "maker_fees_dollars": "0.000000", "exchange_index": 1}})
