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
    """Everything the engine asks of a ledger (nothing else is ever called on one).

    Only ``exposure_now`` is synchronous: rules run synchronously and read it through the
    risk context (a shared ledger answers it from its last known figures; ``try_reserve``
    remains the atomic check against the shared store).
    """

    def exposure_now(self, key: str) -> Decimal:
        """Money at risk under ``key`` as this process last knew it."""
        ...

    async def exposure(self, key: str) -> Decimal:
        """Money at risk under ``key`` (positions plus reservations)."""
        ...

    async def try_reserve(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        """Reserve every claim for ``holder`` or none. Returns the first claim that would
        take its key past its limit (nothing reserved), or None when all were granted."""
        ...

    async def settle(self, holder: str, amount: Decimal, keys: Sequence[str]) -> None:
        """The holder's order is final: its reservation is dropped and ``amount`` (the sum
        of its fills' notionals) becomes standing exposure under ``keys`` and under every
        key the reservation held."""
        ...

    async def release(self, holder: str) -> None:
        """Drop the holder's reservation (denied before sending, or rejected)."""
        ...

    async def adjust(self, keys: Sequence[str], amount: Decimal) -> None:
        """Change standing exposure under ``keys`` by ``amount`` (negative when a sell
        closes contracts held), never below zero."""
        ...

    async def restore(self, holder: str, keys: Sequence[str], amount: Decimal) -> None:
        """Rebuild a live order's reservation at start (its limits were checked when it
        was sent, so none are checked now)."""
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

    async def try_reserve(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        totals = self._totals
        pending: dict[str, Decimal] = {}
        for claim in claims:
            after = totals.get(claim.key, ZERO) + pending.get(claim.key, ZERO) + claim.amount
            if claim.amount > 0 and after > claim.limit:
                return claim
            pending[claim.key] = pending.get(claim.key, ZERO) + claim.amount
        self._drop(holder)
        for key, amount in pending.items():
            totals[key] += amount
        self._holds[holder] = tuple(pending.items())
        return None

    def _drop(self, holder: str) -> tuple[tuple[str, Decimal], ...]:
        held = self._holds.pop(holder, ())
        for key, amount in held:
            self._totals[key] -= amount
        return held

    async def release(self, holder: str) -> None:
        self._drop(holder)

    async def settle(self, holder: str, amount: Decimal, keys: Sequence[str]) -> None:
        held = self._drop(holder)
        if not amount:
            return
        totals = self._totals
        scopes = dict.fromkeys([*keys, *(key for key, _ in held)]) if held else keys
        for key in scopes:
            totals[key] = max(totals.get(key, ZERO) + amount, ZERO)

    async def adjust(self, keys: Sequence[str], amount: Decimal) -> None:
        totals = self._totals
        for key in keys:
            totals[key] = max(totals.get(key, ZERO) + amount, ZERO)

    async def restore(self, holder: str, keys: Iterable[str], amount: Decimal) -> None:
        self._drop(holder)
        pending = tuple((key, amount) for key in keys)
        for key, value in pending:
            self._totals[key] += value
        self._holds[holder] = pending


def scope_keys(venue: str, market: str, event: str | None = None) -> list[str]:
    """The standard exposure scopes of one order, widest first. A market with no known
    event is its own event (as the ``max_exposure`` rule counts it)."""
    return ["total", f"venue:{venue}", f"event:{venue}:{event or market}",
            f"market:{venue}:{market}"]
