"""Fresh books for the scanner: streamed where the venue offers it, polled otherwise.

A venue plugin may offer the optional ``latest_book(market) -> StreamedBook | None``, the
book its stream keeps (the same capability the arbitrage executor uses; docs/arbitrage.md).
On each refresh the feed takes that book when it is no older than half the staleness bound,
and reads the book (``fetch_order_book``) otherwise. A book older than ``max_age`` seconds
is stale: the scanner reports it and does not trade on it (the executor checks the books
again before it sends anything, in any case).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from attrs import frozen

from arbexec.errors import ArbexecError, ExchangeError
from arbexec.exchange import Exchange, MarketRules
from arbexec.model import OrderBook

log = logging.getLogger("arbexec.scanner")

Market = tuple[str, str]  # (venue, market)


@frozen(kw_only=True)
class FreshBook:
    book: OrderBook
    rules: MarketRules
    received: float  # the feed's clock when it arrived
    source: str  # "poll" or "stream"


@frozen(kw_only=True)
class Unavailable:
    """Why a market has no usable book now."""

    code: str  # unknown_venue, venue_error, stale_book
    message: str


class BookFeed:
    def __init__(self, venues: Mapping[str, Exchange], *, max_age: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.venues = venues
        self.max_age = max_age
        self.clock = clock
        self._latest: dict[Market, FreshBook] = {}
        self._rules: dict[Market, MarketRules] = {}
        self._errors: dict[Market, Unavailable] = {}

    # ------------------------------------------------------------------ polling

    async def refresh(self, markets: Iterable[Market], *, force: bool = False) -> None:
        """Poll every market that has no fresh streamed book (``force``: every one), all
        at once."""
        wanted = [key for key in dict.fromkeys(markets) if force or self._needs_poll(key)]
        await asyncio.gather(*(self._poll(key) for key in wanted))

    def _needs_poll(self, key: Market) -> bool:
        return self._streamed(key) is None

    def _streamed(self, key: Market) -> FreshBook | None:
        """The venue's streamed book when it is at most half the bound old (and note it)."""
        venue = self.venues.get(key[0])
        latest = getattr(venue, "latest_book", None)
        rules = self._rules.get(key)
        if rules is None or not callable(latest):
            return None
        streamed = latest(key[1])
        if streamed is None:
            return None
        age = max(0.0, time.monotonic() - streamed.received_at)  # the capability's clock
        if age > self.max_age / 2:
            return None
        fresh = FreshBook(book=streamed.book, rules=rules, received=self.clock() - age,
                          source="stream")
        self._latest[key] = fresh
        self._errors.pop(key, None)
        return fresh

    async def _poll(self, key: Market) -> None:
        venue_name, market = key
        venue = self.venues.get(venue_name)
        if venue is None:
            self._errors[key] = Unavailable(
                code="unknown_venue", message=f"venue {venue_name!r} is not configured; "
                f"configured venues: {', '.join(sorted(self.venues)) or 'none'}")
            return
        try:
            rules = self._rules.get(key)
            if rules is None:
                rules = self._rules[key] = await venue.market_rules(market)
            book = await venue.fetch_order_book(market)
        except (ArbexecError, ExchangeError) as exc:
            self._errors[key] = Unavailable(code="venue_error",
                                            message=f"{venue_name} {market}: {exc}")
            return
        self._errors.pop(key, None)
        self._latest[key] = FreshBook(book=book, rules=rules, received=self.clock(),
                                      source="poll")

    # ------------------------------------------------------------------ reading

    def view(self, key: Market) -> FreshBook | Unavailable:
        """The market's latest book if it is fresh, else why there is none."""
        latest = self._latest.get(key)
        error = self._errors.get(key)
        if error is not None and (latest is None or self._age(latest) > self.max_age):
            return error
        if latest is None:
            return Unavailable(code="venue_error", message=f"{key[0]} {key[1]}: no book yet")
        age = self._age(latest)
        if age > self.max_age:
            return Unavailable(code="stale_book", message=f"{key[0]} {key[1]}: the latest "
                               f"book is {age:.1f} s old (bound {self.max_age:g} s)")
        return latest

    def _age(self, fresh: FreshBook) -> float:
        return self.clock() - fresh.received

    def age(self, key: Market) -> float | None:
        latest = self._latest.get(key)
        return None if latest is None else self._age(latest)

    async def aclose(self) -> None:
        """Nothing to stop: streams belong to the venues (kept for the callers' symmetry)."""


__all__ = ["BookFeed", "FreshBook", "Market", "Unavailable"]
