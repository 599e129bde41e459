"""The exchange conformance suite: behaviour every venue plugin must show.

Subclass ``ExchangeConformance`` in your plugin's tests and provide two fixtures, both
ordinary (synchronous) pytest fixtures, so the suite runs under any pytest-asyncio mode
(or none)::

    from arbexec.api import ExchangeSettings
    from arbexec.testing.conformance import ConformanceCase, ExchangeConformance
    from arbexec.testing.requests import order_request

    class TestConformance(ExchangeConformance):
        @pytest.fixture
        def conformance_factory(self, tmp_path):
            # a new instance on the same venue state each call: a restart
            return lambda: make_exchange(ExchangeSettings(name="myvenue",
                                                          state_dir=str(tmp_path)))

        @pytest.fixture
        def conformance_case(self):
            return ConformanceCase(
                market="M",
                resting_request=order_request("resting", venue="myvenue", market="M"),
                off_grid_request=order_request("off-grid", venue="myvenue", market="M",
                                               limit_price="0.305"),
                unknown_order_id="nope", restarts=True)

Each test builds its exchange with the factory inside its own event loop and closes it.
The factory may return the exchange or an awaitable of it. The case says what the venue can
be asked: a test whose request the case does not give is skipped, saying which field would
enable it. Live venues run the suite against cassettes (mark the class with
``pytest.mark.vcr``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from typing import Any

import attrs
import pytest
from attrs import frozen

from arbexec.errors import NoLiquidity, OffGridOrder, OrderNotFound
from arbexec.exchange import Capabilities, Exchange, MarketRules
from arbexec.model import (
    Balance,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderStatus,
    Outcome,
    Position,
    Side,
    TimeInForce,
)

#: What a plugin's ``conformance_factory`` fixture returns.
ExchangeFactory = Callable[[], "Exchange | Awaitable[Exchange]"]


@frozen(kw_only=True)
class ConformanceCase:
    """What the suite needs to know about the venue under test.

    Required: a resting request, an off-grid one and an unknown order id. Optional, each
    enabling the tests that need it:

    - ``filling_request``: an IOC (or FOK) order that crosses the book and fills, at least
      in part (fills, fees, positions, IOC).
    - ``unfillable_fok_request``: a FOK order the book cannot fill entirely (nothing fills).
    - ``no_request``: a resting order on the NO outcome (NO mapping).
    - ``sell_request``: a resting SELL; sent after ``filling_request`` when the venue needs
      holdings to sell (SELL mapping).
    - ``restarts``: the factory's instances share the venue's state, as a restarted
      process does (restart and ambiguous-send tests).
    """

    market: str
    resting_request: OrderRequest  # a limit order that rests without crossing
    off_grid_request: OrderRequest  # its price is off the market's tick grid
    unknown_order_id: str  # an order id the venue does not know
    filling_request: OrderRequest | None = None
    unfillable_fok_request: OrderRequest | None = None
    no_request: OrderRequest | None = None
    sell_request: OrderRequest | None = None
    restarts: bool = False


def _run(factory: ExchangeFactory,
         check: Callable[[Exchange], Coroutine[Any, Any, None]]) -> None:
    """Build an exchange in a fresh event loop, run ``check`` on it, close it."""

    async def go() -> None:
        exchange = await build(factory)
        try:
            await check(exchange)
        finally:
            await exchange.aclose()

    asyncio.run(go())


async def build(factory: ExchangeFactory) -> Exchange:
    made = factory()
    exchange: Exchange = await made if inspect.isawaitable(made) else made
    return exchange


def _needs(value: Any, field: str) -> Any:
    if value is None or value is False:
        pytest.skip(f"the conformance case gives no {field}")
    return value


def _fresh(request: OrderRequest, suffix: str) -> OrderRequest:
    return attrs.evolve(request, request_id=f"{request.request_id}-{suffix}",
                        idempotency_key=f"{request.idempotency_key}-{suffix}")


def _assert_maps(state: Any, request: OrderRequest) -> None:
    """The venue's answer says what was asked: outcome, side, quantity, limit."""
    assert state.outcome is request.outcome, (
        f"asked for {request.outcome.value}, the venue's answer says {state.outcome.value}")
    assert state.side is request.side, (
        f"asked to {request.side.value}, the venue's answer says {state.side.value}")
    assert state.quantity == request.quantity
    assert state.limit_price == request.limit_price, (
        f"asked for a limit of {request.limit_price} on {request.outcome.value}, the venue's "
        f"answer says {state.limit_price} (a NO price must not come back as its YES mirror)")


