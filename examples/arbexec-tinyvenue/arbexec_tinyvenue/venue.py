"""The venue: every order fills at once at its limit price."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

from attrs import define, field

from arbexec.api import (
    Balance,
    Capabilities,
    ExchangeSettings,
    Fill,
    Liquidity,
    MarketRules,
    OrderBook,
    OrderNotFound,
    OrderRequest,
    OrderState,
    OrderStatus,
    Position,
    PreparedOrder,
)


@define
class TinyVenue:
    name: str
    log: Path | None = None
    capabilities: Capabilities = field(factory=Capabilities)
    _orders: dict[str, OrderState] = field(factory=dict)

    @classmethod
    def from_settings(cls, settings: ExchangeSettings) -> TinyVenue:
        log = settings.options.get("log")
        return cls(name=settings.name, log=Path(log) if log else None)

    async def market_rules(self, market: str) -> MarketRules:
        return MarketRules(market=market, tick_size=Decimal("0.01"))

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        (await self.market_rules(request.market)).check(request)
        identity = "tiny-" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:20]
        return PreparedOrder(request=request, identity=identity, venue_order_id=identity)

    async def create_order(self, order: PreparedOrder) -> OrderState:
        r = order.request
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"identity": order.identity, "market": r.market,
                                      "side": r.side.value, "quantity": str(r.quantity)}) + "\n")
        fill = Fill(trade_id=f"{order.identity}-1", quantity=r.quantity, price=r.limit_price,
                    liquidity=Liquidity.TAKER)
        state = OrderState(venue=self.name, venue_order_id=order.identity, market=r.market,
                           outcome=r.outcome, side=r.side, status=OrderStatus.FILLED,
                           quantity=r.quantity, limit_price=r.limit_price,
                           filled_quantity=r.quantity, average_price=r.limit_price,
                           fills=(fill,))
        self._orders[order.identity] = state
        return state

    async def lookup_order(self, identity: str) -> OrderState | None:
        return self._orders.get(identity)

    async def fetch_order(self, venue_order_id: str) -> OrderState:
        if venue_order_id not in self._orders:
            raise OrderNotFound(f"no order {venue_order_id}", venue=self.name)
        return self._orders[venue_order_id]

    async def cancel_order(self, venue_order_id: str) -> OrderState:
        return await self.fetch_order(venue_order_id)

    async def cancel_all_orders(self, market: str | None = None) -> int:
        return 0

    async def fetch_open_orders(self, market: str | None = None) -> list[OrderState]:
        return []

    async def fetch_balance(self) -> Balance:
        return Balance(venue=self.name, total=Decimal(1000), available=Decimal(1000))

    async def fetch_positions(self) -> list[Position]:
        return []

    async def fetch_order_book(self, market: str) -> OrderBook:
        return OrderBook(venue=self.name, market=market, bids=(), asks=())

    def watch_orders(self) -> AsyncIterator[OrderState] | None:
        return None

    def fee(self, market: str, price: Decimal, quantity: Decimal,
            liquidity: Liquidity) -> Decimal:
        return Decimal(0)

    async def aclose(self) -> None:
        return None
