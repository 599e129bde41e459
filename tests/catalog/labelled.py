"""The labelled candidate pairs (data/labelled_pairs.json) as venue answers and listings.

Each Polymarket side becomes a Gamma ``/markets`` record and each Kalshi side a
``GET /markets`` record with its series, in the venues' real shapes, and both go through
the plugins' own catalogue parsers: the matcher is measured on what a sync would store.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from arbexec_kalshi import catalog as kalshi_catalog
from arbexec_polymarket import catalog as polymarket_catalog

from arbexec.catalog.listing import MarketListing

DATA = Path(__file__).parent / "data" / "labelled_pairs.json"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def gamma_market(index: int, side: dict[str, Any], close: str) -> dict[str, Any]:
    """A Gamma ``/markets`` record as the API serves it (outcomes and token ids as JSON
    strings, numbers as numbers)."""
    digest = hashlib.sha256(f"p{index}{side['q']}".encode()).hexdigest()
    question = side["q"]
    return {
        "id": str(500000 + index), "question": question, "conditionId": "0x" + digest,
        "slug": "-".join(question.lower().split())[:60], "endDate": close,
        "startDate": "2026-09-01T00:00:00Z", "description": side.get("d", ""),
        "resolutionSource": side.get("src", ""),
        "outcomes": json.dumps(side.get("o", ["Yes", "No"])),
        "outcomePrices": json.dumps(["0.5", "0.5"]),
        "clobTokenIds": json.dumps([str(int(digest[:16], 16)), str(int(digest[16:32], 16))]),
        "volumeNum": 125000.5, "liquidityNum": 8200.25, "active": True, "closed": False,
        "archived": False, "acceptingOrders": True, "negRisk": "g" in side,
        "negRiskMarketID": ("0x" + hashlib.sha256(side.get("g", "").encode()).hexdigest())
        if "g" in side else None,
        "groupItemTitle": side.get("g", ""), "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5, "updatedAt": "2026-11-30T12:00:00Z",
        "events": [{"id": str(90000 + index), "title": question, "slug": f"event-{index}"}],
    }


def kalshi_market(index: int, side: dict[str, Any], close: str) -> dict[str, Any]:
    """A ``GET /markets`` record in kalshi-python-sync 3.34.0's Market shape."""
    closes = datetime.fromisoformat(side.get("close") or close).replace(tzinfo=None)
    if "close" not in side:
        closes += timedelta(hours=5)
    series = f"KXLAB{index:02d}"
    ticker = f"{series}-26DEC31-T{index}"
    return {
        "ticker": ticker, "event_ticker": f"{series}-26DEC31", "market_type": "binary",
        "title": side["t"], "subtitle": "", "yes_sub_title": side.get("y", "Yes"),
        "no_sub_title": side.get("n", side.get("y", "No")),
        "created_time": "2026-09-01T00:00:00Z", "updated_time": "2026-11-30T12:00:00Z",
        "open_time": "2026-09-01T00:00:00Z", "close_time": _iso(closes),
        "expected_expiration_time": _iso(closes + timedelta(hours=1)),
        "latest_expiration_time": _iso(closes + timedelta(days=7)),
        "settlement_timer_seconds": 300, "status": "active",
        "yes_bid_dollars": "0.4500", "yes_bid_size_fp": "120.00", "yes_ask_dollars": "0.4700",
        "yes_ask_size_fp": "80.00", "no_bid_dollars": "0.5300", "no_ask_dollars": "0.5500",
        "last_price_dollars": "0.4600", "volume_fp": "48211.00", "volume_24h_fp": "1200.00",
        "result": "", "can_close_early": True, "open_interest_fp": "9100.00",
        "notional_value_dollars": "1.0000", "previous_yes_bid_dollars": "0.4400",
        "previous_yes_ask_dollars": "0.4800", "previous_price_dollars": "0.4500",
        "settlement_bounds_type": "default", "expiration_value": "",
        "rules_primary": side.get("r", ""), "rules_secondary": "",
        "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
    }


def kalshi_series(index: int, side: dict[str, Any]) -> dict[str, Any]:
    sources = [{"name": side["src"], "url": ""}] if side.get("src") else []
    return {"ticker": f"KXLAB{index:02d}", "frequency": "custom", "title": side["t"],
            "category": "Economics", "categories": ["Economics"], "tags": [],
            "settlement_sources": sources, "contract_url": "https://kalshi.com/",
            "contract_terms_url": "https://kalshi.com/", "fee_type": "quadratic",
            "fee_multiplier": 1, "additional_prohibitions": []}


def raw_pairs() -> list[dict[str, Any]]:
    return list(json.loads(DATA.read_text(encoding="utf-8"))["pairs"])


def labelled() -> list[tuple[MarketListing, MarketListing, str, str]]:
    """(polymarket listing, kalshi listing, label, why) for every labelled pair."""
    out = []
    for i, entry in enumerate(raw_pairs()):
        a = polymarket_catalog.listing("polymarket", gamma_market(i, entry["p"], entry["close"]))
        b = kalshi_catalog.listing("kalshi", kalshi_market(i, entry["k"], entry["close"]),
                                   kalshi_series(i, entry["k"]))
        out.append((a, b, entry["label"], entry.get("why", "")))
    return out
