"""Kalshi's market listing (``GET /markets``) as catalogue records.

A market's title and ``yes_sub_title`` name the contract; its rules are ``rules_primary``
and ``rules_secondary``; the resolution source is the series' ``settlement_sources``
(fetched once per series and cached). Kalshi's response status words map onto the
catalogue's vocabulary below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbexec.api import MarketListing, MarketStatus
from arbexec_kalshi.grid import PriceGrid
from arbexec_kalshi.markets import series_of

#: ``GET /markets`` serves at most 1000 markets a page (protocol notes section 7).
MAX_PAGE = 1000
STATUSES = {
    "initialized": MarketStatus.UNOPENED,
    "unopened": MarketStatus.UNOPENED,
    "active": MarketStatus.OPEN,
    "open": MarketStatus.OPEN,
    "inactive": MarketStatus.PAUSED,
    "paused": MarketStatus.PAUSED,
    "closed": MarketStatus.CLOSED,
    "determined": MarketStatus.SETTLED,
    "disputed": MarketStatus.SETTLED,
    "amended": MarketStatus.SETTLED,
    "finalized": MarketStatus.SETTLED,
    "settled": MarketStatus.SETTLED,
}


def sources_text(series: Mapping[str, Any] | None) -> str:
    """The series' settlement sources as ``name (url)``, joined: what the rules cite."""
    found = []
    for source in (series or {}).get("settlement_sources") or ():
        if isinstance(source, Mapping):
            name, url = str(source.get("name") or ""), str(source.get("url") or "")
            found.append(f"{name} ({url})" if name and url else name or url)
    return "; ".join(s for s in found if s)


def listing(venue: str, market: Mapping[str, Any],
            series: Mapping[str, Any] | None) -> MarketListing:
    ticker = str(market["ticker"])
    grid = PriceGrid.from_market(market)
    rules = "\n\n".join(str(market.get(k) or "") for k in ("rules_primary", "rules_secondary"))
    raw_status = str(market.get("status") or "")
    return MarketListing(
        venue=venue,
        market=ticker,
        title=str(market.get("title") or ticker),
        question=str(market.get("subtitle") or ""),
        outcomes=(str(market.get("yes_sub_title") or "Yes"),
                  str(market.get("no_sub_title") or "No")),
        event=market.get("event_ticker") or None,
        series=(series or {}).get("ticker") or series_of(ticker),
        close_time=market.get("close_time") or None,
        expiration_time=market.get("latest_expiration_time") or market.get(
            "expiration_time") or None,
        resolution_time=market.get("expected_expiration_time") or market.get(
            "expiration_time") or None,
        resolution_source=sources_text(series),
        rules=rules.strip(),
        tick_size=grid.tick_size,
        price_grid=str(market.get("price_level_structure") or ""),
        status=STATUSES.get(raw_status, MarketStatus.UNKNOWN),
        venue_status=raw_status,
        volume=market.get("volume_fp"),
        updated_at=market.get("updated_time") or None,
        extra={k: str(market[k]) for k in ("open_interest_fp", "strike_type", "floor_strike",
                                            "cap_strike", "market_type") if k in market},
    )
