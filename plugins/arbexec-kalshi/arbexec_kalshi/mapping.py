"""Unified requests <-> Kalshi's single YES book, and venue records -> core values.

Kalshi V2 has one book: ``bid`` buys YES, ``ask`` sells YES (which is buying NO), and the
price is always the YES price. So buying NO at q is an ask at 1 - q, selling NO at q a bid
at 1 - q. The venue cannot tell "buy NO" from "sell YES" afterwards, so the direction the
user asked for is carried in the ``client_order_id`` (see ``identity``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from attrs import frozen

from arbexec.api import (
    ONE,
    ZERO,
    Fill,
    Liquidity,
    OrderRequest,
    OrderState,
    OrderStatus,
    Outcome,
    Side,
    TimeInForce,
    now_utc,
    utc_datetime,
)
from arbexec_kalshi.numbers import field_decimal, format_count, format_price

VENUE = "kalshi"
_NAMESPACE = uuid.UUID("5b0f6a4e-2f0c-5a8e-9c61-6b9a1d0e4c37")

TIME_IN_FORCE = {
    TimeInForce.GTC: "good_till_canceled",
    TimeInForce.GTD: "good_till_canceled",  # with expiration_time: a good-till-time order
    TimeInForce.IOC: "immediate_or_cancel",
    TimeInForce.FOK: "fill_or_kill",
}

_INTENT_TAGS = {
    (Side.BUY, Outcome.YES): "by",
    (Side.SELL, Outcome.YES): "sy",
    (Side.BUY, Outcome.NO): "bn",
    (Side.SELL, Outcome.NO): "sn",
}
_TAG_INTENTS = {tag: intent for intent, tag in _INTENT_TAGS.items()}
_PREFIX = "ax"


@frozen
class BookOrder:
    """A unified intent expressed on the YES book: ``side`` bid/ask at YES ``price``."""

    side: str
    price: Decimal


def to_book(side: Side, outcome: Outcome, price: Decimal) -> BookOrder:
    """(BUY|SELL, YES|NO, price in the outcome's terms) -> V2 ``side`` and YES ``price``."""
    yes_side = side if outcome is Outcome.YES else side.other
    yes_price = price if outcome is Outcome.YES else ONE - price
    return BookOrder("bid" if yes_side is Side.BUY else "ask", yes_price)


def from_book(book_side: str, yes_price: Decimal, outcome: Outcome) -> tuple[Side, Decimal]:
    """The inverse of ``to_book`` for a known outcome frame."""
    yes_side = Side.BUY if book_side == "bid" else Side.SELL
    if outcome is Outcome.YES:
        return yes_side, yes_price
    return yes_side.other, ONE - yes_price


def terms_digest(ticker: str, book_side: str, yes_price: Decimal, count: Decimal) -> str:
    """Eight hex digits fixing an order's market, book side, YES price and size."""
    text = f"{ticker}\x00{book_side}\x00{format_price(yes_price)}\x00{format_count(count)}"
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def identity(request: OrderRequest, namespace: str = "") -> str:
    """The ``client_order_id``: derived from the idempotency key (so a retry of the same
    request reuses it and meets the venue's duplicate check), tagged with the intent and
    ending in the digest of the order's terms, so that a lookup can tell this request's
    order from another order under the same key (another journal, another client)."""
    tag = _INTENT_TAGS[(request.side, request.outcome)]
    digest = uuid.uuid5(_NAMESPACE, f"{namespace}\x00{request.idempotency_key}").hex
    book = to_book(request.side, request.outcome, request.limit_price)
    terms = terms_digest(request.market, book.side, book.price, request.quantity)
    return f"{_PREFIX}-{tag}-{digest}-{terms}"


def terms_of(client_order_id: str | None) -> str | None:
    """The terms digest an identity carries (None for identities made without one)."""
    if not client_order_id or intent_of(client_order_id) is None:
        return None
    parts = client_order_id.split("-")
    return parts[3] if len(parts) == 4 and len(parts[3]) == 8 else None


def record_terms(payload: Mapping[str, Any]) -> str:
    """The terms digest of a venue order record (its original size: ``initial_count_fp``
    survives a decrease)."""
    yes_price = field_decimal(payload, "yes_price_dollars")
    if yes_price is None:
        yes_price = ONE - field_decimal(payload, "no_price_dollars")
    return terms_digest(
        str(payload["ticker"]),
        _book_side(payload),
        yes_price,
        field_decimal(payload, "initial_count_fp"),
    )


def intent_of(client_order_id: str | None) -> tuple[Side, Outcome] | None:
    """The (side, outcome) an arbexec ``client_order_id`` was made for, else None."""
    if not client_order_id:
        return None
    parts = client_order_id.split("-", 2)
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    return _TAG_INTENTS.get(parts[1])


def frame_of(client_order_id: str | None, book_side: str) -> Outcome:
    """The outcome frame to report an order in: the one asked for, else the YES book."""
    intent = intent_of(client_order_id)
    return intent[1] if intent else Outcome.YES


# ---------------------------------------------------------------------------- parsing


def _outcome_price(yes_price: Decimal | None, outcome: Outcome) -> Decimal | None:
    if yes_price is None:
        return None
    return yes_price if outcome is Outcome.YES else ONE - yes_price


def _book_side(payload: Mapping[str, Any]) -> str:
    side = payload.get("book_side")
    if side in ("bid", "ask"):
        return str(side)
    outcome_side = payload.get("outcome_side")  # bid == yes, ask == no
    if outcome_side in ("yes", "no"):
        return "bid" if outcome_side == "yes" else "ask"
    raise ValueError("Kalshi record has neither book_side nor outcome_side")


def _time(payload: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = payload.get(name)
        if value in (None, "", 0):
            continue
        if name.endswith("_ms"):
            return utc_datetime(Decimal(value) / 1000)
        return utc_datetime(value)
    return now_utc()


def parse_fill(payload: Mapping[str, Any], outcome: Outcome) -> Fill:
    """A REST ``/portfolio/fills`` entry or WS ``fill`` frame, priced in ``outcome`` terms."""
    yes_price = field_decimal(payload, "yes_price_dollars")
    if yes_price is None and payload.get("no_price_dollars") is not None:
        yes_price = ONE - field_decimal(payload, "no_price_dollars")
    price = _outcome_price(yes_price, outcome)
    return Fill(
        trade_id=str(payload.get("fill_id") or payload.get("trade_id")),
        quantity=field_decimal(payload, "count_fp"),
        price=price,
        fee=field_decimal(payload, "fee_cost", ZERO),
        liquidity=Liquidity.TAKER if payload.get("is_taker", True) else Liquidity.MAKER,
        timestamp=_time(payload, "ts_ms", "created_time", "ts"),
    )


def order_status(
    status: str, filled: Decimal, remaining: Decimal, payload: Mapping[str, Any]
) -> OrderStatus:
    if status == "resting":
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
    if status == "executed" or (remaining == 0 and filled > 0 and status != "canceled"):
        return OrderStatus.FILLED
    if status == "canceled":
        expiry = payload.get("expiration_time") or payload.get("expiration_ts_ms")
        updated = payload.get("last_update_time") or payload.get("last_updated_ts_ms")
        if expiry and updated:
            exp_dt = _time(payload, "expiration_ts_ms", "expiration_time")
            upd_dt = _time(payload, "last_updated_ts_ms", "last_update_time")
            if upd_dt >= exp_dt:
                return OrderStatus.EXPIRED
        return OrderStatus.CANCELLED
    if status == "pending":
        return OrderStatus.PENDING
    return OrderStatus.UNKNOWN


def parse_order(payload: Mapping[str, Any], fills: Sequence[Fill] = ()) -> OrderState:
    """A REST ``Order`` or WS ``user_order`` as an ``OrderState`` in the user's frame."""
    client_order_id = payload.get("client_order_id") or None
    book_side = _book_side(payload)
    intent = intent_of(client_order_id)
    outcome = intent[1] if intent else Outcome.YES
    yes_price = field_decimal(payload, "yes_price_dollars")
    if yes_price is None and payload.get("no_price_dollars") is not None:
        yes_price = ONE - field_decimal(payload, "no_price_dollars")
    side, limit_price = from_book(book_side, yes_price, outcome)
    filled = field_decimal(payload, "fill_count_fp", ZERO)
    remaining = field_decimal(payload, "remaining_count_fp", ZERO)
    initial = field_decimal(payload, "initial_count_fp", None)
    status_text = str(payload.get("status", ""))
    # a live order's size is what can still fill plus what did: ``initial_count_fp`` keeps
    # the original size after a decrease, so only finished orders report it
    live = status_text == "resting"
    quantity = (
        filled + remaining if live or initial is None or initial <= 0 else max(initial, filled)
    )
    fees = field_decimal(payload, "taker_fees_dollars", ZERO) + field_decimal(
        payload, "maker_fees_dollars", ZERO
    )
    cost = field_decimal(payload, "taker_fill_cost_dollars", ZERO) + field_decimal(
        payload, "maker_fill_cost_dollars", ZERO
    )
    average = _average_price(fills, filled, cost, book_side, outcome)
    status = order_status(status_text, filled, remaining, payload)
    return OrderState(
        venue=VENUE,
        venue_order_id=str(payload["order_id"]),
        market=str(payload.get("ticker") or payload.get("market_ticker")),
        outcome=outcome,
        side=side,
        status=status,
        quantity=quantity,
        limit_price=limit_price,
        filled_quantity=filled,
        average_price=average,
        fees=fees,
        fills=tuple(fills),
        client_order_id=client_order_id,
        updated_at=_time(payload, "last_updated_ts_ms", "last_update_time", "created_time"),
    )


def _average_price(
    fills: Sequence[Fill], filled: Decimal, cost: Decimal, book_side: str, outcome: Outcome
) -> Decimal | None:
    if fills:
        qty = sum((f.quantity for f in fills), ZERO)
        if qty > 0:
            return sum((f.notional for f in fills), ZERO) / qty
    if filled <= 0 or cost <= 0:
        return None
    # fill costs are what this side paid per contract: YES price for bids, NO price for asks
    paid = cost / filled
    paid_outcome = Outcome.YES if book_side == "bid" else Outcome.NO
    return paid if paid_outcome is outcome else ONE - paid
