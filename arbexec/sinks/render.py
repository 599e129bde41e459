"""How results look: JSON-ready dicts and one-line human rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbexec.model import ExecutionResult


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def result_to_dict(result: ExecutionResult) -> dict[str, Any]:
    return {
        "request_id": result.request_id,
        "idempotency_key": result.idempotency_key,
        "status": result.status.value,
        "venue": result.venue,
        "market": result.market,
        "outcome": None if result.outcome is None else result.outcome.value,
        "side": None if result.side is None else result.side.value,
        "quantity": _s(result.quantity),
        "limit_price": _s(result.limit_price),
        "venue_order_id": result.venue_order_id,
        "filled_quantity": str(result.filled_quantity),
        "average_price": _s(result.average_price),
        "fees": str(result.fees),
        "reason_code": result.reason_code,
        "reason": result.reason,
        "tags": dict(result.tags),
        "requested_at": None if result.requested_at is None else result.requested_at.isoformat(),
        "acknowledged_at": (
            None if result.acknowledged_at is None else result.acknowledged_at.isoformat()
        ),
        "executed_at": None if result.executed_at is None else result.executed_at.isoformat(),
        "latency_ack_ms": (
            None if result.latency_ack_ms is None else round(result.latency_ack_ms, 3)
        ),
        "latency_final_ms": (
            None if result.latency_final_ms is None else round(result.latency_final_ms, 3)
        ),
        "duplicate": result.duplicate,
    }


def result_row(result: ExecutionResult) -> str:
    """``FILLED  r-12  paper PAPER-FED-CUT  BUY 40 YES @<=0.55  filled 40 @0.54  fee 0.12``"""
    if result.reason_code == "invalid_request":
        return f"{result.status.value:<16}  {result.reason}"
    what = (
        f"{result.side.value if result.side else '?'} {result.quantity or ''} "
        f"{result.outcome.value if result.outcome else ''} @<={result.limit_price or ''}"
    ).strip()
    parts = [f"{result.status.value:<16}", f"{result.request_id:<14}",
             f"{result.venue} {result.market}", what]
    if result.filled_quantity:
        parts.append(f"filled {result.filled_quantity} @{result.average_price}")
    if result.fees:
        parts.append(f"fee {result.fees}")
    if result.reason:
        parts.append(f"[{result.reason_code}] {result.reason}")
    if result.duplicate:
        parts.append("(duplicate key: nothing sent)")
    if result.latency_final_ms is not None:
        parts.append(f"{result.latency_final_ms:.2f}ms")
    return "  ".join(parts)
