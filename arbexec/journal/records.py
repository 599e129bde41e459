"""The journal's values: an order as stored (``JournalRow``) and an intent about to be sent."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from arbexec.events import Event
from arbexec.journal.codec import request_from_dict
from arbexec.model import ExecutionResult, OrderRequest, OrderStatus, Outcome, Side

#: Statuses of orders that may still change on their venue.
NON_FINAL = (
    OrderStatus.PENDING.value,
    OrderStatus.UNKNOWN.value,
    OrderStatus.OPEN.value,
    OrderStatus.PARTIALLY_FILLED.value,
)


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@frozen(kw_only=True)
class JournalRow:
    """One order as the journal knows it."""

    idempotency_key: str
    request_id: str
    venue: str
    market: str
    outcome: str
    side: str
    quantity: Decimal
    limit_price: Decimal
    request: Mapping[str, Any] = field(hash=False)
    status: OrderStatus
    reason_code: str | None
    reason: str | None
    identity: str | None
    venue_order_id: str | None
    filled_quantity: Decimal
    average_price: Decimal | None
    fees: Decimal
    pair_id: str | None
    requested_at: datetime
    acknowledged_at: datetime | None
    executed_at: datetime | None
    latency_ack_ms: float | None
    latency_final_ms: float | None
    updated_at: datetime

    @classmethod
    def from_sqlite(cls, r: sqlite3.Row) -> JournalRow:
        return cls(
            idempotency_key=r["idempotency_key"],
            request_id=r["request_id"],
            venue=r["venue"],
            market=r["market"],
            outcome=r["outcome"],
            side=r["side"],
            quantity=Decimal(r["quantity"]),
            limit_price=Decimal(r["limit_price"]),
            request=json.loads(r["request"]),
            status=OrderStatus(r["status"]),
            reason_code=r["reason_code"],
            reason=r["reason"],
            identity=r["identity"],
            venue_order_id=r["venue_order_id"],
            filled_quantity=Decimal(r["filled_quantity"]),
            average_price=None if r["average_price"] is None else Decimal(r["average_price"]),
            fees=Decimal(r["fees"]),
            pair_id=r["pair_id"],
            requested_at=datetime.fromisoformat(r["requested_at"]),
            acknowledged_at=_datetime(r["acknowledged_at"]),
            executed_at=_datetime(r["executed_at"]),
            latency_ack_ms=r["latency_ack_ms"],
            latency_final_ms=r["latency_final_ms"],
            updated_at=datetime.fromisoformat(r["updated_at"]),
        )

    def to_result(self, *, duplicate: bool = False) -> ExecutionResult:
        return ExecutionResult(
            request_id=self.request_id,
            idempotency_key=self.idempotency_key,
            status=self.status,
            venue=self.venue,
            market=self.market,
            outcome=Outcome(self.outcome),
            side=Side(self.side),
            quantity=self.quantity,
            limit_price=self.limit_price,
            venue_order_id=self.venue_order_id,
            filled_quantity=self.filled_quantity,
            average_price=self.average_price,
            fees=self.fees,
            reason_code=self.reason_code,
            reason=self.reason,
            tags=self.request.get("tags") or {},
            requested_at=self.requested_at,
            acknowledged_at=self.acknowledged_at,
            executed_at=self.executed_at,
            latency_ack_ms=self.latency_ack_ms,
            latency_final_ms=self.latency_final_ms,
            duplicate=duplicate,
        )

    def to_request(self) -> OrderRequest:
        return request_from_dict(self.request)


@frozen(kw_only=True)
class Intent:
    """An order about to be sent, with its venue-side identity fixed."""

    request: OrderRequest
    identity: str
    venue_order_id: str | None
    pair_id: str | None = None
    events: tuple[Event, ...] = ()
