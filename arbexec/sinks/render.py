"""How results look: JSON-ready dicts and one-line human rows."""

from __future__ import annotations

from collections.abc import Mapping
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
    """``FILLED  r-12  paper PAPER-FED-CUT  BUY 40 YES @<=0.55  filled 40 @0.54  fee 0.12``

    A BUY's limit is a ceiling (``@<=``), a SELL's a floor (``@>=``)."""
    if result.reason_code == "invalid_request":
        return f"{result.status.value:<16}  {result.reason}"
    side = result.side.value if result.side else "?"
    what = (
        f"{side} {result.quantity or ''} {result.outcome.value if result.outcome else ''} "
        f"{limit_text(side, result.limit_price)}"
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


def limit_text(side: str | None, price: Decimal | str | None) -> str:
    """``@<=0.55`` for a BUY (pays at most), ``@>=0.55`` for a SELL (takes at least)."""
    if price is None or price == "":
        return "@"
    return f"@>={price}" if side == "SELL" else f"@<={price}"


def pair_row(result: Mapping[str, Any]) -> str:
    """A pair's result (``pair_result_to_dict``) as one row, for the stdout sink:
    ``HEDGED    arb-1  10/10 hedged  edge 0.35  unwind loss 0  [a FILLED 10@0.41; ...]``"""
    parts = [f"{result.get('state', '?'):<8}", str(result.get("pair_id", "?")),
             f"{result.get('hedged_quantity')}/{result.get('quantity')} hedged"]
    if result.get("realised_edge") not in (None, "0"):
        parts.append(f"edge {result['realised_edge']}")
    fees = result.get("fees") or {}
    if fees:
        parts.append("fees " + " ".join(f"{v} {f}" for v, f in fees.items()))
    if result.get("unwind_loss") not in (None, "0"):
        parts.append(f"unwind loss {result['unwind_loss']}")
    if result.get("exposed_quantity") not in (None, "0"):
        parts.append(f"EXPOSED {result['exposed_quantity']}")
    legs = [f"{leg.get('leg')} {leg.get('status')} {leg.get('filled_quantity')}"
            + (f"@{leg['average_price']}" if leg.get("average_price") else "")
            for leg in result.get("legs") or ()]
    if legs:
        parts.append("[" + "; ".join(legs) + "]")
    if result.get("reason"):
        parts.append(f"[{result.get('reason_code')}] {result['reason']}")
    if result.get("duplicate"):
        parts.append("(duplicate pair key: nothing sent)")
    return "  ".join(parts)
