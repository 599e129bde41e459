"""The venue's own record of an order: mutable inside the venue, a core ``OrderState`` outside.

Kept as a slotted plain class rather than an attrs value: it changes on every fill and is on
the hot path, while callers only ever see the frozen ``OrderState`` built from it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbexec.api import (
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
        "closing",
        "cost",
        "created_at",
        "expires_at",
        "fees",
        "fill_rows",
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
        self.fill_rows: list[str] = []  # the fills as the state file stores them
        self.reason: str | None = None
        self.reserved_cash = ZERO
        self.reserved_contracts = ZERO
        #: a sell's contracts still to close from the holding; the rest of its remainder
        #: buys the other outcome (``sells_beyond_position = "open_opposite"``). Fills
        #: close first. Live, it equals ``reserved_contracts``, which is how it is restored.
        self.closing = quantity if side is Side.SELL else ZERO
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
        trade_id = f"{self.id}-t{len(self.fills) + 1}"
        fill = Fill(
            trade_id=trade_id,
            quantity=quantity,
            price=price,
            fee=fee,
            liquidity=liquidity,
            timestamp=to_datetime(at),
        )
        self.fills.append(fill)
        self.fill_rows.append(f"{trade_id}|{quantity}|{price}|{fee}|{liquidity}|{at!r}")
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
            fills=self.fills,  # attrs types converter=tuple loosely
            client_order_id=self.id,
            reason=self.reason,
            updated_at=to_datetime(self.updated_at),
        )

    # ------------------------------------------------------------------ persistence

    def to_row(self) -> tuple[Any, ...]:
        """The order as one row of the state file (columns in ``store.ORDER_COLUMNS``)."""
        return (
            self.id, self.seq, self.market, int(self.is_live), self.outcome, self.side,
            str(self.quantity), str(self.limit_price), self.time_in_force, int(self.post_only),
            self.expires_at, self.created_at, self.updated_at, self.status, self.reason,
            str(self.reserved_cash), str(self.reserved_contracts), ";".join(self.fill_rows),
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> PaperOrder:
        (oid, seq, market, _live, outcome, side, quantity, limit_price, tif, post_only,
         expires_at, created_at, updated_at, status, reason, reserved_cash,
         reserved_contracts, fills) = row
        order = cls(
            id=oid,
            seq=int(seq),
            market=market,
            outcome=Outcome(outcome),
            side=Side(side),
            quantity=Decimal(quantity),
            limit_price=Decimal(limit_price),
            time_in_force=TimeInForce(tif),
            post_only=bool(post_only),
            expires_at=expires_at,
            created_at=float(created_at),
        )
        for fill_row in fills.split(";") if fills else ():
            trade_id, quantity, price, fee, liquidity, at = fill_row.split("|")
            order.fills.append(Fill(trade_id=trade_id, quantity=quantity, price=price, fee=fee,
                                    liquidity=liquidity, timestamp=float(at)))
            order.fill_rows.append(fill_row)
            order.filled += Decimal(quantity)
            order.cost += Decimal(quantity) * Decimal(price)
            order.fees += Decimal(fee)
        order.status = OrderStatus(status)
        order.reason = reason
        order.updated_at = float(updated_at)
        order.reserved_cash = Decimal(reserved_cash)
        order.reserved_contracts = Decimal(reserved_contracts)
        if order.side is Side.SELL:
            order.closing = order.reserved_contracts if order.is_live else ZERO
        return order
