"""Positions at average cost, and today's realised P&L, as the engine books fills.

The daily loss limit reads today's figure; a trade that reduces a position releases the
money at risk it closes from the exposure ledger. Rebuilt from the journal at start, so a
restart neither forgets positions nor resets the day.

A position is signed: a sell beyond the contracts held (``allow_open``, or a venue that
reports a short) leaves it below zero, and its cost basis is then the (negative) proceeds
of the contracts sold short. ``book_trade`` is the one booking rule, which the journal's
running summaries use as well, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from attrs import define, field, frozen

from arbexec.model import ZERO, Fill, Side, now_utc

ONE = Decimal(1)


@frozen
class Booked:
    """One trade booked against a position at average cost."""

    quantity: Decimal  # the position after the trade (below zero: short)
    cost: Decimal  # its cost basis (a short's is the negative of its proceeds)
    realised: Decimal  # P&L of the contracts the trade closed, net of the trade's fee
    closed: Decimal  # money at risk the trade closed: a long's cost, a short's 1 - average
    opened: Decimal  # money at risk it opened: p per contract bought, 1 - p per one sold


def book_trade(quantity: Decimal, cost: Decimal, side: str, q: Decimal, p: Decimal,
               fee: Decimal) -> Booked:
    """A trade of ``q`` at ``p`` against the position (``quantity``, ``cost``): one that
    reduces the position closes contracts at their average cost (realising P&L and
    releasing the money they held at risk); what is left of it, or all of a trade that adds
    to the position, opens contracts at ``p``. A trade that crosses zero does both."""
    buying = side == Side.BUY.value
    against = max(-quantity if buying else quantity, ZERO)  # the contracts it can close
    closing = min(q, against)
    realised, closed = -fee, ZERO
    if closing:
        if closing == against:  # the whole position: exactly its cost, no residue
            basis = abs(cost)
            quantity, cost = ZERO, ZERO
        else:
            basis = closing * (cost / quantity)
            quantity, cost = ((quantity + closing, cost + basis) if buying
                              else (quantity - closing, cost - basis))
        if buying:  # a short closed: its proceeds less what buying it back costs
            realised += basis - closing * p
            closed = closing - basis
        else:
            realised += closing * p - basis
            closed = basis
    opening = q - closing
    if buying:
        return Booked(quantity + opening, cost + opening * p, realised, closed, opening * p)
    return Booked(quantity - opening, cost - opening * p, realised, closed,
                  opening * (ONE - p))


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

    def book(self, venue: str, market: str, outcome: str, side: Side, fills: Sequence[Fill],
             *, today: bool) -> tuple[Decimal, Decimal, Decimal]:
        """Book fills (``book_trade``). Returns (realised P&L net of fees, money at risk
        they closed, money at risk they opened)."""
        realised = closed = opened = ZERO
        basis = self._basis.setdefault((venue, market, outcome), CostBasis())
        for fill in fills:
            booked = book_trade(basis.quantity, basis.cost, side.value, fill.quantity,
                                fill.price, fill.fee)
            basis.quantity, basis.cost = booked.quantity, booked.cost
            realised += booked.realised
            closed += booked.closed
            opened += booked.opened
        if today:
            self._today = self.today_pnl() + realised
        return realised, closed, opened

    def held(self, venue: str, market: str, outcome: str) -> Decimal:
        """Contracts held long in one outcome (never below zero)."""
        basis = self._basis.get((venue, market, outcome))
        return max(basis.quantity, ZERO) if basis is not None else ZERO

    def today_pnl(self) -> Decimal:
        day = now_utc().date().isoformat()
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
