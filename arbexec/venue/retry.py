"""Read retries: jittered exponential backoff that honours a capped ``Retry-After``.

Only reads are retried (a read changes nothing at the venue); writes follow the send-once
rule in ``delivery``. A read is tried again after ``RateLimited`` (429),
``VenueUnavailable`` (5xx) and ``NetworkError`` (no answer). The wait is the venue's
``Retry-After`` when it gave one, else ``min(max_backoff, first_wait * 2**n)`` scaled by a
random factor in ``[1 - jitter, 1]`` so that many clients refused together do not return
together. A ``Retry-After`` longer than ``max_retry_wait`` (or unreadable, infinite,
negative) never turns into a hang: a longer one ends the read with ``RateLimited`` saying
so, an unreadable one falls back to the backoff.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from attrs import field, frozen

from arbexec.errors import ExchangeError, NetworkError, RateLimited, VenueUnavailable

T = TypeVar("T")
#: The failures of a read worth another attempt.
RETRYABLE: tuple[type[ExchangeError], ...] = (RateLimited, VenueUnavailable, NetworkError)


def retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), when finite and not
    negative; else None (absent, unreadable, ``inf``, ``nan``, negative)."""
    value = headers.get("Retry-After")
    if value is None or len(value) > 64:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@frozen(kw_only=True)
class ReadRetry:
    """How a read is retried: ``attempts`` in all (1 = no retry)."""

    attempts: int = 4
    first_wait: float = 0.25
    max_backoff: float = 4.0
    #: longest ``Retry-After`` a read waits for; a longer one ends the read
    max_retry_wait: float = 10.0
    #: fraction of each backoff that is random (0 = fixed waits)
    jitter: float = 0.5
    random: Callable[[], float] = field(default=random.random, repr=False, eq=False)

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1 for the first) without a Retry-After."""
        base = min(self.max_backoff, self.first_wait * (2 ** (retry - 1)))
        return base * (1 - self.jitter * self.random())

    def wait_for(self, error: ExchangeError, retry: int) -> float:
        """The wait before retry ``retry`` after ``error``; raises ``RateLimited`` when the
        venue asks for longer than ``max_retry_wait``."""
        asked = error.retry_after if isinstance(error, RateLimited) else None
        if asked is None:
            return min(self.backoff(retry), self.max_retry_wait)
        if asked > self.max_retry_wait:
            raise RateLimited(
                f"{error}; the venue asks to wait {asked:g} s, more than max_retry_wait "
                f"({self.max_retry_wait:g} s)",
                retry_after=asked,
                venue=error.venue,
                venue_code=error.venue_code,
                venue_message=error.venue_message,
                http_status=error.http_status,
            ) from None
        return asked


async def with_read_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: ReadRetry,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    retryable: tuple[type[ExchangeError], ...] = RETRYABLE,
    final: tuple[type[ExchangeError], ...] = (),
    on_retry: Callable[[ExchangeError, int], object] | None = None,
) -> T:
    """``await attempt()`` until it succeeds, fails with an error that is not
    ``retryable`` (or is ``final``), or the attempts are spent (the last error raised).
    ``attempt`` raises arbexec errors: transport failures already mapped."""
    retry = 0
    while True:
        try:
            return await attempt()
        except retryable as error:
            if isinstance(error, final) or retry + 1 >= policy.attempts:
                raise
            retry += 1
            wait = policy.wait_for(error, retry)
            if on_retry is not None:
                on_retry(error, retry)
            await sleep(wait)
