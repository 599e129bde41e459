"""The executable edge of a matched pair, size level by size level, after both venues' fees.

A direction buys one outcome on market ``a`` and its hedge (``MatchedPair.hedge_outcome``)
on market ``b``: one dollar is paid per contract held on both, whatever happens. At every
cumulative size where either book's ladder steps to a worse price, the ladder says what
taking that many contracts on both books costs and earns, with the same figures the
arbitrage executor checks before it sends a pair (``arbexec.arbitrage.executor``):

* **book edge**: ``q - notional_a - notional_b - fees``, the fees charged fill by fill at
  each price level through the venue's own ``fee()`` (``Sweep.fees``), so each venue's
  rounding (Kalshi up to $0.0001, Polymarket down to $0.00001) is applied per fill as
  it is charged;
* **locked edge**: ``q x (1 - limit_a - limit_b)`` minus both venues' fees on ``q``
  at the limits, the worst the pair earns if both legs fill at their limits.

The executor refuses a pair whose edge per contract is below ``min_edge`` by either
figure, so a level is an opportunity only when both clear the minimum. Pure Decimal
arithmetic; no fee formula of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from attrs import frozen

from arbexec.arbitrage.books import FeeFunction, floor_to
from arbexec.catalog.pairfile import MatchedPair
from arbexec.model import ZERO, Liquidity, OrderBook, Outcome, PriceLevel, Side

ONE = Decimal(1)
#: names of the two directions of a pair: which outcome is bought on market ``a``
DIRECTIONS = {"yes": Outcome.YES, "no": Outcome.NO}


@frozen(kw_only=True)
class LegBook:
    """One market as the scanner sees it: its fresh book, its grid and its venue's fees."""

    venue: str
    market: str
    book: OrderBook
    fee: FeeFunction
    quantity_step: Decimal = ONE
    min_quantity: Decimal = ONE
    tick_size: Decimal | None = None  # the market's price grid (None: not known)

    def levels(self, outcome: Outcome) -> tuple[PriceLevel, ...]:
        """The levels a buy of ``outcome`` takes, up to the first price off the market's
        grid: a limit there would be refused by the venue, never rounded."""
        out = []
        for level in self.book.levels_to_take(outcome, Side.BUY):
            if self.tick_size is not None and level.price % self.tick_size != 0:
                break
            out.append(level)
        return tuple(out)


@frozen(kw_only=True)
class SizeLevel:
    """Taking ``quantity`` contracts on both legs: limits, costs, fees and edges."""

    quantity: Decimal
    limit_a: Decimal  # worst price the sweep reaches on a (the leg's limit price)
    limit_b: Decimal
    notional_a: Decimal
    notional_b: Decimal
    fees_a: Decimal  # fill by fill at the book's levels
    fees_b: Decimal
    limit_fees: Decimal  # both venues' fees on ``quantity`` at the limits

    @property
    def fees(self) -> Decimal:
        return self.fees_a + self.fees_b

    @property
    def edge(self) -> Decimal:
        """Dollars earned on the whole size if both legs fill as the books say."""
        return self.quantity - self.notional_a - self.notional_b - self.fees

    @property
    def edge_per_contract(self) -> Decimal:
        return self.edge / self.quantity

    @property
    def locked_edge_per_contract(self) -> Decimal:
        """Per contract at both limits after fees at the limits: the executor's first check."""
        return (self.quantity * (ONE - self.limit_a - self.limit_b)
                - self.limit_fees) / self.quantity

    @property
    def executable_edge_per_contract(self) -> Decimal:
        """The smaller of the two figures the executor holds against ``min_edge``."""
        return min(self.edge_per_contract, self.locked_edge_per_contract)

    def clears(self, min_edge: Decimal) -> bool:
        return self.executable_edge_per_contract >= min_edge


@frozen(kw_only=True)
class DirectionLadder:
    """One direction of a pair: what is bought on each market, and the size levels."""

    direction: str  # "yes" or "no": the outcome bought on a
    outcome_a: Outcome
    outcome_b: Outcome
    levels: tuple[SizeLevel, ...]

    def best(self, min_edge: Decimal) -> SizeLevel | None:
        """The level earning the most in total among those that clear ``min_edge`` (the
        smaller size on a tie), or None when none does."""
        clearing = [level for level in self.levels if level.clears(min_edge)]
        if not clearing:
            return None
        return max(clearing, key=lambda level: (level.edge, -level.quantity))

    def top(self) -> SizeLevel | None:
        """The level with the best executable edge per contract (for a table or a chart,
        whether or not it clears the minimum)."""
        if not self.levels:
            return None
        return max(self.levels, key=lambda level: (level.executable_edge_per_contract,
                                                   -level.quantity))


