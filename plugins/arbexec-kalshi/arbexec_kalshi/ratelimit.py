"""Client-side token buckets mirroring Kalshi's read and write budgets.

Kalshi's 429 carries no Retry-After header, so the plugin waits for tokens before sending
instead of learning the limit by being refused. Costs default to 10 tokens per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from attrs import define, field

DEFAULT_COST = 10
#: Budgets in tokens per second (read, write) per usage tier, in the SDK's tier order
#: (Basic, Advanced, Expert, Premier, Paragon, Prime, Prestige). Expert and Prestige have no
#: published figures: they get the budget of the tier below them (never more than Kalshi
#: grants); set ``read_rate``/``write_rate`` from ``GET /account/limits`` for the real ones.
TIER_BUDGETS = {
    "basic": (200, 100),
    "advanced": (300, 300),
    "expert": (300, 300),
    "premier": (1000, 1000),
    "paragon": (2000, 2000),
    "prime": (4000, 4000),
    "prestige": (4000, 4000),
}
#: V2 create (and each batch-create item) costs the default; cancels are cheaper.
CREATE_COST = DEFAULT_COST
#: Per-endpoint costs seen on the exchange (everything else costs DEFAULT_COST).
CANCEL_COST = 2
GET_ORDER_COST = 2
#: Kalshi's own cap on the orders in one batch call, whatever the budget.
MAX_BATCH = 20


def batch_size(bucket: TokenBucket | None, item_cost: float) -> int:
    """How many items one batch call may carry: a call costing more than the write bucket
    holds is refused by the venue whole, so a batch never exceeds the bucket."""
    if bucket is None:
        return MAX_BATCH
    return max(1, min(MAX_BATCH, int(bucket.capacity // item_cost)))


@define
class TokenBucket:
    """``rate`` tokens per second up to ``capacity``; ``acquire`` waits until it can pay."""

    rate: float
    capacity: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
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

    async def acquire(self, cost: float = DEFAULT_COST) -> float:
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
                if self._tokens >= cost:
                    self._tokens -= cost
                    return waited
                delay = (cost - self._tokens) / self.rate
                waited += delay
                await self.sleep(delay)


def buckets_for(
    tier: str = "basic", read_rate: float | None = None, write_rate: float | None = None
) -> tuple[TokenBucket, TokenBucket]:
    """Read and write buckets for a usage tier, optionally overridden per bucket."""
    try:
        default_read, default_write = TIER_BUDGETS[tier.lower()]
    except KeyError:
        from arbexec.api import ConfigError

        raise ConfigError(
            f"unknown Kalshi usage tier {tier!r}; one of {', '.join(TIER_BUDGETS)}",
            key="tier",
        ) from None
    read = float(read_rate or default_read)
    write = float(write_rate or default_write)
    return TokenBucket(read, read), TokenBucket(write, write)
