"""Kalshi's bid-only ladders folded onto the core's YES book.

Kalshi publishes YES bids and NO bids only. A NO bid at q is a YES offer at 1 - q, so the
best YES ask is 1 - the best NO bid, with that bid's size. An empty side means no ask on
the other outcome (an empty list, never a price of 0 or 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from arbexec.api import ONE, OrderBook, PriceLevel
from arbexec_kalshi.numbers import parse_decimal


def _levels(raw: Iterable[Any] | None, name: str) -> dict[Decimal, Decimal]:
    out: dict[Decimal, Decimal] = {}
    for level in raw or ():
        price = parse_decimal(level[0], f"{name}.price")
        size = parse_decimal(level[1], f"{name}.size")
        if size > 0:
            out[price] = out.get(price, Decimal(0)) + size
    return out


def yes_book_from_ladders(
    yes_bids: Mapping[Decimal, Decimal],
    no_side: Mapping[Decimal, Decimal],
    *,
    market: str,
    no_side_on_yes_scale: bool = False,
    tick_size: Decimal | None = None,
    timestamp: Any = None,
) -> OrderBook:
    """Build the YES book. ``no_side_on_yes_scale`` is the websocket ``use_yes_price`` mode,
    where the NO ladder is already quoted as YES asks."""
    bids = [PriceLevel(price=p, size=s) for p, s in sorted(yes_bids.items(), reverse=True)]
    asks_map = dict(no_side) if no_side_on_yes_scale else {ONE - q: s for q, s in no_side.items()}
    asks = [PriceLevel(price=p, size=s) for p, s in sorted(asks_map.items())]
    extra = {} if timestamp is None else {"timestamp": timestamp}
    return OrderBook(
        venue="kalshi", market=market, bids=bids, asks=asks, tick_size=tick_size, **extra
    )


def parse_rest_orderbook(
    payload: Mapping[str, Any], market: str, *, tick_size: Decimal | None = None
) -> OrderBook:
    """``GET /markets/{ticker}/orderbook``: the 2026 ``orderbook_fp`` shape, or the legacy
    integer-cent ``orderbook`` shape for old recordings."""
    if "orderbook_fp" in payload:
        book = payload["orderbook_fp"] or {}
        return yes_book_from_ladders(
            _levels(book.get("yes_dollars"), "yes_dollars"),
            _levels(book.get("no_dollars"), "no_dollars"),
            market=market,
            tick_size=tick_size,
        )
    legacy = payload.get("orderbook") or {}
    cents = Decimal(100)
    yes = {Decimal(p) / cents: Decimal(s) for p, s in legacy.get("yes") or () if s}
    no = {Decimal(p) / cents: Decimal(s) for p, s in legacy.get("no") or () if s}
    return yes_book_from_ladders(yes, no, market=market, tick_size=tick_size)


def parse_ws_snapshot(
    msg: Mapping[str, Any], market: str, *, use_yes_price: bool = False
) -> OrderBook:
    """A websocket ``orderbook_snapshot`` payload, in either price convention."""
    return yes_book_from_ladders(
        _levels(msg.get("yes_dollars_fp"), "yes_dollars_fp"),
        _levels(msg.get("no_dollars_fp"), "no_dollars_fp"),
        market=market,
        no_side_on_yes_scale=use_yes_price,
    )
