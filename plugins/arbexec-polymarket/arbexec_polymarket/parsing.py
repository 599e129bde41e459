"""Venue JSON to core values: orders, trades (fills), books and balances.

Status strings arrive bare (``LIVE``) or prefixed (``ORDER_STATUS_LIVE``,
``TRADE_STATUS_CONFIRMED``); prefixes are stripped and unknown values tolerated. A fill is
provisional (``final=False``) from ``MATCHED`` until its trade is ``CONFIRMED``; ``FAILED``
trades are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from arbexec.api import (
    ZERO,
    Balance,
    Fill,
    Liquidity,
    OrderBook,
    OrderState,
    OrderStatus,
    Outcome,
    PriceLevel,
    Side,
    venue_decimal,
)
from arbexec_polymarket.venue_errors import VENUE, MalformedAnswer

_UNIT = Decimal(10) ** 6
_FINAL_TRADE = "CONFIRMED"
_DROPPED_TRADE = "FAILED"


def record(value: Any, what: str) -> Mapping[str, Any]:
    """A JSON object the venue must have sent, or a clear error (never an AttributeError
    on a list, a string or a number where an object belongs)."""
    if not isinstance(value, Mapping):
        raise MalformedAnswer(f"Polymarket sent {type(value).__name__} where {what} belongs",
                              venue=VENUE)
    return value


def order_id(raw: Mapping[str, Any]) -> str:
    """The venue's id of an order object; an order without one is malformed, never ''."""
    value = raw.get("id") or raw.get("orderID")
    if not isinstance(value, str) or not value:
        raise MalformedAnswer("Polymarket sent an order without an id", venue=VENUE)
    return value


def order_side(raw: Mapping[str, Any]) -> Side:
    """BUY or SELL as the venue spells it; anything else is a malformed answer."""
    value = raw.get("side")
    if value is None:
        return Side.BUY
    if not isinstance(value, str) or value.upper() not in ("BUY", "SELL"):
        raise MalformedAnswer(f"Polymarket sent an order side {str(value)[:20]!r}", venue=VENUE)
    return Side(value.upper())


def records(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A JSON list of objects (or nothing), each checked like ``record``."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise MalformedAnswer(f"Polymarket sent {type(value).__name__} where a list of "
                              f"{what} belongs", venue=VENUE)
    return [record(item, what) for item in value]


