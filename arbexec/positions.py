"""Positions at average cost, and today's realised P&L, as the engine books fills.

The daily loss limit reads today's figure; sells release the cost basis they close from the
exposure ledger. Rebuilt from the journal at start, so a restart neither forgets positions
nor resets the day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from attrs import define, field

from arbexec.model import ZERO, Fill, Side, now_utc


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
             *, today: bool) -> tuple[Decimal, Decimal]:
        """Book fills. Returns (realised P&L net of fees, cost basis closed by sells)."""
        realised = closed = ZERO
        basis = self._basis.setdefault((venue, market, outcome), CostBasis())
        for fill in fills:
            if side is Side.BUY:
                basis.quantity += fill.quantity
                basis.cost += fill.quantity * fill.price
            else:
                average = basis.cost / basis.quantity if basis.quantity > 0 else fill.price
                realised += fill.quantity * (fill.price - average)
                closed += fill.quantity * average
                basis.quantity -= fill.quantity
                basis.cost -= fill.quantity * average
            realised -= fill.fee
        if today:
            self._today = self.today_pnl() + realised
        return realised, closed

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
