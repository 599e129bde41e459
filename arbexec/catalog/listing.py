"""One market as a venue's catalogue lists it, and one page of such a listing.

This is what a venue plugin returns from the optional ``list_markets`` capability
(``Capabilities.list_markets``): the fields cross-venue matching needs, in core units
(times aware UTC, the tick size a ``Decimal``), with the venue's own extras in ``extra``.
A listing is paged by an opaque ``cursor`` the venue hands back; ``None`` means the last
page. The catalogue keeps the cursor, so an interrupted sync resumes where it stopped.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from arbexec.model import optional_datetime


class MarketStatus(enum.StrEnum):
    """The catalogue's status vocabulary; each venue maps its own words onto it."""

    UNOPENED = "unopened"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"  # trading stopped, not yet resolved
    SETTLED = "settled"  # resolved
    UNKNOWN = "unknown"


def _outcomes(value: Any) -> tuple[str, ...]:
    labels = tuple(str(v) for v in (value or ("Yes", "No")))
    return labels if labels else ("Yes", "No")


def _optional_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


@frozen(kw_only=True)
class MarketListing:
    """A venue's market, as matching and review need it.

    ``market`` is the id an order request uses on that venue. ``outcomes`` are the venue's
    labels in order, the first being the one an order's YES buys (Polymarket's first token,
    Kalshi's ``yes_sub_title``). ``group`` is the venue's grouping of mutually exclusive
    markets (Polymarket's neg-risk market id, Kalshi's event when mutually exclusive).
    """

    venue: str
    market: str
    title: str
    question: str = ""
    outcomes: tuple[str, ...] = field(default=("Yes", "No"), converter=_outcomes)
    event: str | None = None
    event_title: str = ""
    series: str | None = None
    close_time: datetime | None = field(default=None, converter=optional_datetime)
    expiration_time: datetime | None = field(default=None, converter=optional_datetime)
    resolution_time: datetime | None = field(default=None, converter=optional_datetime)
    resolution_source: str = ""
    rules: str = ""
    tick_size: Decimal | None = field(default=None, converter=_optional_decimal)
    price_grid: str = ""  # the venue's name for its price ladder, e.g. "linear_cent"
    neg_risk: bool = False
    group: str | None = None
    status: MarketStatus = field(default=MarketStatus.UNKNOWN, converter=MarketStatus)
    venue_status: str = ""
    volume: Decimal | None = field(default=None, converter=_optional_decimal)
    liquidity: Decimal | None = field(default=None, converter=_optional_decimal)
    updated_at: datetime | None = field(default=None, converter=optional_datetime)
    extra: Mapping[str, Any] = field(factory=dict, eq=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.market}"

    @property
    def text(self) -> str:
        """Everything a person reads as the contract's name."""
        parts = [self.event_title, self.title, self.question]
        return " ".join(p for p in dict.fromkeys(parts) if p)

    @property
    def rules_digest(self) -> str:
        """A short digest of the rules text, to notice that a reviewed market changed."""
        text = " ".join(self.rules.split())
        return hashlib.sha256(text.encode()).hexdigest()[:16] if text else ""


@frozen
class MarketPage:
    """One page of a venue's listing; ``cursor`` asks for the next one (None: no more)."""

    markets: tuple[MarketListing, ...]
    cursor: str | None = None
