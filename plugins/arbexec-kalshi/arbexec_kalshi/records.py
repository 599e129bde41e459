"""Kalshi-specific records the adapter returns beside the core types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from attrs import frozen

from arbexec.api import Fill, OrderState


@frozen(kw_only=True)
class VenueFill:
    """One fill with the order it belongs to (REST fills carry no client_order_id)."""

    order_id: str
    market: str
    book_side: str  # "bid" or "ask" on the YES book
    yes_price: Decimal
    fill: Fill


@frozen(kw_only=True)
class Settlement:
    market: str
    event: str | None
    result: str
    yes_count: Decimal
    no_count: Decimal
    yes_cost: Decimal
    no_cost: Decimal
    revenue: Decimal  # dollars (the venue reports integer cents)
    fee: Decimal
    settled_at: datetime | None


@frozen(kw_only=True)
class Page:
    """Items of a paginated listing plus the cursor of the next page ('' = last page)."""

    items: tuple[object, ...]
    cursor: str


@frozen(kw_only=True)
class BatchItem:
    """One entry of a batch answer: a state, or the error the venue gave for that entry."""

    identity: str | None
    state: OrderState | None = None
    error: Exception | None = None
