"""Kalshi's published read and write budgets, as data for the toolkit's token buckets.

Kalshi's 429 carries no Retry-After header, so the plugin waits for tokens before sending
instead of learning the limit by being refused. Costs default to 10 tokens per request.
"""

from __future__ import annotations

from arbexec.api import TokenBucket as TokenBucket  # the toolkit's bucket
from arbexec.api import batch_size as shared_batch_size

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
    return shared_batch_size(bucket, item_cost, MAX_BATCH)


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
