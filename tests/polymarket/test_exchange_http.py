"""The adapter against recorded venue answers (cassettes/polymarket/test_exchange_http/).

Refusals and failures are injected with ``arbexec.testing.faults`` (they reach the adapter
on replay too); the cassettes hold only the stand-in's honest answers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from arbexec_polymarket.eip712 import ExchangeKind

from arbexec import errors
from arbexec.model import Liquidity, OrderRequest, OrderStatus, Outcome, Side, TimeInForce
from arbexec.testing import faults as f

pytestmark = pytest.mark.vcr

CONDITION_ID = "0x" + "5e" * 32
YES_TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
NO_TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
REQUESTED = datetime(2026, 11, 13, 2, 13, 20, tzinfo=UTC)


def order(key: str, **overrides: Any) -> OrderRequest:
    values: dict[str, Any] = {
        "request_id": f"req-{key}",
        "idempotency_key": key,
        "venue": "polymarket",
        "market": CONDITION_ID,
        "outcome": Outcome.YES,
        "side": Side.BUY,
        "quantity": Decimal("10"),
        "limit_price": Decimal("0.40"),
        "requested_at": REQUESTED,
    }
    values.update(overrides)
    return OrderRequest(**values)


async def test_market_metadata_rules_book_and_midpoint(venue: Any) -> None:
    rules = await venue.market_rules(CONDITION_ID)
    assert rules.tick_size == Decimal("0.01")
    assert rules.min_quantity == Decimal("5")
    assert rules.quantity_step == Decimal("0.01")
    info = await venue.market_info(CONDITION_ID)
    assert (info.yes_token, info.no_token) == (YES_TOKEN, NO_TOKEN)
    assert info.exchange is ExchangeKind.STANDARD and not info.neg_risk
    book = await venue.fetch_order_book(CONDITION_ID)
    assert [lv.price for lv in book.bids] == [Decimal("0.48"), Decimal("0.45")]
    assert [lv.price for lv in book.asks] == [Decimal("0.52"), Decimal("0.55")]
    assert book.tick_size == Decimal("0.01")
    assert await venue.midpoint(CONDITION_ID) == Decimal("0.5")
    taker_fee = venue.fee(CONDITION_ID, Decimal("0.5"), Decimal("100"), Liquidity.TAKER)
    assert taker_fee == Decimal("0.50000")  # 100 x 0.02 x (0.5 x 0.5)
    assert venue.fee(CONDITION_ID, Decimal("0.5"), Decimal("100"), Liquidity.MAKER) == 0


async def test_token_id_addresses_that_token_as_yes(venue: Any) -> None:
    info = await venue.market_info(NO_TOKEN)
    assert info.yes_token == NO_TOKEN and info.no_token == YES_TOKEN
    assert info.outcomes == ("No", "Yes")
    prepared = await venue.prepare_order(order("by-token", market=NO_TOKEN, outcome=Outcome.NO))
    assert prepared.payload.token_id == YES_TOKEN


async def test_resting_order_lifecycle_with_pagination(venue: Any) -> None:
    states = []
    for key, price in (("rest-a", "0.40"), ("rest-b", "0.41"), ("rest-c", "0.42")):
        prepared = await venue.prepare_order(order(key, limit_price=Decimal(price)))
        assert prepared.identity == prepared.venue_order_id
        state = await venue.create_order(prepared)
        assert state.venue_order_id == prepared.identity
        assert state.status is OrderStatus.OPEN and state.filled_quantity == 0
        states.append(state)
    listed = await venue.fetch_open_orders()  # three orders, two per page
    assert {s.venue_order_id for s in listed} == {s.venue_order_id for s in states}
    assert all(s.market == CONDITION_ID and s.outcome is Outcome.YES for s in listed)
    fetched = await venue.fetch_order(states[0].venue_order_id)
    assert fetched.status is OrderStatus.OPEN and fetched.limit_price == Decimal("0.40")
    cancelled = await venue.cancel_order(states[0].venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    answer = await venue.cancel_orders([states[1].venue_order_id, "0x" + "00" * 32])
    assert answer["canceled"] == [states[1].venue_order_id]
    assert await venue.cancel_all_orders(CONDITION_ID) == 1
    assert await venue.cancel_all_orders() == 0
    assert await venue.fetch_open_orders(CONDITION_ID) == []


async def test_batch_post(venue: Any) -> None:
    prepared = [
        await venue.prepare_order(order(f"batch-{i}", limit_price=Decimal(30 + i) / 100))
        for i in range(3)
    ]
    results = await venue.create_orders(prepared)
    assert [r.status for r in results] == [OrderStatus.OPEN] * 3
    assert [r.venue_order_id for r in results] == [p.identity for p in prepared]


async def test_fill_is_provisional_at_matched_and_final_at_confirmed(
    venue: Any, fake_clob: Any
) -> None:
    prepared = await venue.prepare_order(order("cross", limit_price=Decimal("0.52")))
    state = await venue.create_order(prepared)
    assert state.status is OrderStatus.FILLED
    assert state.filled_quantity == Decimal("10")
    assert [f.final for f in state.fills] == [False]
    assert state.fills[0].price == Decimal("0.52")
    assert state.average_price == Decimal("0.52")
    fake_clob.confirm_trades()  # the chain settles (only matters while recording)
    later = await venue.fetch_order(state.venue_order_id)
    assert [f.final for f in later.fills] == [True]
    trades = await venue.fetch_trades()
    assert [t["id"] for t in trades] == [state.fills[0].trade_id]


async def test_partially_filled_then_cancelled_keeps_its_fills(venue: Any) -> None:
    prepared = await venue.prepare_order(
        order("partial", quantity=Decimal("200"), limit_price=Decimal("0.52"))
    )
    state = await venue.create_order(prepared)
    assert state.status is OrderStatus.PARTIALLY_FILLED
    assert state.filled_quantity == Decimal("150")
    cancelled = await venue.cancel_order(state.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.filled_quantity == Decimal("150")
    assert sum(f.quantity for f in cancelled.fills) == Decimal("150")
    assert all(not f.final for f in cancelled.fills)  # still MATCHED on chain


async def test_invalid_signature_is_authentication_error(make_venue: Any) -> None:
    venue = make_venue(faults=[f.respond("POST", "/order", 400,
                                         json={"error": "invalid signature"})])
    prepared = await venue.prepare_order(order("bad-sig"))
    with pytest.raises(errors.AuthenticationError) as caught:
        await venue.create_order(prepared)
    assert caught.value.venue_message == "invalid signature"
    assert caught.value.http_status == 400


async def test_insufficient_balance(make_venue: Any) -> None:
    venue = make_venue(faults=[f.respond("POST", "/order", 400,
                                         json={"error": "not enough balance / allowance"})])
    prepared = await venue.prepare_order(order("poor"))
    with pytest.raises(errors.InsufficientFunds) as caught:
        await venue.create_order(prepared)
    assert "not enough balance" in (caught.value.venue_message or "")


async def test_fak_without_match_is_no_liquidity(venue: Any) -> None:
    request = order("fak", time_in_force=TimeInForce.IOC, limit_price=Decimal("0.45"))
    prepared = await venue.prepare_order(request)
    assert prepared.payload.order_type.value == "FAK"
    with pytest.raises(errors.NoLiquidity) as caught:
        await venue.create_order(prepared)
    assert "FAK" in (caught.value.venue_message or "")


async def test_rate_limited_read_is_retried(make_venue: Any) -> None:
    venue = make_venue(faults=[f.respond("GET", "/book", 429, json={"error": "Too Many Requests"},
                                         headers={"Retry-After": "0"})])
    try:
        book = await venue.fetch_order_book(CONDITION_ID)
    finally:
        await venue.aclose()
    assert book.asks
    assert venue.faults.calls["GET /book"] == 2


async def test_server_error_on_read_is_retried(make_venue: Any) -> None:
    venue = make_venue(faults=[f.respond("GET", "/balance-allowance", 502,
                                         json={"error": "bad gateway"})])
    try:
        balance = await venue.fetch_balance()
    finally:
        await venue.aclose()
    assert balance.total == Decimal("250")
    assert balance.available == Decimal("250")
    assert venue.faults.calls["GET /balance-allowance"] == 2


async def test_order_post_is_never_retried(make_venue: Any) -> None:
    venue = make_venue(faults=[
        f.respond("POST", "/order", 429, json={"error": "Too Many Requests"}),
    ])
    try:
        prepared = await venue.prepare_order(order("limited"))
        with pytest.raises(errors.RateLimited):
            await venue.create_order(prepared)
        venue.faults.add(f.respond("POST", "/order", 500, json={"error": "internal error"}))
        prepared = await venue.prepare_order(order("five-hundred"))
        with pytest.raises(errors.AmbiguousSubmission):
            await venue.create_order(prepared)
    finally:
        await venue.aclose()
    assert venue.faults.calls["POST /order"] == 2
    venue.faults.assert_all_fired()


async def test_timeout_after_send_is_resolved_by_order_hash(make_venue: Any) -> None:
    venue = make_venue(faults=[f.read_timeout("POST", "/order")])
    try:
        prepared = await venue.prepare_order(order("lost-answer"))
        with pytest.raises(errors.AmbiguousSubmission):
            await venue.create_order(prepared)
        found = await venue.lookup_order(prepared.identity)
        assert found is not None
        assert found.venue_order_id == prepared.identity
        assert found.status is OrderStatus.OPEN
        never = await venue.prepare_order(order("never-sent"))
        assert await venue.lookup_order(never.identity) is None
    finally:
        await venue.aclose()


async def test_unknown_order(venue: Any) -> None:
    unknown = "0x" + "0f" * 32
    with pytest.raises(errors.OrderNotFound):
        await venue.fetch_order(unknown)
    with pytest.raises(errors.OrderNotFound):
        await venue.cancel_order(unknown)


async def test_bad_api_key_is_authentication_error(make_venue: Any) -> None:
    denied = {"error": "Unauthorized/Invalid api key"}
    venue = make_venue(faults=[f.respond("GET", "/data/orders", 401, json=denied)])
    try:
        with pytest.raises(errors.AuthenticationError):
            await venue.fetch_open_orders()
    finally:
        await venue.aclose()


async def test_account_endpoints(venue: Any) -> None:
    positions = await venue.fetch_positions()
    assert [(p.market, p.outcome, p.quantity) for p in positions] == [
        (CONDITION_ID, Outcome.YES, Decimal("12.5"))
    ]
    assert positions[0].average_price == Decimal("0.41")
    allowance = await venue.balance_allowance()
    assert allowance["balance"] == "250000000"
    await venue.update_balance_allowance()
    first = await venue.heartbeat()
    second = await venue.heartbeat()
    assert first != second


async def test_stale_heartbeat_id_is_replaced(venue: Any, fake_clob: Any) -> None:
    venue._heartbeat_id = "hb-stale"
    assert await venue.heartbeat() == "hb-2"


async def test_market_closed_refusal(make_venue: Any) -> None:
    not_ready = {"error": "the market is not yet ready to process new orders"}
    venue = make_venue(faults=[f.respond("POST", "/order", 400, json=not_ready)])
    prepared = await venue.prepare_order(order("closed"))
    with pytest.raises(errors.MarketClosed):
        await venue.create_order(prepared)


async def test_version_mismatch_is_invalid_order(make_venue: Any) -> None:
    venue = make_venue(faults=[f.respond("POST", "/order", 400,
                                         json={"error": "order_version_mismatch"})])
    prepared = await venue.prepare_order(order("old-version"))
    with pytest.raises(errors.InvalidOrder) as caught:
        await venue.create_order(prepared)
    assert type(caught.value) is errors.InvalidOrder


async def test_tick_violation_drops_the_cached_tick(make_venue: Any, fake_clob: Any) -> None:
    venue = make_venue(faults=[f.respond("POST", "/order", 400, json={
        "error": "INVALID_ORDER_MIN_TICK_SIZE: price breaks minimum tick size rule"})])
    prepared = await venue.prepare_order(order("tick-changed"))
    with pytest.raises(errors.OffGridOrder):
        await venue.create_order(prepared)
    fake_clob.tick = "0.001"
    rules = await venue.market_rules(CONDITION_ID)  # refetched after the refusal
    assert rules.tick_size == Decimal("0.001")
