"""The exchange conformance suite: behaviour every venue plugin must show.

Subclass ``ExchangeConformance`` in your plugin's tests and provide two fixtures::

    class TestConformance(ExchangeConformance):
        @pytest.fixture
        async def conformance_exchange(self):
            exchange = make_exchange(ExchangeSettings(name="myvenue", options={...}))
            yield exchange
            await exchange.aclose()

        @pytest.fixture
        def conformance_case(self):
            return ConformanceCase(market="M", resting_request=..., off_grid_request=...,
                                   unknown_order_id="nope")

Live venues run it against cassettes (mark the class with ``pytest.mark.vcr``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from attrs import frozen

from arbexec.errors import OffGridOrder, OrderNotFound
from arbexec.exchange import Capabilities, Exchange, MarketRules
from arbexec.model import (
    Balance,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderStatus,
    Position,
)


@frozen(kw_only=True)
class ConformanceCase:
    """What the suite needs to know about the venue under test."""

    market: str
    resting_request: OrderRequest  # a limit order that rests without crossing
    off_grid_request: OrderRequest  # its price is off the market's tick grid
    unknown_order_id: str  # an order id the venue does not know


class ExchangeConformance:
    """Async tests any ``Exchange`` must pass. Fixture names are part of the contract."""

    async def test_declares_capabilities(self, conformance_exchange: Exchange) -> None:
        assert isinstance(conformance_exchange.name, str) and conformance_exchange.name
        assert isinstance(conformance_exchange.capabilities, Capabilities)
        assert conformance_exchange.capabilities.time_in_force

    async def test_market_rules_are_sane(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        rules = await conformance_exchange.market_rules(conformance_case.market)
        assert isinstance(rules, MarketRules)
        assert isinstance(rules.tick_size, Decimal)
        assert Decimal(0) < rules.tick_size < Decimal(1)
        assert rules.quantity_step > 0

    async def test_order_book_shape(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        book = await conformance_exchange.fetch_order_book(conformance_case.market)
        assert isinstance(book, OrderBook)
        for level in (*book.bids, *book.asks):
            assert isinstance(level.price, Decimal) and isinstance(level.size, Decimal)
            assert Decimal(0) < level.price < Decimal(1)
            assert level.size > 0
        bids = [lv.price for lv in book.bids]
        assert bids == sorted(bids, reverse=True)
        assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
        if book.bids and book.asks:
            assert book.bids[0].price < book.asks[0].price

    async def test_off_grid_request_is_refused_before_sending(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        with pytest.raises(OffGridOrder):
            await conformance_exchange.prepare_order(conformance_case.off_grid_request)

    async def test_identity_is_fixed_by_the_request(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        first = await conformance_exchange.prepare_order(conformance_case.resting_request)
        second = await conformance_exchange.prepare_order(conformance_case.resting_request)
        assert first.identity and first.identity == second.identity

    async def test_resting_order_lifecycle(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        request = conformance_case.resting_request
        prepared = await conformance_exchange.prepare_order(request)
        state = await conformance_exchange.create_order(prepared)
        assert state.status is OrderStatus.OPEN
        assert state.filled_quantity == 0
        assert state.quantity == request.quantity
        assert state.outcome is request.outcome and state.side is request.side
        assert state.limit_price == request.limit_price

        fetched = await conformance_exchange.fetch_order(state.venue_order_id)
        assert fetched.venue_order_id == state.venue_order_id
        assert fetched.status.is_live

        open_ids = {o.venue_order_id for o in await conformance_exchange.fetch_open_orders()}
        assert state.venue_order_id in open_ids

        found = await conformance_exchange.lookup_order(prepared.identity)
        assert found is not None and found.venue_order_id == state.venue_order_id

        cancelled = await conformance_exchange.cancel_order(state.venue_order_id)
        assert cancelled.status is OrderStatus.CANCELLED

    async def test_unknown_order_id_is_not_found(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        with pytest.raises(OrderNotFound):
            await conformance_exchange.fetch_order(conformance_case.unknown_order_id)
        with pytest.raises(OrderNotFound):
            await conformance_exchange.cancel_order(conformance_case.unknown_order_id)

    async def test_lookup_of_an_identity_never_sent_is_none(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        never_sent = conformance_case.resting_request
        never_sent = type(never_sent)(
            request_id="conformance-never-sent",
            idempotency_key="conformance-never-sent-key",
            venue=never_sent.venue,
            market=never_sent.market,
            outcome=never_sent.outcome,
            side=never_sent.side,
            quantity=never_sent.quantity,
            limit_price=never_sent.limit_price,
        )
        prepared = await conformance_exchange.prepare_order(never_sent)
        assert await conformance_exchange.lookup_order(prepared.identity) is None

    async def test_balance_and_positions_types(self, conformance_exchange: Exchange) -> None:
        balance = await conformance_exchange.fetch_balance()
        assert isinstance(balance, Balance)
        assert isinstance(balance.total, Decimal) and isinstance(balance.available, Decimal)
        positions = await conformance_exchange.fetch_positions()
        assert all(isinstance(p, Position) for p in positions)

    async def test_fee_is_a_non_negative_decimal(
        self, conformance_exchange: Exchange, conformance_case: ConformanceCase
    ) -> None:
        request = conformance_case.resting_request
        fee = conformance_exchange.fee(
            conformance_case.market, request.limit_price, request.quantity, Liquidity.TAKER
        )
        assert isinstance(fee, Decimal) and fee >= 0