def common_step(*steps: Decimal) -> Decimal:
    """The smallest quantity that is a multiple of every venue's quantity step."""
    exponent = min(min(int(step.as_tuple().exponent) for step in steps), 0)
    scale = Decimal(10) ** -int(exponent)
    whole = [int(step * scale) for step in steps]
    return Decimal(math.lcm(*whole)) / scale


def _breakpoints(levels: Sequence[Decimal]) -> list[Decimal]:
    total = ZERO
    out = []
    for size in levels:
        total += size
        out.append(total)
    return out


def ladder(a: LegBook, b: LegBook, outcome_a: Outcome, outcome_b: Outcome, *,
           max_quantity: Decimal | None = None) -> tuple[SizeLevel, ...]:
    """Every size level of buying ``outcome_a`` on a and ``outcome_b`` on b: at each
    cumulative size where either ladder steps to a worse price (rounded down to a quantity
    both venues take), up to the depth both books offer and ``max_quantity``."""
    take_a, take_b = a.levels(outcome_a), b.levels(outcome_b)
    depth = min(sum((lv.size for lv in take_a), ZERO), sum((lv.size for lv in take_b), ZERO))
    if max_quantity is not None:
        depth = min(depth, max_quantity)
    step = common_step(a.quantity_step, b.quantity_step)
    smallest = max(a.min_quantity, b.min_quantity)
    sizes = sorted({floor_to(q, step) for q in
                    [*_breakpoints([lv.size for lv in take_a]),
                     *_breakpoints([lv.size for lv in take_b]), depth]
                    if q <= depth})
    walk_a, walk_b = _Walk(a, take_a), _Walk(b, take_b)
    levels = []
    for quantity in sizes:
        if quantity < smallest or quantity <= 0:
            continue
        (limit_a, notional_a, fees_a), (limit_b, notional_b, fees_b) = (
            walk_a.take(quantity), walk_b.take(quantity))
        levels.append(SizeLevel(
            quantity=quantity, limit_a=limit_a, limit_b=limit_b, notional_a=notional_a,
            notional_b=notional_b, fees_a=fees_a, fees_b=fees_b,
            limit_fees=(a.fee(a.market, limit_a, quantity, Liquidity.TAKER)
                        + b.fee(b.market, limit_b, quantity, Liquidity.TAKER))))
    return tuple(levels)


class _Walk:
    """One book's levels taken in growing sizes: the fills of a sweep to ``q`` are the
    levels fully taken before it plus part of the next, so each size costs one fee call
    (the venue's own ``fee()`` on that part) instead of a sweep from the top; the same fills
    and fees as ``arbexec.arbitrage.books.sweep`` and ``Sweep.fees``."""

    def __init__(self, leg: LegBook, levels: Sequence[PriceLevel]) -> None:
        self.leg = leg
        self.levels = levels
        self.index = 0  # the level the next size ends in
        self.full = ZERO  # contracts in the levels before it
        self.full_notional = ZERO
        self.full_fees = ZERO

    def take(self, quantity: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        """(limit, notional, fees) of buying ``quantity``; sizes must not decrease."""
        while self.full + self.levels[self.index].size < quantity:
            level = self.levels[self.index]
            self.full += level.size
            self.full_notional += level.price * level.size
            self.full_fees += self._fee(level.price, level.size)
            self.index += 1
        price = self.levels[self.index].price
        part = quantity - self.full
        return (price, self.full_notional + price * part,
                self.full_fees + self._fee(price, part))

    def _fee(self, price: Decimal, size: Decimal) -> Decimal:
        return self.leg.fee(self.leg.market, price, size, Liquidity.TAKER)


def pair_ladders(pair: MatchedPair, a: LegBook, b: LegBook, *,
                 max_quantity: Decimal | None = None) -> tuple[DirectionLadder, ...]:
    """Both directions of an accepted pair: YES on a with its hedge on b, and NO on a with
    its hedge (the same outcome on b when the pair is inverted)."""
    out = []
    for name, outcome_a in DIRECTIONS.items():
        outcome_b = Outcome(pair.hedge_outcome(outcome_a.value))
        out.append(DirectionLadder(direction=name, outcome_a=outcome_a, outcome_b=outcome_b,
                                   levels=ladder(a, b, outcome_a, outcome_b,
                                                 max_quantity=max_quantity)))
    return tuple(out)


__all__ = ["DIRECTIONS", "DirectionLadder", "LegBook", "SizeLevel", "common_step", "ladder",
           "pair_ladders"]
