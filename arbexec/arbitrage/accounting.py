"""A pair's money, from the results of its orders: what is hedged, what is left over, and
what closing the imbalance has cost so far.

Everything is recomputed from the journaled results of the pair's orders (legs and unwind
orders), never from memory, so a pair resumed after a crash is judged exactly as it would
have been without one.

The unwind loss is the shortfall against the edge the primary legs locked in on their
matched contracts: ``primary_edge - (hedged - cash_out + excess x basis)``, where an
unhedged excess is valued at what it cost. Completing the missing leg at a better price
than planned gives a negative loss (a gain).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from attrs import define, field, frozen

from arbexec.arbitrage.model import PairRequest
from arbexec.model import ZERO, ExecutionResult, Side

ONE = Decimal(1)


@define
class LegTally:
    """Fills on one leg's instrument (venue, market, outcome), across all the pair's orders."""

    bought: Decimal = ZERO
    bought_cost: Decimal = ZERO
    buy_fees: Decimal = ZERO
    sold: Decimal = ZERO
    sold_proceeds: Decimal = ZERO
    sell_fees: Decimal = ZERO

    def add(self, result: ExecutionResult) -> None:
        filled = result.filled_quantity
        if not filled:
            return
        value = filled * (result.average_price or ZERO)
        if result.side == Side.SELL:
            self.sold += filled
            self.sold_proceeds += value
            self.sell_fees += result.fees
        else:
            self.bought += filled
            self.bought_cost += value
            self.buy_fees += result.fees

    @property
    def net(self) -> Decimal:
        return self.bought - self.sold

    @property
    def basis(self) -> Decimal:
        """Cost per contract held, fees included."""
        return (self.bought_cost + self.buy_fees) / self.bought if self.bought else ZERO

    @property
    def cash_out(self) -> Decimal:
        return self.bought_cost + self.buy_fees - self.sold_proceeds + self.sell_fees


@frozen(kw_only=True)
class PairBook:
    legs: Mapping[str, LegTally] = field(hash=False)
    primary_edge: Decimal  # on the contracts the primary legs matched
    fees_by_venue: Mapping[str, Decimal] = field(hash=False)
    any_fill: bool

    @property
    def hedged(self) -> Decimal:
        return min(self.legs["a"].net, self.legs["b"].net)

    @property
    def excess(self) -> Decimal:
        return abs(self.legs["a"].net - self.legs["b"].net)

    @property
    def excess_leg(self) -> str | None:
        a, b = self.legs["a"].net, self.legs["b"].net
        return None if a == b else ("a" if a > b else "b")

    @property
    def cash_out(self) -> Decimal:
        return self.legs["a"].cash_out + self.legs["b"].cash_out

    @property
    def excess_value(self) -> Decimal:
        leg = self.excess_leg
        return ZERO if leg is None else self.excess * self.legs[leg].basis

    @property
    def realised_edge(self) -> Decimal:
        """Paid out by hedged contracts minus everything spent, the open excess at cost."""
        return self.hedged * ONE - self.cash_out + self.excess_value

    @property
    def unwind_loss(self) -> Decimal:
        return self.primary_edge - self.realised_edge


def tally(pair: PairRequest, primaries: Mapping[str, ExecutionResult | None],
          unwinds: Iterable[ExecutionResult]) -> PairBook:
    """Add up the pair's orders. ``primaries`` maps "a"/"b" to each primary leg's result."""
    legs = {"a": LegTally(), "b": LegTally()}
    fees: dict[str, Decimal] = {pair.a.venue: ZERO, pair.b.venue: ZERO}
    any_fill = False
    by_instrument = {pair.a.instrument: "a", pair.b.instrument: "b"}
    results = [r for r in primaries.values() if r is not None] + list(unwinds)
    for result in results:
        name = by_instrument.get((result.venue, result.market, result.outcome))  # type: ignore[arg-type]
        if name is None:
            continue
        legs[name].add(result)
        fees[result.venue] = fees.get(result.venue, ZERO) + result.fees
        any_fill = any_fill or result.filled_quantity > 0
    primary = {name: LegTally() for name in ("a", "b")}
    for name, primary_result in primaries.items():
        if primary_result is not None:
            primary[name].add(primary_result)
    matched = min(primary["a"].bought, primary["b"].bought)
    edge = matched * (ONE - primary["a"].basis - primary["b"].basis) if matched else ZERO
    return PairBook(legs=legs, primary_edge=edge, fees_by_venue=fees, any_fill=any_fill)
