"""Client-side rate limiting: token buckets with per-call costs, each venue's limits as data.

A venue that refuses over-budget calls (Kalshi's 429 carries no ``Retry-After``) is best
not asked: the adapter waits for tokens before sending. A bucket holds ``capacity`` tokens
and refills ``rate`` per second; a call costs ``cost`` tokens (Kalshi prices endpoints
differently, Polymarket counts requests). A cost above the capacity can never be paid (the
venue refuses such a call whole), so ``acquire`` refuses it instead of waiting forever, and
``batch_size`` says how many items fit one call.

A small implementation rather than aiolimiter: aiolimiter's leaky bucket reads the event
loop's clock and sleeps on loop timers, which tests cannot drive without real waiting
(timed assertions are not allowed in tests); this one takes its clock and sleep as
arguments, so every wait is computed and asserted exactly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from attrs import define, field, frozen

_ROUNDING = 1e-9


@define
class TokenBucket:
    """``rate`` tokens per second up to ``capacity``; ``acquire`` waits until it can pay."""

    rate: float
    capacity: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], Awaitable[object]] = field(default=asyncio.sleep, repr=False)
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _lock: asyncio.Lock = field(init=False, factory=asyncio.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.rate <= 0 or self.capacity <= 0:
            raise ValueError("a token bucket needs a positive rate and capacity")
        self._tokens = self.capacity
        self._stamp = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens

    async def acquire(self, cost: float = 1) -> float:
        """Take ``cost`` tokens, waiting as needed; returns the seconds waited. A cost above
        the capacity can never be paid (the venue would refuse the call): ``ValueError``."""
        if cost > self.capacity:
            raise ValueError(
                f"a call costing {cost:g} tokens exceeds the bucket of {self.capacity:g}; "
                "split it (see batch_size)"
            )
        waited = 0.0
        async with self._lock:
            while True:
                self._refill()
                # a hair short after sleeping the exact wait is rounding, not a debt: waiting
                # for it could take sleeps too short to move a float clock (forever)
                if self._tokens >= cost - _ROUNDING * max(1.0, cost):
                    self._tokens -= cost
                    return waited
                delay = (cost - self._tokens) / self.rate
                waited += delay
                await self.sleep(delay)


def batch_size(bucket: TokenBucket | None, item_cost: float, venue_max: int) -> int:
    """How many items one batch call may carry: at most ``venue_max``, and never more
    than the bucket holds (a call costing more is refused by the venue whole)."""
    if bucket is None:
        return venue_max
    return max(1, min(venue_max, int(bucket.capacity // item_cost)))


@frozen
class Window:
    """A published limit: ``calls`` (tokens) per ``seconds``; the bucket holds the burst."""

    calls: float
    seconds: float

    def bucket(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> TokenBucket:
        return TokenBucket(self.calls / self.seconds, self.calls, clock=clock, sleep=sleep)


class RateLimiter:
    """Buckets per route key, built from a venue's published limits (``{key: windows}``).

    ``acquire(key, cost)`` pays every window of ``key`` (burst and sustained) and of the
    ``"*"`` key, if the table has one (a venue-wide limit). Keys not in the table pay only
    ``"*"``."""

    def __init__(
        self,
        limits: Mapping[str, tuple[Window, ...]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.limits = dict(limits)
        self._buckets = {
            key: tuple(w.bucket(clock, sleep) for w in windows) for key, windows in limits.items()
        }

    def buckets(self, key: str) -> tuple[TokenBucket, ...]:
        return self._buckets.get(key, ()) + (self._buckets.get("*", ()) if key != "*" else ())

    async def acquire(self, key: str, cost: float = 1) -> float:
        """Wait until every bucket for ``key`` can pay ``cost``; returns the seconds waited."""
        waited = 0.0
        for bucket in self.buckets(key):
            waited += await bucket.acquire(cost)
        return waited
