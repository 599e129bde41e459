"""Live orders: the one owner of a followed order's state.

A venue answer never mutates an order directly. ``advance`` (pure) compares what the engine
knows of an order with what the venue now says and returns the ``Change``: the new fills,
the status, the checked fill total and any alert. ``LiveOrders.apply`` is the only place
that writes it into the order. Everything else reads (an order's ``Booking`` travels with
it but belongs to accounting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from attrs import define, field, frozen

from arbexec.events import Event
from arbexec.model import (
    ZERO,
    ExecutionResult,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    Side,
)

#: Fill sizes a venue reports may differ from ours by this much (rounding in venue units);
#: within it a fill total is clamped to the order quantity, beyond it an alert is raised.
FILL_TOLERANCE = Decimal("0.000001")


@define
class Booking:
    """What accounting has booked of one order (owned by ``accounting.py``, carried here so
    it travels with the order): trade ids in positions and P&L, and the realised P&L of
    those fills net of fees."""

    trades: set[str] = field(factory=set)
    realised: Decimal = ZERO


@define
class LiveOrder:
    """An order the engine follows until it is final (and, while a final order's fills are
    still provisional, until they settle)."""

    key: str
    request: OrderRequest
    identity: str
    venue_order_id: str | None
    status: OrderStatus
    started: float  # perf_counter at submission
    sent_at: datetime | None = None  # wall clock when the intent was written (the grace)
    updates: asyncio.Queue[OrderState] = field(factory=asyncio.Queue)
    seen_trades: set[str] = field(factory=set)
    booking: Booking = field(factory=Booking)
    opened: Decimal = ZERO  # money its fills opened (``positions.book_trade``), to stand
    acknowledged_at: datetime | None = None
    latency_ack_ms: float | None = None
    filled: Decimal = ZERO
    average_price: Decimal | None = None
    fees: Decimal = ZERO
    reason_code: str | None = None
    reason: str | None = None

    @property
    def seen_by_venue(self) -> bool:
        """The venue acknowledged the order or reported it: "never received" is excluded."""
        return self.acknowledged_at is not None or self.status in (
            OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED) or self.status.is_final

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


@frozen
class Change:
    """What one venue answer changes in an order."""

    status: OrderStatus
    fills: tuple[Fill, ...]  # trades not seen before, or seen provisional and now final
    filled: Decimal
    average_price: Decimal | None
    fees: Decimal
    venue_order_id: str | None
    alerts: tuple[Event, ...]
    moved: bool  # the status changed or fills arrived


def advance(live: LiveOrder, state: OrderState) -> Change:
    """The change ``state`` brings to ``live``. Pure: ``live`` is not touched.

    A trade id counts once, and once more when it turns final (a provisional fill
    confirmed). Venue rounding within ``FILL_TOLERANCE`` of the order quantity is clamped to
    it; more than that is kept and raises an alert."""
    fresh: list[Fill] = []
    markers: set[str] = set()
    for fill in state.fills:
        marker = f"{fill.trade_id}:{int(fill.final)}"
        if marker not in live.seen_trades and marker not in markers:
            markers.add(marker)
            fresh.append(fill)
    filled = state.filled_quantity
    quantity = live.request.quantity
    alerts: tuple[Event, ...] = ()
    if filled > quantity:
        if filled - quantity <= FILL_TOLERANCE * max(quantity, Decimal(1)):
            filled = quantity
        else:
            alerts = (Event(kind="alert", request_id=live.request.request_id, data={
                "reason": "venue reports more filled than ordered",
                "venue": live.request.venue, "ordered": str(quantity), "filled": str(filled),
            }),)
    return Change(status=state.status, fills=tuple(fresh), filled=filled,
                  average_price=state.average_price or live.average_price, fees=state.fees,
                  venue_order_id=state.venue_order_id or live.venue_order_id, alerts=alerts,
                  moved=state.status is not live.status or bool(fresh))


def reason_code_of(state: OrderState) -> str | None:
    if state.status is OrderStatus.CANCELLED:
        return "cancelled_with_fills" if state.filled_quantity > 0 else "cancelled"
    if state.status is OrderStatus.EXPIRED:
        return "expired"
    if state.status is OrderStatus.REJECTED:
        return "venue_rejected"
    return None


@define
class LiveOrders:
    """The followed orders, indexed by key and by venue order id, with the counts the risk
    policy reads (open orders per market, cash held by resting buys per venue)."""

    _live: dict[str, LiveOrder] = field(factory=dict)
    _by_venue_id: dict[tuple[str, str], LiveOrder] = field(factory=dict)
    _settling: dict[tuple[str, str], LiveOrder] = field(factory=dict)  # final, provisional
    _open_per_market: dict[tuple[str, str], int] = field(factory=dict)
    _reserved: dict[str, Decimal] = field(factory=dict)

    def apply(self, live: LiveOrder, change: Change, *, keep_status: bool = False) -> None:
        """Write a change into the order: the one place a followed order is mutated."""
        live.seen_trades.update(f"{f.trade_id}:{int(f.final)}" for f in change.fills)
        if not keep_status:
            live.status = change.status
        live.filled = max(change.filled, live.filled) if keep_status else change.filled
        live.fees = change.fees
        live.average_price = change.average_price
        if change.venue_order_id and change.venue_order_id != live.venue_order_id:
            live.venue_order_id = change.venue_order_id
            if live.key in self._live:
                self._by_venue_id[(live.request.venue, change.venue_order_id)] = live

    def seen(self, live: LiveOrder, fills: Iterable[Fill]) -> None:
        """Fills the journal already holds for an order followed again after a restart."""
        live.seen_trades.update(f"{f.trade_id}:{int(f.final)}" for f in fills)

    def unknown(self, live: LiveOrder) -> None:
        live.status = OrderStatus.UNKNOWN

    def concluded(self, live: LiveOrder, reason_code: str | None, reason: str | None) -> None:
        live.reason_code, live.reason = reason_code, reason

    def acknowledged(self, live: LiveOrder, at: datetime, latency_ms: float) -> None:
        live.acknowledged_at, live.latency_ack_ms = at, latency_ms

    # ------------------------------------------------------------------ the registry

    def track(self, live: LiveOrder) -> None:
        if live.key in self._live:
            return
        self._live[live.key] = live
        r = live.request
        if r.side is Side.BUY:
            self._reserved[r.venue] = self._reserved.get(r.venue, ZERO) + r.notional
        if live.venue_order_id is not None:
            self._by_venue_id[(r.venue, live.venue_order_id)] = live
        market = (r.venue, r.market)
        self._open_per_market[market] = self._open_per_market.get(market, 0) + 1

    def untrack(self, live: LiveOrder) -> None:
        if self._live.pop(live.key, None) is None:
            return
        r = live.request
        if r.side is Side.BUY:
            self._reserved[r.venue] = self._reserved.get(r.venue, ZERO) - r.notional
        if live.venue_order_id is not None:
            self._by_venue_id.pop((r.venue, live.venue_order_id), None)
        market = (r.venue, r.market)
        self._open_per_market[market] = self._open_per_market.get(market, 1) - 1

    def get(self, key: str) -> LiveOrder | None:
        return self._live.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    def __len__(self) -> int:
        return len(self._live)

    def on_venue(self, venue: str) -> list[LiveOrder]:
        return [live for live in self._live.values() if live.request.venue == venue]

    def by_venue_id(self, venue: str, venue_order_id: str) -> LiveOrder | None:
        return self._by_venue_id.get((venue, venue_order_id))

    def open_in_market(self, venue: str, market: str) -> int:
        return self._open_per_market.get((venue, market), 0)

    def reserved_on(self, venue: str) -> Decimal:
        return self._reserved.get(venue, ZERO)

    # ------------------------------------------------------------------ settling fills

    def settle_later(self, live: LiveOrder) -> None:
        """A final order whose fills are provisional: keep listening for them."""
        self._settling[(live.request.venue, live.venue_order_id or "")] = live

    def settled(self, live: LiveOrder) -> None:
        self._settling.pop((live.request.venue, live.venue_order_id or ""), None)

    def settling(self, venue: str, venue_order_id: str) -> LiveOrder | None:
        return self._settling.get((venue, venue_order_id))

    def settling_on(self, venue: str) -> Iterator[LiveOrder]:
        return iter([live for (name, _), live in self._settling.items() if name == venue])

    @property
    def any_settling(self) -> bool:
        return bool(self._settling)