class ExchangeConformance:
    """Tests any ``Exchange`` must pass. Fixture names are part of the contract:
    ``conformance_factory`` and ``conformance_case``."""

    def test_declares_capabilities(self, conformance_factory: ExchangeFactory) -> None:
        async def check(exchange: Exchange) -> None:
            assert isinstance(exchange.name, str) and exchange.name
            assert isinstance(exchange.capabilities, Capabilities)
            assert exchange.capabilities.time_in_force

        _run(conformance_factory, check)

    def test_market_rules_are_sane(self, conformance_factory: ExchangeFactory,
                                   conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            rules = await exchange.market_rules(conformance_case.market)
            assert isinstance(rules, MarketRules)
            assert isinstance(rules.tick_size, Decimal)
            assert Decimal(0) < rules.tick_size < Decimal(1)
            assert rules.quantity_step > 0

        _run(conformance_factory, check)

    def test_order_book_shape(self, conformance_factory: ExchangeFactory,
                              conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            book = await exchange.fetch_order_book(conformance_case.market)
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

        _run(conformance_factory, check)

    def test_off_grid_request_is_refused_before_sending(
            self, conformance_factory: ExchangeFactory,
            conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            with pytest.raises(OffGridOrder):
                await exchange.prepare_order(conformance_case.off_grid_request)

        _run(conformance_factory, check)

    def test_identity_is_fixed_by_the_request(self, conformance_factory: ExchangeFactory,
                                              conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            first = await exchange.prepare_order(conformance_case.resting_request)
            second = await exchange.prepare_order(conformance_case.resting_request)
            assert first.identity and first.identity == second.identity

        _run(conformance_factory, check)

    def test_resting_order_lifecycle(self, conformance_factory: ExchangeFactory,
                                     conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            request = conformance_case.resting_request
            prepared = await exchange.prepare_order(request)
            state = await exchange.create_order(prepared)
            assert state.status is OrderStatus.OPEN
            assert state.filled_quantity == 0
            _assert_maps(state, request)

            fetched = await exchange.fetch_order(state.venue_order_id)
            assert fetched.venue_order_id == state.venue_order_id
            assert fetched.status.is_live

            open_ids = {o.venue_order_id for o in await exchange.fetch_open_orders()}
            assert state.venue_order_id in open_ids

            found = await exchange.lookup_order(prepared.identity)
            assert found is not None and found.venue_order_id == state.venue_order_id

            cancelled = await exchange.cancel_order(state.venue_order_id)
            assert cancelled.status is OrderStatus.CANCELLED

        _run(conformance_factory, check)

    def test_unknown_order_id_is_not_found(self, conformance_factory: ExchangeFactory,
                                           conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            with pytest.raises(OrderNotFound):
                await exchange.fetch_order(conformance_case.unknown_order_id)
            with pytest.raises(OrderNotFound):
                await exchange.cancel_order(conformance_case.unknown_order_id)

        _run(conformance_factory, check)

    def test_lookup_of_an_identity_never_sent_is_none(
            self, conformance_factory: ExchangeFactory,
            conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            model = conformance_case.resting_request
            never_sent = OrderRequest(
                request_id="conformance-never-sent",
                idempotency_key="conformance-never-sent-key", venue=model.venue,
                market=model.market, outcome=model.outcome, side=model.side,
                quantity=model.quantity, limit_price=model.limit_price)
            prepared = await exchange.prepare_order(never_sent)
            assert await exchange.lookup_order(prepared.identity) is None

        _run(conformance_factory, check)

    def test_balance_and_positions_types(self, conformance_factory: ExchangeFactory) -> None:
        async def check(exchange: Exchange) -> None:
            balance = await exchange.fetch_balance()
            assert isinstance(balance, Balance)
            assert isinstance(balance.total, Decimal) and isinstance(balance.available,
                                                                     Decimal)
            positions = await exchange.fetch_positions()
            assert all(isinstance(p, Position) for p in positions)

        _run(conformance_factory, check)

    def test_fee_is_a_non_negative_decimal(self, conformance_factory: ExchangeFactory,
                                           conformance_case: ConformanceCase) -> None:
        async def check(exchange: Exchange) -> None:
            request = conformance_case.resting_request
            fee = exchange.fee(conformance_case.market, request.limit_price, request.quantity,
                               Liquidity.TAKER)
            assert isinstance(fee, Decimal) and fee >= 0

        _run(conformance_factory, check)

    # ------------------------------------------------------------------ fills, IOC, FOK

    def test_a_crossing_order_fills_with_fees_and_a_position(
            self, conformance_factory: ExchangeFactory,
            conformance_case: ConformanceCase) -> None:
        request = _needs(conformance_case.filling_request, "filling_request")
        assert request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)

        async def check(exchange: Exchange) -> None:
            state = await exchange.create_order(await exchange.prepare_order(request))
            _assert_maps(state, request)
            assert 0 < state.filled_quantity <= request.quantity, "a crossing order fills"
            assert state.is_final, f"an {request.time_in_force.value} order ends at once"
            assert state.average_price is not None
            if request.side is Side.BUY:
                assert state.average_price <= request.limit_price, "paid more than the limit"
            else:
                assert state.average_price >= request.limit_price, "sold below the limit"
            assert isinstance(state.fees, Decimal) and state.fees >= 0
            if state.fills:
                assert sum(f.quantity for f in state.fills) == state.filled_quantity
            again = await exchange.fetch_order(state.venue_order_id)
            assert again.filled_quantity == state.filled_quantity and again.is_final
            held = [p for p in await exchange.fetch_positions()
                    if p.market == request.market and p.outcome is request.outcome]
            assert held and held[0].quantity >= state.filled_quantity, (
                "the filled contracts show in the positions")

        _run(conformance_factory, check)

    def test_a_fill_or_kill_the_book_cannot_fill_fills_nothing(
            self, conformance_factory: ExchangeFactory,
            conformance_case: ConformanceCase) -> None:
        request = _needs(conformance_case.unfillable_fok_request, "unfillable_fok_request")
        assert request.time_in_force is TimeInForce.FOK

        async def check(exchange: Exchange) -> None:
            prepared = await exchange.prepare_order(request)
            try:
                state = await exchange.create_order(prepared)
            except NoLiquidity:
                return  # refused whole: nothing filled
            assert state.filled_quantity == 0, "a fill-or-kill filled in part"
            assert state.is_final, "a fill-or-kill that cannot fill must not rest"

        _run(conformance_factory, check)

    # ------------------------------------------------------------------ NO and SELL mapping

    def test_a_no_order_keeps_its_outcome_and_price(
            self, conformance_factory: ExchangeFactory,
            conformance_case: ConformanceCase) -> None:
        request = _needs(conformance_case.no_request, "no_request")
        assert request.outcome is Outcome.NO

        async def check(exchange: Exchange) -> None:
            await self._rest_and_cancel(exchange, request)

        _run(conformance_factory, check)

    def test_a_sell_keeps_its_side_and_floor(self, conformance_factory: ExchangeFactory,
                                             conformance_case: ConformanceCase) -> None:
        request = _needs(conformance_case.sell_request, "sell_request")
        assert request.side is Side.SELL

        async def check(exchange: Exchange) -> None:
            if conformance_case.filling_request is not None:  # holdings to sell
                setup = _fresh(conformance_case.filling_request, "for-sell")
                await exchange.create_order(await exchange.prepare_order(setup))
            await self._rest_and_cancel(exchange, request)

        _run(conformance_factory, check)

    async def _rest_and_cancel(self, exchange: Exchange, request: OrderRequest) -> None:
        prepared = await exchange.prepare_order(request)
        state = await exchange.create_order(prepared)
        _assert_maps(state, request)
        assert state.status is OrderStatus.OPEN, f"expected a resting order, got {state}"
        fetched = await exchange.fetch_order(state.venue_order_id)
        _assert_maps(fetched, request)
        listed = [o for o in await exchange.fetch_open_orders()
                  if o.venue_order_id == state.venue_order_id]
        assert listed, "the resting order is among the open orders"
        _assert_maps(listed[0], request)
        await exchange.cancel_order(state.venue_order_id)

    # ------------------------------------------------------------------ ambiguity, restart

    def test_an_order_whose_answer_was_lost_is_found_by_its_identity(
            self, conformance_factory: ExchangeFactory,
            conformance_case: ConformanceCase) -> None:
        """The engine's path after an ambiguous send: it knows only the identity it
        prepared, restarts, and must find the order (never send it again)."""
        _needs(conformance_case.restarts, "restarts=True")
        request = _fresh(conformance_case.resting_request, "answer-lost")
        identity: list[str] = []

        async def send_and_lose_the_answer(exchange: Exchange) -> None:
            prepared = await exchange.prepare_order(request)
            identity.append(prepared.identity)
            await exchange.create_order(prepared)  # the answer never reaches the engine

        async def find(exchange: Exchange) -> None:
            again = await exchange.prepare_order(request)
            assert again.identity == identity[0], "the identity changed across a restart"
            found = await exchange.lookup_order(identity[0])
            if found is None:
                pytest.fail(f"after a restart the venue cannot find the order sent with "
                            f"identity {identity[0]!r}: an ambiguous send would be lost or "
                            "sent twice")
            _assert_maps(found, request)
            assert found.status.is_live
            await exchange.cancel_order(found.venue_order_id)

        _run(conformance_factory, send_and_lose_the_answer)
        _run(conformance_factory, find)

    def test_a_restart_keeps_the_orders(self, conformance_factory: ExchangeFactory,
                                        conformance_case: ConformanceCase) -> None:
        _needs(conformance_case.restarts, "restarts=True")
        request = _fresh(conformance_case.resting_request, "restart")
        sent: list[str] = []

        async def place(exchange: Exchange) -> None:
            state = await exchange.create_order(await exchange.prepare_order(request))
            sent.append(state.venue_order_id)

        async def after_restart(exchange: Exchange) -> None:
            order_id = sent[0]
            try:
                state = await exchange.fetch_order(order_id)
            except OrderNotFound:
                pytest.fail(f"after a restart the venue does not know order {order_id}: "
                            "its orders must outlive the process (persist them, or read "
                            "them from the venue)")
            assert state.status.is_live, f"a resting order came back {state.status.value}"
            _assert_maps(state, request)
            listed = {o.venue_order_id for o in await exchange.fetch_open_orders()}
            assert order_id in listed, "after a restart the order is not among the open ones"
            await exchange.cancel_order(order_id)

        _run(conformance_factory, place)
        _run(conformance_factory, after_restart)
