"""Clocks: the venue reads time through one callable so tests and drills can step it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

#: A clock returns unix seconds. ``time.time`` in production, a ``ManualClock`` in tests.
Clock = Callable[[], float]

system_clock: Clock = time.time


class ManualClock:
    """A clock that only moves when told to: makes expiry and time-driven steps exact."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self.now += seconds


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
