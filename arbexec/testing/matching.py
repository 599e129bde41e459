"""The order matching a venue stand-in needs, once: a book of resting orders and a taker
that walks it.

A stand-in keeps only its wire format (units, field names, status words) and asks a
``Book`` what happens to an order: which resting orders it trades with, at which prices,
for how much, what it pays in fees, and whether its remainder rests, is cancelled (IOC) or
the whole order is killed (FOK, post-only). Everything is ``Decimal``; a price is the
maker's price (the taker gets price improvement, as on every venue we model).

Rules, as the venues publish them:

- **price-time priority**: the best price first, and at one price the order that rested
  first;
- **partial fills**: a taker trades until it is filled or nothing it may cross is left;
- **time in force**: ``GTC`` and ``GTD`` rest the remainder (expiry is the stand-in's
  business), ``IOC`` cancels it, ``FOK`` trades only if the whole quantity can trade now,
  else nothing happens;
- **post-only**: an order that would trade on arrival is refused and nothing happens;
- **no self-trade**: resting orders of the taker's own ``owner`` are passed over (a venue
  would cancel one side; a stand-in simply never trades an account with itself);
- **fees**: ``fee(price, quantity)`` is asked for every fill (the taker's fee).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

from attrs import define, field, frozen

from arbexec.model import Side, TimeInForce

ZERO = Decimal(0)
FeeRule = Callable[[Decimal, Decimal], Decimal]


def no_fee(_price: Decimal, _quantity: Decimal) -> Decimal:
    return ZERO


@define
class Resting:
    """One resting order: ``quantity`` is what is left of it."""

    order_id: str
    side: Side
    price: Decimal
    quantity: Decimal
    owner: str
    sequence: int


@frozen
class Fill:
    maker_id: str
    price: Decimal
    quantity: Decimal
    fee: Decimal


@frozen
class Taker:
    order_id: str
    side: Side
    price: Decimal
    quantity: Decimal
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    owner: str = ""
    #: whether a GTC remainder joins the book (a stand-in may keep its own orders apart)
    rest: bool = True


@frozen
class Match:
    """What became of a taker: its fills, the quantity left, and whether that rests."""

    fills: tuple[Fill, ...]
    remaining: Decimal
    rested: bool
    #: "post only cross" or "fill or kill": nothing traded and nothing rests
    refused: str | None = None

    @property
    def filled(self) -> Decimal:
        return sum((f.quantity for f in self.fills), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), ZERO)

    @property
    def notional(self) -> Decimal:
        return sum((f.price * f.quantity for f in self.fills), ZERO)


def _crosses(taker: Side, limit: Decimal, maker_price: Decimal) -> bool:
    return maker_price <= limit if taker is Side.BUY else maker_price >= limit


@define
class Book:
    """Resting orders of one instrument, on two sides."""

    _orders: dict[str, Resting] = field(factory=dict)
    _sequence: itertools.count[int] = field(factory=itertools.count)

    def rest(self, order_id: str, side: Side, price: Decimal, quantity: Decimal,
             owner: str = "") -> None:
        """Put an order on the book behind everything already resting at its price."""
        if order_id in self._orders:
            raise ValueError(f"order {order_id!r} already rests on this book")
        if quantity <= 0:
            raise ValueError(f"a resting order needs a positive quantity, not {quantity}")
        self._orders[order_id] = Resting(order_id, side, price, quantity, owner,
                                         next(self._sequence))

    def cancel(self, order_id: str) -> Decimal:
        """Take an order off the book; what it still had (0 when it was not resting)."""
        order = self._orders.pop(order_id, None)
        return ZERO if order is None else order.quantity

    def resize(self, order_id: str, quantity: Decimal) -> None:
        """Set what is left of a resting order (a decrease or a fill elsewhere); it keeps
        its place in the queue, and leaves the book at 0."""
        if quantity <= 0:
            self.cancel(order_id)
        elif order_id in self._orders:
            self._orders[order_id].quantity = quantity

    def resting(self, order_id: str) -> Resting | None:
        return self._orders.get(order_id)

    def queue(self, side: Side) -> list[Resting]:
        """One side in priority order: best price first, then first rested."""
        best_first = -1 if side is Side.BUY else 1
        return sorted((o for o in self._orders.values() if o.side is side),
                      key=lambda o: (best_first * o.price, o.sequence))

    def levels(self, side: Side) -> list[tuple[Decimal, Decimal]]:
        """``(price, total quantity)`` per price of one side, best first."""
        totals: dict[Decimal, Decimal] = {}
        for order in self.queue(side):
            totals[order.price] = totals.get(order.price, ZERO) + order.quantity
        return list(totals.items())

    def submit(self, taker: Taker, fee: FeeRule = no_fee) -> Match:
        """Match ``taker`` against the opposite side and apply its time in force."""
        if taker.quantity <= 0:
            raise ValueError(f"an order needs a positive quantity, not {taker.quantity}")
        makers = [o for o in self.queue(taker.side.other)
                  if o.owner != taker.owner or not taker.owner]
        crossing = [o for o in makers if _crosses(taker.side, taker.price, o.price)]
        if taker.post_only and crossing:
            return Match((), taker.quantity, rested=False, refused="post only cross")
        available = sum((o.quantity for o in crossing), ZERO)
        if taker.time_in_force is TimeInForce.FOK and available < taker.quantity:
            return Match((), taker.quantity, rested=False, refused="fill or kill")
        fills: list[Fill] = []
        left = taker.quantity
        for maker in crossing:
            if left <= 0:
                break
            take = min(left, maker.quantity)
            fills.append(Fill(maker.order_id, maker.price, take, fee(maker.price, take)))
            left -= take
            self.resize(maker.order_id, maker.quantity - take)
        rests = left > 0 and taker.time_in_force in (TimeInForce.GTC, TimeInForce.GTD)
        if rests and taker.rest:
            self.rest(taker.order_id, taker.side, taker.price, left, taker.owner)
        return Match(tuple(fills), left, rested=rests)
