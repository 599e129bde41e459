"""A scripted in-memory venue for engine tests: each market answers as it is told.

Unlike the paper venue it simulates no market: a test says what the venue does with the next
order on a market (fill, rest, reject, lose the acknowledgement, raise unexpectedly) and then
checks what the engine made of it. It counts every ``create_order`` call, so a test can prove
that nothing was sent twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from decimal import Decimal

from attrs import define, evolve, field

from arbexec.errors import AmbiguousSubmission, InvalidOrder, OrderNotFound
from arbexec.exchange import Capabilities, MarketRules, PreparedOrder
from arbexec.model import (
    Balance,
    Fill,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderState,
    OrderStatus,
    Position,
    PriceLevel,
)

FILL = "fill"
REST = "rest"
REJECT = "reject"
LOSE_ACK = "lose_ack"  # accepted (and filled) by the venue, but the answer is lost
LOSE_ORDER = "lose_order"  # the send fails ambiguously and the venue never got it
PARTIAL = "partial"  # half fills, the rest rests
BOOM = "boom"  # an unexpected exception after the venue accepted


@define
class ScriptedVenue:
    name: str = "scripted"
    capabilities: Capabilities = field(factory=Capabilities)
    tick: Decimal = Decimal("0.01")
    delay: float = 0.0
    default: str = FILL
    scripts: defaultdict[str, deque[str]] = field(factory=lambda: defaultdict(deque))
    orders: dict[str, OrderState] = field(factory=dict)
    sent: list[str] = field(factory=list)  # identities, in order of create_order calls
    cash: Decimal = Decimal(1_000_000)
    closed: bool = False

    def script(self, market: str, *actions: str) -> None:
        self.scripts[market].extend(actions)

    def _identity(self, request: OrderRequest) -> str:
        digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:16]
        return f"{self.name}-{digest}"

    async def market_rules(self, market: str) -> MarketRules:
        return MarketRules(market=market, tick_size=self.tick)

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        (await self.market_rules(request.market)).check(request)
        identity = self._identity(request)
        return PreparedOrder(request=request, identity=identity, venue_order_id=identity)

    async def create_order(self, order: PreparedOrder) -> OrderState:
        request = order.request
        self.sent.append(order.identity)
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.scripts.get(request.market)
        action = queue.popleft() if queue else self.default
        if action == REJECT:
            raise InvalidOrder("scripted rejection", venue=self.name,
                               venue_code="SCRIPTED_REJECT", venue_message="scripted rejection")
        if action == LOSE_ORDER:
            raise AmbiguousSubmission("timed out after sending (scripted)", venue=self.name)
        state = self._state(order, action)
        self.orders[order.identity] = state
        if action == LOSE_ACK:
            raise AmbiguousSubmission("acknowledgement lost (scripted)", venue=self.name)
        if action == BOOM:
            raise RuntimeError("scripted plugin bug")
        return state

    def _state(self, order: PreparedOrder, action: str) -> OrderState:
        request = order.request
        base = OrderState(venue=self.name, venue_order_id=order.identity, market=request.market,
                          outcome=request.outcome, side=request.side, status=OrderStatus.OPEN,
                          quantity=request.quantity, limit_price=request.limit_price,
                          client_order_id=order.identity)
        if action in (FILL, LOSE_ACK, BOOM):
            fill = Fill(trade_id=f"{order.identity}-t1", quantity=request.quantity,
                        price=request.limit_price, liquidity=Liquidity.TAKER)
            return evolve(base, status=OrderStatus.FILLED, filled_quantity=request.quantity,
                          average_price=request.limit_price, fills=(fill,))
        if action == PARTIAL:
            half = request.quantity / 2
            fill = Fill(trade_id=f"{order.identity}-t1", quantity=half,
                        price=request.limit_price)
            return evolve(base, status=OrderStatus.PARTIALLY_FILLED, filled_quantity=half,
                          average_price=request.limit_price, fills=(fill,))
        return base

    def complete(self, identity: str) -> None:
        """Fill the rest of a resting order (as if the market traded through it)."""
        state = self.orders[identity]
        fill = Fill(trade_id=f"{identity}-t{len(state.fills) + 1}", quantity=state.remaining,
                    price=state.limit_price)
        self.orders[identity] = evolve(state, status=OrderStatus.FILLED,
                                       filled_quantity=state.quantity,
                                       average_price=state.limit_price,
                                       fills=(*state.fills, fill))

    async def lookup_order(self, identity: str) -> OrderState | None:
        return self.orders.get(identity)

    async def fetch_order(self, venue_order_id: str) -> OrderState:
        try:
            return self.orders[venue_order_id]
        except KeyError:
            raise OrderNotFound(f"no order {venue_order_id}", venue=self.name) from None

    async def cancel_order(self, venue_order_id: str) -> OrderState:
        state = await self.fetch_order(venue_order_id)
        if not state.is_final:
            state = evolve(state, status=OrderStatus.CANCELLED)
            self.orders[venue_order_id] = state
        return state

    async def cancel_all_orders(self, market: str | None = None) -> int:
        live = [s for s in self.orders.values()
                if s.status.is_live and (market is None or s.market == market)]
        for s in live:
            await self.cancel_order(s.venue_order_id)
        return len(live)

    async def fetch_open_orders(self, market: str | None = None) -> list[OrderState]:
        return [s for s in self.orders.values()
                if s.status.is_live and (market is None or s.market == market)]

    async def fetch_balance(self) -> Balance:
        return Balance(venue=self.name, total=self.cash, available=self.cash)

    async def fetch_positions(self) -> list[Position]:
        return []

    async def fetch_order_book(self, market: str) -> OrderBook:
        return OrderBook(venue=self.name, market=market,
                         bids=[PriceLevel(price=Decimal("0.49"), size=Decimal(100))],
                         asks=[PriceLevel(price=Decimal("0.51"), size=Decimal(100))])

    def watch_orders(self) -> AsyncIterator[OrderState] | None:
        return None

    def fee(self, market: str, price: Decimal, quantity: Decimal,
            liquidity: Liquidity) -> Decimal:
        return Decimal(0)

    async def aclose(self) -> None:
        self.closed = True
