"""makerAmount / takerAmount in exact decimals, refusing what is off the venue's grid.

The official clients floor sizes with IEEE doubles (1242.1 becomes 1242.09 shares) and round
off-tick prices to the tick. Here every figure is a ``Decimal`` and nothing is moved: a
price off the tick or a size finer than 0.01 share is refused with the reason, so what is
signed is exactly what was asked for.

Server precision rules: limit orders carry shares with at most 2 decimals and collateral
with at most ``tick decimals + 2``; market orders (FOK/FAK) carry their amount side with at
most 2 decimals and the derived side with at most 4.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from attrs import frozen

from arbexec.api import OffGridOrder, Side

_UNIT = Decimal(10) ** 6
SIZE_STEP = Decimal("0.01")
_MARKET_AMOUNT_STEP = Decimal("0.01")
#: The derived side of a FOK/FAK order carries at most this many decimals (the server's
#: market-order rule); coarser ticks carry fewer, as in the official client.
_MARKET_DERIVED_DECIMALS = 4


@frozen
class TickRules:
    """Rounding configuration of one tick size (the table in the official clients)."""

    tick: Decimal
    price_decimals: int
    size_decimals: int
    amount_decimals: int


TICK_RULES: dict[Decimal, TickRules] = {
    rules.tick: rules
    for rules in (
        TickRules(Decimal("0.1"), 1, 2, 3),
        TickRules(Decimal("0.01"), 2, 2, 4),
        TickRules(Decimal("0.005"), 3, 2, 5),
        TickRules(Decimal("0.0025"), 4, 2, 6),
        TickRules(Decimal("0.001"), 3, 2, 5),
        TickRules(Decimal("0.0001"), 4, 2, 6),
    )
}


def tick_rules(tick: Decimal | str) -> TickRules:
    try:
        return TICK_RULES[Decimal(tick)]
    except (KeyError, ArithmeticError):
        known = ", ".join(str(t) for t in TICK_RULES)
        raise OffGridOrder(f"tick size {tick} is not one Polymarket uses ({known})") from None


def to_units(value: Decimal) -> int:
    """Decimal shares or collateral to integer 1e-6 units; exact or refused."""
    scaled = value * _UNIT
    if scaled != scaled.to_integral_value():
        raise OffGridOrder(f"{value} has more than 6 decimals")
    return int(scaled)


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_price(price: Decimal, tick: Decimal) -> None:
    """Refuse a price off the tick grid or outside [tick, 1 - tick]."""
    if price % tick != 0:
        below = (price // tick) * tick
        raise OffGridOrder(
            f"price {price} is not a multiple of the tick size {tick}; "
            f"use {below} or {below + tick}"
        )
    if not tick <= price <= 1 - tick:
        raise OffGridOrder(f"price {price} is outside [{tick}, {1 - tick}] for tick {tick}")


def check_size(size: Decimal, what: str = "size") -> None:
    if size <= 0:
        raise OffGridOrder(f"{what} {size} must be greater than zero")
    if size % SIZE_STEP != 0:
        raise OffGridOrder(
            f"{what} {size} has more than 2 decimals; Polymarket trades in steps of 0.01 "
            f"(use {size.quantize(SIZE_STEP, rounding=ROUND_FLOOR)})"
        )


def limit_amounts(side: Side, price: Decimal, size: Decimal, tick: Decimal) -> tuple[int, int]:
    """(makerAmount, takerAmount) in 1e-6 units for a GTC/GTD order of ``size`` shares.

    BUY gives collateral (size x price) for shares; SELL gives shares for collateral. With an
    on-grid price and a 2-decimal size the product is exact, so nothing is ever rounded.
    """
    rules = tick_rules(tick)
    check_price(price, rules.tick)
    check_size(size)
    notional = size * price
    if _decimals(notional) > rules.amount_decimals:  # cannot happen on the grid; guard anyway
        raise OffGridOrder(f"notional {notional} needs more than {rules.amount_decimals} decimals")
    if side is Side.BUY:
        return to_units(notional), to_units(size)
    return to_units(size), to_units(notional)


def market_amounts(side: Side, price: Decimal, amount: Decimal, tick: Decimal) -> tuple[int, int]:
    """(makerAmount, takerAmount) for a FOK/FAK order.

    ``amount`` is what the maker gives: collateral to spend on a BUY, shares to sell on a
    SELL, at most 2 decimals. ``price`` is the worst acceptable price. The derived side is
    floored to 4 decimals (the server's rule for market orders): a BUY then receives at
    least its limit price, a SELL's minimum proceeds drop by less than 0.0001.
    """
    rules = tick_rules(tick)
    check_price(price, rules.tick)
    what = "collateral amount" if side is Side.BUY else "size"
    if amount <= 0:
        raise OffGridOrder(f"{what} {amount} must be greater than zero")
    if amount % _MARKET_AMOUNT_STEP != 0:
        raise OffGridOrder(
            f"{what} {amount} of a FOK/FAK order has more than 2 decimals, which the venue "
            "rejects for market orders"
        )
    derived = amount / price if side is Side.BUY else amount * price
    places = min(_MARKET_DERIVED_DECIMALS, rules.amount_decimals)
    if _decimals(derived) > places:
        derived = derived.quantize(Decimal(1).scaleb(-(places + 4)), rounding=ROUND_CEILING)
        if _decimals(derived) > places:
            derived = derived.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)
    if derived <= 0:
        raise OffGridOrder(f"{what} {amount} at {price} is too small to trade")
    return to_units(amount), to_units(derived)


def request_amounts(
    side: Side, price: Decimal, quantity: Decimal, tick: Decimal, *, market: bool
) -> tuple[int, int]:
    """Amounts for a core request of ``quantity`` shares at limit ``price``.

    Limit orders (GTC/GTD) use the limit rules. FOK/FAK BUYs spend ``quantity x price``,
    which must then be whole cents (the venue's market-order rule); the nearest quantities
    that satisfy it are named in the refusal.
    """
    if not market:
        return limit_amounts(side, price, quantity, tick)
    check_size(quantity)
    if side is Side.SELL:
        return market_amounts(side, price, quantity, tick)
    tick_rules(tick)
    check_price(price, tick)
    cost = quantity * price
    if cost % _MARKET_AMOUNT_STEP != 0:
        raise OffGridOrder(
            f"a FOK/IOC buy of {quantity} at {price} costs {cost}, but Polymarket market "
            "orders need a cost in whole cents; choose a quantity whose cost at this price "
            "is a multiple of 0.01, or send it as a GTC order"
        )
    maker, taker = market_amounts(side, price, cost, tick)
    return maker, taker
