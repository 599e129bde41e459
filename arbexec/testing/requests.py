"""Valid order requests for tests, with only what a test cares about spelled out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arbexec.model import OrderRequest

#: A fixed request time: venues that derive their identity or signature timestamp from it
#: (Polymarket's order time) then produce the same bytes on every run, as cassettes need.
FIXED_TIME = datetime(2026, 11, 22, tzinfo=UTC)


def order_request(key: str = "r-1", **overrides: Any) -> OrderRequest:
    """A BUY of 5 YES at 0.30 on venue ``paper`` market ``M``, requested at ``FIXED_TIME``;
    ``key`` is both the request id and the idempotency key unless overridden."""
    values: dict[str, Any] = {
        "request_id": key, "idempotency_key": key, "venue": "paper", "market": "M",
        "outcome": "YES", "side": "BUY", "quantity": "5", "limit_price": "0.30",
        "requested_at": FIXED_TIME,
    }
    values.update(overrides)
    return OrderRequest(**values)
