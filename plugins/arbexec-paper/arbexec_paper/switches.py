"""Seeded misbehaviour for tests and drills: latency, rejects, ambiguous sends, outages.

The switches are plain attributes so a drill can flip them on a running venue
(``exchange.switches.outage = True``). They draw from their own random stream, so turning
one on never changes the simulated market's path.
"""

from __future__ import annotations

import asyncio
import random

from arbexec.api import VenueUnavailable
from arbexec_paper.config import Realism
from arbexec_paper.sources import market_seed


class Switches:
    def __init__(self, realism: Realism, seed: int, venue: str) -> None:
        self.latency = realism.latency
        self.reject_rate = realism.reject_rate
        self.ambiguous_rate = realism.ambiguous_rate
        self.outage = realism.outage
        self.venue = venue
        self._rng = random.Random(market_seed(seed, "\x00switches"))

    @property
    def active(self) -> bool:
        return bool(self.outage or self.latency[1] or self.reject_rate or self.ambiguous_rate)

    async def network(self) -> None:
        """What every venue call goes through: the configured delay, then the outage check."""
        low, high = self.latency
        if high:
            await asyncio.sleep(low if low == high else self._rng.uniform(low, high))
        if self.outage:
            raise VenueUnavailable(
                f"simulated outage: paper venue {self.venue!r} is unavailable",
                venue=self.venue,
                venue_code="simulated_outage",
            )

    def rejects(self) -> bool:
        return bool(self.reject_rate) and self._rng.random() < self.reject_rate

    def loses_acknowledgement(self) -> bool:
        return bool(self.ambiguous_rate) and self._rng.random() < self.ambiguous_rate
