"""Polymarket's market listing (Gamma ``GET /markets``, offset paging) as catalogue records.

Gamma pages by ``limit`` and ``offset`` (ordered by id so the pages do not shift while
new markets are listed); the catalogue's cursor is the next offset, less an overlap that
covers markets closing (and leaving the listing) during the pass. A market's id for
orders is its condition id; its outcome labels come in Gamma's order, the first being what
an order's YES buys (``markets.py``). ``description`` carries the rules text and
``resolutionSource`` the source, when the market names one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from arbexec.api import MarketListing, MarketStatus

#: Gamma serves at most 500 markets a page.
MAX_PAGE = 500


def overlap(page: int) -> int:
    """How many markets of a full page the next page reads again (one in twenty): up to that
    many markets may close between two pages without shifting an open one past the
    listing's offsets unread (the sync would then take it for closed)."""
    return page // 20


def _labels(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def status_of(market: Mapping[str, Any]) -> MarketStatus:
    if _flag(market.get("closed")):
        return MarketStatus.CLOSED
    if _flag(market.get("archived")):
        return MarketStatus.CLOSED
    if not _flag(market.get("active", True)):
        return MarketStatus.UNOPENED
    if not _flag(market.get("acceptingOrders", True)):
        return MarketStatus.PAUSED
    return MarketStatus.OPEN


def listing(venue: str, market: Mapping[str, Any]) -> MarketListing:
    condition = str(market.get("conditionId") or "")
    if not condition:
        raise ValueError(f"Gamma market {market.get('id')!r} has no conditionId")
    events = market.get("events") or []
    event = events[0] if isinstance(events, list) and events and isinstance(
        events[0], Mapping) else {}
    neg_risk = _flag(market.get("negRisk", False))
    tick = market.get("orderPriceMinTickSize")
    return MarketListing(
        venue=venue,
        market=condition,
        title=str(market.get("question") or market.get("slug") or condition),
        question=str(market.get("groupItemTitle") or ""),
        outcomes=_labels(market.get("outcomes")) or ("Yes", "No"),
        event=str(event.get("id")) if event.get("id") is not None else None,
        event_title=str(event.get("title") or ""),
        series=str(market.get("seriesSlug") or event.get("seriesSlug") or "") or None,
        close_time=market.get("endDate") or None,
        resolution_time=market.get("umaEndDate") or market.get("endDate") or None,
        resolution_source=str(market.get("resolutionSource") or event.get(
            "resolutionSource") or ""),
        rules=str(market.get("description") or ""),
        tick_size=None if tick in (None, "") else str(tick),
        price_grid="",
        neg_risk=neg_risk,
        group=str(market.get("negRiskMarketID") or "") or None if neg_risk else None,
        status=status_of(market),
        venue_status="closed" if _flag(market.get("closed")) else (
            "active" if _flag(market.get("active", True)) else "inactive"),
        volume=market.get("volumeNum") if market.get("volumeNum") is not None else None,
        liquidity=market.get("liquidityNum") if market.get(
            "liquidityNum") is not None else None,
        updated_at=market.get("updatedAt") or None,
        extra={"id": str(market.get("id", "")), "slug": str(market.get("slug") or ""),
               "clobTokenIds": list(_labels(market.get("clobTokenIds")))},
    )
