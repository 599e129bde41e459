"""Fresh books for the scanner: streamed where the venue offers it, polled otherwise.

A venue plugin may offer ``watch_order_book(market)``, an async iterator of that market's
books as the venue publishes them (None or absent: no stream). The feed keeps the latest
book of every watched market with the moment it arrived; a market without a live stream,
or whose streamed book is older than half the staleness bound, is polled on each refresh.
A book older than ``max_age`` seconds is stale: the scanner reports it and does not trade
on it (the executor reads the books again before it sends anything, in any case).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping

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
        self._streams: dict[Market, asyncio.Task[None]] = {}

    # ------------------------------------------------------------------ streams

    def start_streams(self, markets: Iterable[Market]) -> int:
        """Follow the book stream of every market whose venue offers one; how many."""
        for key in markets:
            venue = self.venues.get(key[0])
            watch = getattr(venue, "watch_order_book", None)
            if key in self._streams or watch is None:
                continue
            stream = watch(key[1])
            if stream is None:
                continue
            self._streams[key] = asyncio.create_task(self._follow(key, stream))
        return len(self._streams)

    async def _follow(self, key: Market, stream: AsyncIterator[OrderBook]) -> None:
        try:
            async for book in stream:
                rules = self._rules.get(key)
                if rules is None:
                    rules = self._rules[key] = await self.venues[key[0]].market_rules(key[1])
                self._latest[key] = FreshBook(book=book, rules=rules, received=self.clock(),
                                              source="stream")
        except (ArbexecError, ExchangeError) as exc:
            log.warning("book stream of %s %s ended: %s; polling instead", *key, exc)
        finally:
            self._streams.pop(key, None)

    # ------------------------------------------------------------------ polling

    async def refresh(self, markets: Iterable[Market], *, force: bool = False) -> None:
        """Poll every market that has no fresh streamed book (``force``: every one), all
        at once."""
        wanted = [key for key in dict.fromkeys(markets) if force or self._needs_poll(key)]
        await asyncio.gather(*(self._poll(key) for key in wanted))

    def _needs_poll(self, key: Market) -> bool:
        latest = self._latest.get(key)
        if key not in self._streams or latest is None:
            return True
        return self.clock() - latest.received > self.max_age / 2

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
        tasks = list(self._streams.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


__all__ = ["BookFeed", "FreshBook", "Market", "Unavailable"]
