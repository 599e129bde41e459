"""An order the engine follows until it is final, and the rules for reading its fills."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from attrs import define, field

from arbexec.events import Event
from arbexec.model import (
    ZERO,
    ExecutionResult,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
)

#: Fill sizes a venue reports may differ from ours by this much (rounding in venue units);
#: within it a fill total is clamped to the order quantity, beyond it an alert is raised.
FILL_TOLERANCE = Decimal("0.000001")


@define
class LiveOrder:
    """An acknowledged order that is not final yet."""

    key: str
    request: OrderRequest
    identity: str
    venue_order_id: str | None
    status: OrderStatus
    started: float  # perf_counter at submission
    updates: asyncio.Queue[OrderState] = field(factory=asyncio.Queue)
    seen_trades: set[str] = field(factory=set)
    booked_trades: set[str] = field(factory=set)  # fills already in positions and P&L
    realised: Decimal = ZERO  # realised P&L of this order's booked fills, net of fees
    acknowledged_at: datetime | None = None
    latency_ack_ms: float | None = None
    filled: Decimal = ZERO
    average_price: Decimal | None = None
    fees: Decimal = ZERO
    reason_code: str | None = None
    reason: str | None = None
    absent_since: float | None = None  # since when lookups answer "no such order"

    def result(self, *, executed_at: datetime | None = None,
               latency_final_ms: float | None = None) -> ExecutionResult:
        """The result as the journal now holds it, built without reading it back."""
        r = self.request
        return ExecutionResult(
            request_id=r.request_id, idempotency_key=r.idempotency_key, status=self.status,
            venue=r.venue, market=r.market, outcome=r.outcome, side=r.side,
            quantity=r.quantity, limit_price=r.limit_price,
            venue_order_id=self.venue_order_id, filled_quantity=self.filled,
            average_price=self.average_price, fees=self.fees, reason_code=self.reason_code,
            reason=self.reason, tags=r.tags, requested_at=r.requested_at,
            acknowledged_at=self.acknowledged_at, executed_at=executed_at,
            latency_ack_ms=self.latency_ack_ms, latency_final_ms=latency_final_ms,
        )

    def new_fills(self, state: OrderState) -> list[Fill]:
        """Fills not seen before: a trade id counts once, and once more when it turns
        final (a provisional fill confirmed)."""
        fresh = []
        for fill in state.fills:
            marker = f"{fill.trade_id}:{int(fill.final)}"
            if marker not in self.seen_trades:
                self.seen_trades.add(marker)
                fresh.append(fill)
        return fresh

    def checked_fill_total(self, state: OrderState) -> tuple[Decimal, list[Event]]:
        """The filled quantity to record. Venue rounding within ``FILL_TOLERANCE`` of the
        order quantity is clamped to it; more than that is kept and raises an alert."""
        filled = state.filled_quantity
        quantity = self.request.quantity
        if filled <= quantity:
            return filled, []
        if filled - quantity <= FILL_TOLERANCE * max(quantity, Decimal(1)):
            return quantity, []
        alert = Event(kind="alert", request_id=self.request.request_id, data={
            "reason": "venue reports more filled than ordered",
            "venue": self.request.venue, "ordered": str(quantity), "filled": str(filled),
        })
        return filled, [alert]

def reason_code_of(state: OrderState) -> str | None:
    if state.status is OrderStatus.CANCELLED:
        return "cancelled_with_fills" if state.filled_quantity > 0 else "cancelled"
    if state.status is OrderStatus.EXPIRED:
        return "expired"
    if state.status is OrderStatus.REJECTED:
        return "venue_rejected"
    return None
