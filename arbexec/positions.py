"""Positions at average cost, and today's realised P&L, as the engine books fills.

The daily loss limit reads today's figure; a sell releases the cost basis it closes from
the exposure ledger. Rebuilt from the journal at start, so a restart neither forgets
positions nor resets the day.

A sell closes the contracts held; its part beyond them is the other outcome bought at
1 - p, as the venue holds it (Kalshi's single YES book reports it as a NO position), so a
later sell of that outcome closes it like any other holding and no position goes below
zero. ``book_trade`` is the one booking rule, which the journal's running summaries use as
well, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from attrs import define, field, frozen

from arbexec.model import ZERO, Fill, Side, now_utc

ONE = Decimal(1)


@frozen
class Booked:
    """One trade booked against a position at average cost."""

    quantity: Decimal  # the position after the trade
    cost: Decimal  # its cost basis
    realised: Decimal  # P&L of the contracts the trade closed, net of the trade's fee
    closed: Decimal  # cost basis the trade closed (money at risk it took off)
    opened: Decimal  # money at risk it opened: p per contract bought, 1 - p per one sold
    other: Decimal  # contracts of the other outcome it opened (a sell beyond the position)


def other_outcome(outcome: str) -> str:
    return "NO" if outcome == "YES" else "YES"


def book_trade(quantity: Decimal, cost: Decimal, side: str, q: Decimal, p: Decimal,
               fee: Decimal) -> Booked:
    """A trade of ``q`` at ``p`` against the position (``quantity``, ``cost``): a buy adds
    contracts at ``p``; a sell closes the contracts held at their average cost (realising
    P&L and releasing their cost basis), and what is left of it opens the other outcome at
    1 - p, realising nothing."""
    if side == Side.BUY.value:
        return Booked(quantity + q, cost + q * p, -fee, ZERO, q * p, ZERO)
    closing = min(q, max(quantity, ZERO))
    realised, closed = -fee, ZERO
    if closing:
        if closing == quantity:  # the whole position: exactly its cost, no residue
            closed, quantity, cost = cost, ZERO, ZERO
        else:
            closed = closing * (cost / quantity)
            quantity, cost = quantity - closing, cost - closed
        realised += closing * p - closed
    opening = q - closing
    return Booked(quantity, cost, realised, closed, opening * (ONE - p), opening)


@define
class CostBasis:
    quantity: Decimal = ZERO
    cost: Decimal = ZERO


@define
class PositionBook:
    """Average-cost positions per (venue, market, outcome), and today's realised P&L
    (UTC day) net of fees."""

    _basis: dict[tuple[str, str, str], CostBasis] = field(factory=dict)
    _day: str = ""
    _today: Decimal = ZERO
    clock: Callable[[], datetime] = now_utc  # whose day "today" is (the engine's clock)

    def book(self, venue: str, market: str, outcome: str, side: Side, fills: Sequence[Fill],
             *, today: bool) -> tuple[Decimal, Decimal, Decimal]:
        """Book fills (``book_trade``). Returns (realised P&L net of fees, cost basis they
        closed, money at risk they opened)."""
        realised = closed = opened = ZERO
        basis = self._basis.setdefault((venue, market, outcome), CostBasis())
        for fill in fills:
            booked = book_trade(basis.quantity, basis.cost, side.value, fill.quantity,
                                fill.price, fill.fee)
            basis.quantity, basis.cost = booked.quantity, booked.cost
            if booked.other:
                other = self._basis.setdefault((venue, market, other_outcome(outcome)),
                                               CostBasis())
                other.quantity += booked.other
                other.cost += booked.opened
            realised += booked.realised
            closed += booked.closed
            opened += booked.opened
        if today:
            self._today = self.today_pnl() + realised
        return realised, closed, opened

    def held(self, venue: str, market: str, outcome: str) -> Decimal:
        """Contracts held in one outcome."""
        basis = self._basis.get((venue, market, outcome))
        return max(basis.quantity, ZERO) if basis is not None else ZERO

    def today_pnl(self) -> Decimal:
        day = self.clock().date().isoformat()
        if day != self._day:
            self._day = day
            self._today = ZERO
        return self._today

    def restore(self, basis: Mapping[tuple[str, str, str], tuple[Decimal, Decimal]], *,
                day: str, today: Decimal) -> None:
        """Positions and today's realised P&L as the journal's running summary holds them
        (start-up reads these instead of every fill)."""
        self._basis = {key: CostBasis(quantity=q, cost=c) for key, (q, c) in basis.items()}
        self._day, self._today = day, today

    def holdings(self) -> dict[tuple[str, str, str], CostBasis]:
        """A copy of every (venue, market, outcome) position's quantity and cost basis."""
        return {key: CostBasis(quantity=b.quantity, cost=b.cost)
                for key, b in self._basis.items()}
