"""Which book a pair is checked on, and what it says an order would do.

``arbexec.exchange.current_book``, shared with the engine, picks the book: the venue's
streamed one (the optional ``latest_book`` capability) when it is no older than
``max_book_age`` seconds, else a read. A read costs a round trip to the venue before the
legs can leave; a streamed book costs nothing, so a pair takes the time of its slower leg.
``max_book_age = 0`` always reads.

The rest is pure Decimal arithmetic over ``OrderBook.levels_to_take`` (fills level by
level, depth at a limit, fees), so the risk check, the choice of the thinner leg and the
unwind plan all read a book the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from attrs import frozen

from arbexec.model import ZERO, Liquidity, OrderBook, Outcome, PriceLevel, Side

FeeFunction = Callable[[str, Decimal, Decimal, Liquidity], Decimal]


@frozen(kw_only=True)
class Sweep:
    """The fills an immediate order would get from a book, best level first."""

    fills: tuple[PriceLevel, ...] = ()

    @property
    def quantity(self) -> Decimal:
        return sum((level.size for level in self.fills), ZERO)

    @property
    def notional(self) -> Decimal:
        return sum((level.price * level.size for level in self.fills), ZERO)

    @property
    def average_price(self) -> Decimal | None:
        quantity = self.quantity
        return self.notional / quantity if quantity else None

    def fees(self, fee: FeeFunction, market: str) -> Decimal:
        """Taker fees of these fills, level by level (as the venues charge them)."""
        return sum((fee(market, level.price, level.size, Liquidity.TAKER)
                    for level in self.fills), ZERO)


def sweep(book: OrderBook, outcome: Outcome, side: Side, quantity: Decimal,
          limit: Decimal) -> Sweep:
    """Take up to ``quantity`` at prices no worse than ``limit`` (in the order's own prices)."""
    taken: list[PriceLevel] = []
    left = quantity
    for level in book.levels_to_take(outcome, side):
        if left <= 0:
            break
        if (side is Side.BUY and level.price > limit) or (
                side is Side.SELL and level.price < limit):
            break
        size = min(level.size, left)
        taken.append(PriceLevel(price=level.price, size=size))
        left -= size
    return Sweep(fills=tuple(taken))


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step
