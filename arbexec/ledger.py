"""The exposure ledger: money at risk per scope, with all-or-none reservations.

The interface is async so that a shared implementation (several engines on one account,
backed by Redis with a check-and-reserve script) can stand behind it unchanged. The
in-memory ledger here serves one engine; it is rebuilt from the journal at start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from attrs import define, field

from arbexec.risk.base import Claim

ZERO = Decimal(0)


@runtime_checkable
class ExposureLedger(Protocol):
    async def exposure(self, key: str) -> Decimal:
        """Money at risk under ``key`` (positions plus reservations)."""
        ...

    async def try_reserve(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        """Reserve every claim for ``holder`` or none. Returns the first claim that would
        take its key past its limit (nothing reserved), or None when all were granted."""
        ...

    async def settle(self, holder: str, amount: Decimal) -> None:
        """The holder's order is final: its reservation becomes ``amount`` of standing
        exposure (money at risk in the filled position; negative for a closing sell)."""
        ...

    async def release(self, holder: str) -> None:
        """Drop the holder's reservation (denied before sending, or rejected)."""
        ...

    async def adjust(self, keys: Sequence[str], amount: Decimal) -> None:
        """Change standing exposure under ``keys`` by ``amount`` (negative when a sell
        closes contracts held), never below zero."""
        ...


@define
class InMemoryLedger:
    """One engine's ledger. Sync underneath: atomic with respect to the event loop."""

    _totals: defaultdict[str, Decimal] = field(factory=lambda: defaultdict(Decimal))
    _holds: dict[str, tuple[tuple[str, Decimal], ...]] = field(factory=dict)

    def exposure_now(self, key: str) -> Decimal:
        return self._totals.get(key, ZERO)

    async def exposure(self, key: str) -> Decimal:
        return self._totals.get(key, ZERO)

    def reserve_now(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        totals = self._totals
        pending: dict[str, Decimal] = {}
        for claim in claims:
            after = totals.get(claim.key, ZERO) + pending.get(claim.key, ZERO) + claim.amount
            if claim.amount > 0 and after > claim.limit:
                return claim
            pending[claim.key] = pending.get(claim.key, ZERO) + claim.amount
        if holder in self._holds:
            self.release_now(holder)
        for key, amount in pending.items():
            totals[key] += amount
        self._holds[holder] = tuple(pending.items())
        return None

    async def try_reserve(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        return self.reserve_now(holder, claims)

    def release_now(self, holder: str) -> None:
        for key, amount in self._holds.pop(holder, ()):
            self._totals[key] -= amount

    async def release(self, holder: str) -> None:
        self.release_now(holder)

    def settle_now(self, holder: str, amount: Decimal) -> None:
        held = self._holds.pop(holder, ())
        for key, reserved in held:
            self._totals[key] = max(self._totals[key] - reserved + amount, ZERO)

    def adjust_now(self, keys: Sequence[str], amount: Decimal) -> None:
        for key in keys:
            self._totals[key] = max(self._totals.get(key, ZERO) + amount, ZERO)

    async def adjust(self, keys: Sequence[str], amount: Decimal) -> None:
        self.adjust_now(keys, amount)

    async def settle(self, holder: str, amount: Decimal) -> None:
        self.settle_now(holder, amount)

    def restore(self, holder: str, keys: Iterable[str], amount: Decimal) -> None:
        """Rebuild a reservation at start from the journal (limits were checked then)."""
        pending = tuple((key, amount) for key in keys)
        for key, value in pending:
            self._totals[key] += value
        self._holds[holder] = pending


def scope_keys(venue: str, market: str, event: str | None = None) -> list[str]:
    """The standard exposure scopes of one order, widest first. A market with no known
    event is its own event (as the ``max_exposure`` rule counts it)."""
    return ["total", f"venue:{venue}", f"event:{venue}:{event or market}",
            f"market:{venue}:{market}"]