def status_name(value: Any) -> str:
    text = str(value or "").strip().upper()
    for prefix in ("ORDER_STATUS_", "TRADE_STATUS_"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def dec(value: Any, default: Decimal = ZERO, name: str = "a number field") -> Decimal:
    """A venue number, exactly (from its text). Absent or empty: ``default``. Anything else
    that is not a finite number is ``MalformedAnswer``, never a silent 0."""
    if value is None or value == "":
        return default
    return venue_decimal(value, name=name, venue=VENUE, error=MalformedAnswer, floats=True)


def from_units(value: Any) -> Decimal:
    """Integer 1e-6 units (as the venue sends balances) to dollars or shares."""
    return dec(value) / _UNIT


def timestamp(value: Any) -> datetime:
    """Unix seconds (or milliseconds), numeric or string, or ISO-8601, to aware UTC."""
    if value in (None, ""):
        return datetime.now(UTC)
    try:
        number = float(value)
    except (TypeError, ValueError):
        text = str(value).replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if number > 1e11:
        number /= 1000
    return datetime.fromtimestamp(number, tz=UTC)


FeeOf = Callable[[Decimal, Decimal, Liquidity], Decimal]


def fills_for(order_id: str, trades: Iterable[Mapping[str, Any]],
              fee: FeeOf | None = None) -> list[Fill]:
    """This order's part of each trade, de-duplicated by trade id (latest status wins).

    ``fee(price, quantity, liquidity)`` prices each fill from the market's fee schedule
    (the venue applies fees at match time and its trade reports carry no fee amount)."""
    latest: dict[str, Fill] = {}
    wanted = order_id.lower()
    for trade in trades:
        status = status_name(trade.get("status"))
        trade_id = str(trade.get("id") or "")
        if not trade_id:
            continue
        if status == _DROPPED_TRADE:
            latest.pop(trade_id, None)
            continue
        quantity, price, liquidity = None, None, Liquidity.TAKER
        if str(trade.get("taker_order_id") or "").lower() == wanted:
            quantity, price = dec(trade.get("size")), dec(trade.get("price"))
        else:
            for maker in trade.get("maker_orders") or ():
                if str(maker.get("order_id") or "").lower() == wanted:
                    quantity, price = dec(maker.get("matched_amount")), dec(maker.get("price"))
                    liquidity = Liquidity.MAKER
                    break
        if not quantity or quantity <= 0 or price is None or not ZERO < price < 1:
            continue
        latest[trade_id] = Fill(
            trade_id=trade_id,
            quantity=quantity,
            price=price,
            fee=fee(price, quantity, liquidity) if fee is not None else ZERO,
            liquidity=liquidity,
            timestamp=timestamp(trade.get("match_time") or trade.get("matchtime")),
            final=status == _FINAL_TRADE,
        )
    return list(latest.values())


def order_status(raw: Mapping[str, Any], matched: Decimal, size: Decimal) -> OrderStatus:
    status = status_name(raw.get("status"))
    order_type = str(raw.get("order_type") or raw.get("orderType") or "").upper()
    if status in ("LIVE", "DELAYED", "OPEN"):
        return OrderStatus.PARTIALLY_FILLED if matched > 0 else OrderStatus.OPEN
    if status in ("MATCHED", "FILLED"):
        if matched >= size:
            return OrderStatus.FILLED
        if order_type in ("FAK", "FOK"):
            return OrderStatus.CANCELLED  # the rest was killed
        return OrderStatus.PARTIALLY_FILLED if matched > 0 else OrderStatus.OPEN
    if status == "CANCELED_EXPIRED_ORDER" or status == "EXPIRED":
        return OrderStatus.EXPIRED
    if status.startswith("CANCEL"):
        return OrderStatus.CANCELLED
    if status in ("INVALID", "UNMATCHED"):
        return OrderStatus.REJECTED if matched == 0 else OrderStatus.CANCELLED
    return OrderStatus.PARTIALLY_FILLED if matched > 0 else OrderStatus.OPEN


def order_state(
    raw: Mapping[str, Any],
    *,
    market: str,
    outcome: Outcome,
    fills: list[Fill] | None = None,
) -> OrderState:
    """An order object of ``/data/order`` or ``/data/orders`` (or a WS order event)."""
    raw = record(raw, "an order")
    size = dec(raw.get("original_size"))
    matched = dec(raw.get("size_matched"))
    fills = list(fills or [])
    filled_by_fills = sum((f.quantity for f in fills), ZERO)
    matched = max(matched, filled_by_fills)
    average = (
        sum((f.quantity * f.price for f in fills), ZERO) / filled_by_fills
        if filled_by_fills > 0
        else None
    )
    status = order_status(raw, matched, size)
    return OrderState(
        venue=VENUE,
        venue_order_id=str(raw.get("id") or raw.get("orderID") or ""),
        market=market,
        outcome=outcome,
        side=order_side(raw),
        status=status,
        quantity=size if size > 0 else max(matched, Decimal("0.01")),
        limit_price=dec(raw.get("price")),
        filled_quantity=min(matched, size) if size > 0 else matched,
        fees=sum((f.fee for f in fills), ZERO),
        average_price=average,
        fills=fills,  # converted by attrs
        reason=status_name(raw.get("status")) or None,
        updated_at=timestamp(raw.get("timestamp") or raw.get("created_at")),
    )


def order_book(raw: Mapping[str, Any], *, market: str, outcome: Outcome = Outcome.YES) -> OrderBook:
    """``/book`` of one token as the YES book of ``market`` (mirrored when it is the NO token).

    Levels are not assumed sorted: bids are sorted descending and asks ascending here.
    """

    def levels(key: str) -> list[tuple[Decimal, Decimal]]:
        merged: dict[Decimal, Decimal] = {}
        for level in records(raw.get(key), "book levels"):
            price, size = dec(level.get("price")), dec(level.get("size"))
            if size > 0 and ZERO < price < 1:
                merged[price] = merged.get(price, ZERO) + size
        return list(merged.items())

    raw = record(raw, "an order book")
    bids, asks = levels("bids"), levels("asks")
    if outcome is Outcome.NO:
        bids, asks = [(1 - p, s) for p, s in asks], [(1 - p, s) for p, s in bids]
    tick = raw.get("tick_size")
    return OrderBook(
        venue=VENUE,
        market=market,
        bids=[PriceLevel(price=p, size=s) for p, s in sorted(bids, reverse=True)],
        asks=[PriceLevel(price=p, size=s) for p, s in sorted(asks)],
        timestamp=timestamp(raw.get("timestamp")),
        tick_size=dec(tick) if tick not in (None, "") else None,
    )


def balance(raw: Mapping[str, Any], reserved: Decimal = ZERO) -> Balance:
    raw = record(raw, "a balance")
    total = from_units(raw.get("balance"))
    return Balance(venue=VENUE, total=total, available=total - reserved, currency="pUSD")
