"""The exposure ledger: money at risk per scope, and every other counted or spent limit
(open-order slots, rate-window slots, cash, contracts promised to sells), with all-or-none
reservations made in the same step as the risk decision.

The interface is async so that a shared implementation (several engines on one account,
backed by Redis with a check-and-reserve script) can stand behind it unchanged. The
in-memory ledger here serves one engine; it is rebuilt from the journal at start.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from attrs import define, evolve, field, frozen

from arbexec.risk.base import Claim, ClaimKind

ZERO = Decimal(0)


class LedgerUnavailable(Exception):
    """A shared ledger cannot answer (its store is unreachable): no new risk is taken, and
    the request is denied with this reason (nothing was reserved, nothing sent)."""


@runtime_checkable
class ExposureLedger(Protocol):
    """Everything the engine and the pair executor ask of a ledger (nothing else is ever
    called on one), so a shared ledger (several engines on one account) can drop in.

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

    async def try_earmark(self, groups: Mapping[str, Sequence[Claim]]) -> Claim | None:
        """Reserve headroom for several holders as one unit (all or none), before any of
        them is admitted: the legs of a pair. Returns the first breached claim, or None."""
        ...

    async def release_earmark(self, holder: str) -> None:
        """Give back an earmark that will not become a reservation (a leg never sent)."""
        ...

    async def settle(self, holder: str, amount: Decimal, keys: Sequence[str]) -> None:
        """The holder's order is final: its reservation is dropped and ``amount`` (the sum
        of its fills' notionals) becomes standing exposure under ``keys`` and under every
        exposure key the reservation held; holds are given back, window slots stay counted
        until their window ends."""
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


@frozen
class _Held:
    """One key's share of a holder's reservation."""

    key: str
    amount: Decimal
    kind: ClaimKind
    window: float


def merge_claims(claims: Sequence[Claim]) -> dict[str, Claim]:
    """One claim per key: claims of one request on one key state the same money (two rules
    may both hold a sell's contracts), so the largest amount counts, under the tightest
    limit of any of them."""
    merged: dict[str, Claim] = {}
    for claim in claims:
        seen = merged.get(claim.key)
        if seen is None:
            merged[claim.key] = claim
            continue
        tighter = claim if claim.limit < seen.limit else seen
        merged[claim.key] = evolve(tighter, amount=max(seen.amount, claim.amount))
    return merged


