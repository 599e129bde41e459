"""Positions at average cost, and today's realised P&L, as the engine books fills.

The daily loss limit reads today's figure; sells release the cost basis they close from the
exposure ledger. Rebuilt from the journal at start, so a restart neither forgets positions
nor resets the day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
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
    (UTC day) net of fees. A sell beyond the contracts held books its excess as the other
    outcome bought at 1 - p, as the venue holds it (Kalshi's single YES book)."""

    _basis: dict[tuple[str, str, str], CostBasis] = field(factory=dict)
    _day: str = ""
    _today: Decimal = ZERO
    clock: Callable[[], datetime] = now_utc  # whose day "today" is (the engine's clock)

    def book(self, venue: str, market: str, outcome: str, side: Side, fills: Sequence[Fill],
             *, today: bool) -> tuple[Decimal, Decimal]:
        """Book fills. Returns (realised P&L net of fees, cost basis closed by sells)."""
        realised = closed = ZERO
        basis = self._basis.setdefault((venue, market, outcome), CostBasis())
        for fill in fills:
            if side is Side.BUY:
                basis.quantity += fill.quantity
                basis.cost += fill.quantity * fill.price
            else:  # closes the contracts held; the rest buys the other outcome at 1 - p
                closing = min(fill.quantity, max(basis.quantity, ZERO))
                if closing:
                    average = basis.cost / basis.quantity
                    realised += closing * (fill.price - average)
                    closed += closing * average
                    basis.quantity -= closing
                    basis.cost -= closing * average
                if fill.quantity > closing:
                    other = self._basis.setdefault(
                        (venue, market, "NO" if outcome == "YES" else "YES"), CostBasis())
                    other.quantity += fill.quantity - closing
                    other.cost += (fill.quantity - closing) * (1 - fill.price)
            realised -= fill.fee
        if today:
            self._today = self.today_pnl() + realised
        return realised, closed

    def held(self, venue: str, market: str, outcome: str) -> Decimal:
        """Contracts held long in one outcome (never below zero)."""
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
