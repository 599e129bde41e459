"""How the journal writes values down and reads them back.

Requests are stored as the JSON the jsonl source reads, so ``arbexec orders --json`` output
can be fed back in. Reading one back is not parsing untrusted input (the journal wrote it),
so it does not go through ``arbexec.sources``: the model's own converters rebuild it, and a
row this version cannot read is a ``JournalError`` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from arbexec.encoding import dumps
from arbexec.errors import JournalError
from arbexec.model import OrderRequest, OrderState, utc_datetime

__all__ = ["dumps", "iso", "order_state_summary", "request_from_dict", "request_to_dict",
           "text"]


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def request_to_dict(request: OrderRequest) -> dict[str, Any]:
    """The request as JSON-ready data (the form the jsonl source reads)."""
    data: dict[str, Any] = {
        "request_id": request.request_id,
        "idempotency_key": request.idempotency_key,
        "venue": request.venue,
        "market": request.market,
        "outcome": request.outcome.value,
        "side": request.side.value,
        "quantity": str(request.quantity),
        "limit_price": str(request.limit_price),
        "time_in_force": request.time_in_force.value,
        "post_only": request.post_only,
        "requested_at": request.requested_at.isoformat(),
    }
    if request.expires_at is not None:
        data["expires_at"] = request.expires_at.isoformat()
    if request.reference_price is not None:
        data["reference_price"] = str(request.reference_price)
    if request.expected_value is not None:
        data["expected_value"] = str(request.expected_value)
    if request.wait_budget is not None:
        data["wait_budget"] = request.wait_budget
    if request.tags:
        data["tags"] = dict(request.tags)
    return data


def request_from_dict(data: Mapping[str, Any]) -> OrderRequest:
    """The request ``request_to_dict`` wrote (the model's converters restore the types)."""
    values = dict(data)
    try:
        if "requested_at" in values:
            values["requested_at"] = utc_datetime(values["requested_at"])
        return OrderRequest(**values)
    except (TypeError, ValueError, ArithmeticError) as exc:
        key = values.get("idempotency_key", "?")
        raise JournalError(f"the journal's request for key {key!r} cannot be read: "
                           f"{exc}") from None


def order_state_summary(state: OrderState) -> dict[str, Any]:
    """The part of an order state worth an event row."""
    return {
        "venue": state.venue,
        "venue_order_id": state.venue_order_id,
        "status": state.status.value,
        "filled_quantity": str(state.filled_quantity),
        "average_price": text(state.average_price),
        "fees": str(state.fees),
        "reason": state.reason,
    }