@define
class InMemoryLedger:
    """One engine's ledger. Sync underneath: atomic with respect to the event loop.

    Besides reservations it keeps *earmarks*: headroom reserved for orders not admitted yet
    (the legs of an arbitrage pair, reserved as one unit before either is sent). An earmark
    counts against every other holder's reservation but is not part of ``exposure_now`` (so
    a rule's own check of the earmarked order does not see its headroom twice); when the
    earmarked holder reserves, its earmark becomes that reservation.
    """

    clock: Callable[[], float] = time.monotonic
    _totals: defaultdict[str, Decimal] = field(factory=lambda: defaultdict(Decimal))
    _holds: dict[str, tuple[_Held, ...]] = field(factory=dict)
    _earmarks: dict[str, tuple[_Held, ...]] = field(factory=dict)
    _earmarked: defaultdict[str, Decimal] = field(factory=lambda: defaultdict(Decimal))
    #: rate-window slots per key: (expiry, amount, holder), oldest first
    _windows: dict[str, deque[tuple[float, Decimal, str]]] = field(factory=dict)

    def exposure_now(self, key: str) -> Decimal:
        """Held under ``key``: standing exposure, reservations and live window slots."""
        total = self._totals.get(key, ZERO)
        window = self._windows.get(key)
        if window is not None:
            total += self._window_sum(key, window)
        return total

    async def exposure(self, key: str) -> Decimal:
        return self.exposure_now(key)

    def _window_sum(self, key: str, window: deque[tuple[float, Decimal, str]]) -> Decimal:
        now = self.clock()
        while window and window[0][0] <= now:
            window.popleft()
        if not window:
            del self._windows[key]
            return ZERO
        return sum((amount for _, amount, _ in window), ZERO)

    def _breach(self, groups: Mapping[str, Sequence[Claim]]) -> Claim | None:
        """The first claim of ``groups`` (holder -> claims) that would pass its limit when
        all are granted together, each holder's own earlier share not counted twice."""
        pending: dict[str, Decimal] = {}
        for holder, claims in groups.items():
            own: dict[str, Decimal] = {}
            for held in (*self._holds.get(holder, ()), *self._earmarks.get(holder, ())):
                own[held.key] = own.get(held.key, ZERO) + held.amount
            for claim in merge_claims(claims).values():
                key = claim.key
                after = (self.exposure_now(key) + self._earmarked.get(key, ZERO)
                         - own.get(key, ZERO) + pending.get(key, ZERO) + claim.amount)
                if claim.amount > 0 and after > claim.limit:
                    return claim
                pending[key] = pending.get(key, ZERO) + claim.amount - own.pop(key, ZERO)
        return None

    @staticmethod
    def _held(claims: Sequence[Claim]) -> tuple[_Held, ...]:
        return tuple(_Held(key=c.key, amount=c.amount, kind=c.kind, window=c.window_seconds)
                     for c in merge_claims(claims).values())

    def reserve_now(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        breached = self._breach({holder: claims})
        if breached is not None:
            return breached
        self.release_now(holder)
        held = self._held(claims)
        expiry = self.clock()
        for item in held:
            if item.kind is ClaimKind.WINDOW:  # counted from now for the window's length
                self._windows.setdefault(item.key, deque()).append(
                    (expiry + item.window, item.amount, holder))
            else:
                self._totals[item.key] += item.amount
        self._holds[holder] = held
        return None

    async def try_reserve(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        return self.reserve_now(holder, claims)

    def earmark_now(self, groups: Mapping[str, Sequence[Claim]]) -> Claim | None:
        """Reserve headroom for several holders as one unit (all or none): each holder's
        later ``try_reserve`` turns its earmark into its reservation. Returns the first
        claim that would pass its limit (nothing earmarked), or None."""
        breached = self._breach(groups)
        if breached is not None:
            return breached
        for holder, claims in groups.items():
            self.release_earmark_now(holder)
            held = self._held(claims)
            for item in held:
                self._earmarked[item.key] += item.amount
            self._earmarks[holder] = held
        return None

    async def try_earmark(self, groups: Mapping[str, Sequence[Claim]]) -> Claim | None:
        return self.earmark_now(groups)

    def release_earmark_now(self, holder: str) -> None:
        for item in self._earmarks.pop(holder, ()):
            self._earmarked[item.key] -= item.amount

    async def release_earmark(self, holder: str) -> None:
        self.release_earmark_now(holder)

    def release_now(self, holder: str) -> None:
        """Drop the holder's reservation and earmark; its window slots too (it was never
        sent, so it does not count against the rate)."""
        self.release_earmark_now(holder)
        for item in self._holds.pop(holder, ()):
            if item.kind is not ClaimKind.WINDOW:
                self._totals[item.key] -= item.amount
                continue
            window = self._windows.get(item.key)
            if window is not None:
                self._windows[item.key] = deque(w for w in window if w[2] != holder)

    async def release(self, holder: str) -> None:
        self.release_now(holder)

    def settle_now(self, holder: str, amount: Decimal, keys: Sequence[str] = ()) -> None:
        """The holder's order is final: exposure reservations are dropped and ``amount``
        becomes standing exposure under ``keys`` and every exposure key held; holds are
        given back, window slots stay counted until their window ends."""
        self.release_earmark_now(holder)
        scopes = dict.fromkeys(keys)
        for item in self._holds.pop(holder, ()):
            if item.kind is ClaimKind.WINDOW:
                continue
            self._totals[item.key] -= item.amount
            if item.kind is ClaimKind.EXPOSURE:
                scopes[item.key] = None
        if amount:
            for key in scopes:
                self._totals[key] = max(self._totals.get(key, ZERO) + amount, ZERO)

    def adjust_now(self, keys: Sequence[str], amount: Decimal) -> None:
        for key in keys:
            self._totals[key] = max(self._totals.get(key, ZERO) + amount, ZERO)

    async def adjust(self, keys: Sequence[str], amount: Decimal) -> None:
        self.adjust_now(keys, amount)

    async def settle(self, holder: str, amount: Decimal, keys: Sequence[str]) -> None:
        self.settle_now(holder, amount, keys)

    async def restore(self, holder: str, keys: Iterable[str], amount: Decimal) -> None:
        self.restore_now(holder, keys, amount)

    def restore_now(self, holder: str, keys: Iterable[str], amount: Decimal) -> None:
        """Rebuild a reservation at start from the journal (limits were checked then)."""
        self.release_now(holder)
        held = tuple(_Held(key=key, amount=amount, kind=ClaimKind.EXPOSURE, window=0.0)
                     for key in keys)
        for item in held:
            self._totals[item.key] += item.amount
        self._holds[holder] = held


def scope_keys(venue: str, market: str, event: str | None = None) -> list[str]:
    """The standard exposure scopes of one order, widest first. A market with no known
    event is its own event (as the ``max_exposure`` rule counts it)."""
    return ["total", f"venue:{venue}", f"event:{venue}:{event or market}",
            f"market:{venue}:{market}"]
