"""Recent outcomes per venue, kept by the engine for circuit breakers and rate limits."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from attrs import define, field

from arbexec.risk.base import VenueHealth


@define
class HealthTracker:
    """Per-venue counters the breaker and rate rules read, kept O(1) per order."""

    consecutive_failures: int = 0
    outcomes: deque[tuple[float, bool]] = field(factory=deque)  # (time, rejected)
    rejects: int = 0  # rejected entries in ``outcomes``
    sends: deque[float] = field(factory=deque)  # last minute
    recent_sends: deque[float] = field(factory=deque)  # last second
    unknown: int = 0

    def record_outcome(self, now: float, rejected: bool) -> None:
        self.outcomes.append((now, rejected))
        self.rejects += rejected

    def record_send(self, now: float) -> None:
        self.sends.append(now)
        self.recent_sends.append(now)

    def snapshot(self, now: float, window: float) -> VenueHealth:
        outcomes = self.outcomes
        while outcomes and now - outcomes[0][0] > window:
            self.rejects -= outcomes.popleft()[1]
        sends = self.sends
        while sends and now - sends[0] > 60.0:
            sends.popleft()
        recent = self.recent_sends
        while recent and now - recent[0] > 1.0:
            recent.popleft()
        return VenueHealth(
            consecutive_failures=self.consecutive_failures,
            recent_outcomes=len(outcomes),
            recent_rejects=self.rejects,
            unknown_count=self.unknown,
            orders_last_second=len(recent),
            orders_last_minute=len(sends),
        )


@define
class HealthBook:
    """One ``HealthTracker`` per venue, made on first use. ``clock`` (monotonic seconds)
    times sends and outcomes; tests drive it with the ledger's, so rate windows move
    together."""

    clock: Callable[[], float] = time.monotonic
    _venues: dict[str, HealthTracker] = field(factory=dict)

    def of(self, venue: str) -> HealthTracker:
        health = self._venues.get(venue)
        if health is None:
            health = self._venues[venue] = HealthTracker()
        return health
