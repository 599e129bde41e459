"""The venue's own record of an order: mutable inside the venue, a core ``OrderState`` outside.

Kept as a slotted plain class rather than an attrs value: it changes on every fill and is on
the hot path, while callers only ever see the frozen ``OrderState`` built from it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbexec.model import (
    ONE,
    ZERO,
    Fill,
    Liquidity,
    OrderState,
    OrderStatus,
    Outcome,
    Side,
    TimeInForce,
)
from arbexec_paper.clock import to_datetime


class PaperOrder:
    __slots__ = (
        "cost",
        "created_at",
        "expires_at",
        "fees",
        "filled",
        "fills",
        "id",
        "limit_price",
        "market",
        "outcome",
        "post_only",
        "quantity",
        "reason",
        "reserved_cash",
        "reserved_contracts",
        "seq",
        "side",
        "status",
        "time_in_force",
        "updated_at",
        "yes_buy",
        "yes_price",
    )

    def __init__(
        self,
        *,
        id: str,
        seq: int,
        market: str,
        outcome: Outcome,
        side: Side,
        quantity: Decimal,
        limit_price: Decimal,
        time_in_force: TimeInForce,
        post_only: bool,
        expires_at: float | None,
        created_at: float,
    ) -> None:
        self.id = id
        self.seq = seq
        self.market = market
        self.outcome = outcome
        self.side = side
        self.quantity = quantity
        self.limit_price = limit_price
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.expires_at = expires_at
        self.created_at = created_at
        self.updated_at = created_at
        self.status = OrderStatus.OPEN
        self.filled = ZERO
        self.cost = ZERO  # sum of quantity x price over fills, in the order's own prices
        self.fees = ZERO
        self.fills: list[Fill] = []
        self.reason: str | None = None
        self.reserved_cash = ZERO
        self.reserved_contracts = ZERO
        yes = outcome is Outcome.YES
        # Where the order sits on the YES book: buying NO at q is selling YES at 1 - q.
        self.yes_buy = (side is Side.BUY) is yes
        self.yes_price = limit_price if yes else ONE - limit_price

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def is_live(self) -> bool:
        return self.status is OrderStatus.OPEN or self.status is OrderStatus.PARTIALLY_FILLED

    def own_price(self, yes_price: Decimal) -> Decimal:
        """A YES-book price in this order's outcome."""
        return yes_price if self.outcome is Outcome.YES else ONE - yes_price

    def add_fill(self, quantity: Decimal, price: Decimal, fee: Decimal, liquidity: Liquidity,
                 at: float) -> Fill:
        fill = Fill(
            trade_id=f"{self.id}-t{len(self.fills) + 1}",
            quantity=quantity,
            price=price,
            fee=fee,
            liquidity=liquidity,
            timestamp=to_datetime(at),
        )
        self.fills.append(fill)
        self.filled += quantity
        self.cost += quantity * price
        self.fees += fee
        self.updated_at = at
        self.status = OrderStatus.FILLED if self.filled == self.quantity else (
            OrderStatus.PARTIALLY_FILLED)
        return fill

    def close(self, status: OrderStatus, reason: str | None, at: float) -> None:
        self.status = status
        self.reason = reason
        self.updated_at = at

    def to_state(self, venue: str) -> OrderState:
        return OrderState(
            venue=venue,
            venue_order_id=self.id,
            market=self.market,
            outcome=self.outcome,
            side=self.side,
            status=self.status,
            quantity=self.quantity,
            limit_price=self.limit_price,
            filled_quantity=self.filled,
            average_price=self.cost / self.filled if self.filled else None,
            fees=self.fees,
            fills=self.fills,  # type: ignore[arg-type]  # attrs types converter=tuple loosely
            client_order_id=self.id,
            reason=self.reason,
            updated_at=to_datetime(self.updated_at),
        )

    # ------------------------------------------------------------------ persistence

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "market": self.market,
            "outcome": self.outcome.value,
            "side": self.side.value,
            "quantity": str(self.quantity),
            "limit_price": str(self.limit_price),
            "tif": self.time_in_force.value,
            "post_only": self.post_only,
            "expires_at": self.expires_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": self.status.value,
            "reason": self.reason,
            "reserved_cash": str(self.reserved_cash),
            "reserved_contracts": str(self.reserved_contracts),
            "fills": [
                [f.trade_id, str(f.quantity), str(f.price), str(f.fee), f.liquidity.value,
                 f.timestamp.timestamp()]
                for f in self.fills
            ],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PaperOrder:
        order = cls(
            id=record["id"],
            seq=int(record["seq"]),
            market=record["market"],
            outcome=Outcome(record["outcome"]),
            side=Side(record["side"]),
            quantity=Decimal(record["quantity"]),
            limit_price=Decimal(record["limit_price"]),
            time_in_force=TimeInForce(record["tif"]),
            post_only=bool(record["post_only"]),
            expires_at=record["expires_at"],
            created_at=float(record["created_at"]),
        )
        for trade_id, quantity, price, fee, liquidity, at in record["fills"]:
            order.fills.append(Fill(trade_id=trade_id, quantity=quantity, price=price, fee=fee,
                                    liquidity=liquidity, timestamp=at))
            order.filled += Decimal(quantity)
            order.cost += Decimal(quantity) * Decimal(price)
            order.fees += Decimal(fee)
        order.status = OrderStatus(record["status"])
        order.reason = record["reason"]
        order.updated_at = float(record["updated_at"])
        order.reserved_cash = Decimal(record["reserved_cash"])
        order.reserved_contracts = Decimal(record["reserved_contracts"])
        return order
