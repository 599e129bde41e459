"""Closing a pair's imbalance within its loss budget.

Two ways to close an excess of ``e`` contracts held on leg X (cost ``c`` each, fees in):

* **complete**: buy ``e`` more of the other leg's instrument at up to ``L``; the loss is
  ``e x (c + L - 1) + fee`` (negative when the pair still earns);
* **close**: sell the ``e`` contracts bought on X at ``L`` or better; the loss is
  ``e x (c - L) + fee``.

For each, the limit ``L`` is the worst price on the tick grid whose worst-case loss (every
contract at ``L``, the highest fee at any price up to ``L``, plus the venue's fee rounding,
``fee_rounding``, once per price level the order may fill at) still fits the remaining
budget, so an order sent at that limit cannot break the bound whatever the book does
meanwhile. The rounding is the venue's fact (its fee model's quantum); a venue that does
not state it is assumed to round each fill by up to a cent. The fresh book then says what each would
fill and cost; the plan takes the one that closes the whole excess at the smaller expected
loss (or, if neither can, the one that closes more). No plan means EXPOSED.
"""

from __future__ import annotations

from decimal import Decimal

from attrs import field, frozen

from arbexec.arbitrage.books import FeeFunction, floor_to, sweep
from arbexec.exchange import MarketRules
from arbexec.model import ZERO, Liquidity, OrderBook, Outcome, Side

ONE = Decimal(1)
#: assumed for a venue whose plugin does not state ``fee_rounding``: a cent per fill,
#: coarser than any venue's fee quantum, so the bound holds
DEFAULT_FEE_ROUNDING = Decimal("0.01")


def fee_rounding_of(exchange: object) -> Decimal:
    """The most one fill's fee can exceed the venue's ``fee()`` figure for it (optional
    attribute ``fee_rounding`` of a venue plugin; a cent when it states none)."""
    value = getattr(exchange, "fee_rounding", None)
    return DEFAULT_FEE_ROUNDING if value is None else Decimal(value)


@frozen(kw_only=True)
class Venueside:
    """One instrument's venue view: fresh book, grid and fee function."""

    venue: str
    market: str
    outcome: Outcome = field(converter=Outcome)
    book: OrderBook
    rules: MarketRules
    fee: FeeFunction
    fee_rounding: Decimal = DEFAULT_FEE_ROUNDING


@frozen(kw_only=True)
class UnwindPlan:
    kind: str  # "complete" or "close"
    venue: str
    market: str
    outcome: Outcome
    side: Side
    quantity: Decimal
    limit_price: Decimal
    expected_fill: Decimal
    expected_loss: Decimal
    worst_loss: Decimal


def _prices(rules: MarketRules) -> list[Decimal]:
    tick = rules.tick_size
    low = rules.min_price if rules.min_price is not None else tick
    high = rules.max_price if rules.max_price is not None else ONE - tick
    prices = []
    price = low
    while price <= high:
        prices.append(price)
        price += tick
    return prices


def _quantity(excess: Decimal, rules: MarketRules) -> Decimal:
    quantity = floor_to(excess, rules.quantity_step)
    return quantity if quantity >= rules.min_quantity else ZERO


def plan_complete(excess: Decimal, basis: Decimal, budget: Decimal,
                  other: Venueside) -> UnwindPlan | None:
    quantity = _quantity(excess, other.rules)
    if not quantity:
        return None
    limit: Decimal | None = None
    worst = ZERO
    max_fee = ZERO
    for levels, price in enumerate(_prices(other.rules), start=1):  # ascending: worse
        max_fee = max(max_fee, other.fee(other.market, price, quantity, Liquidity.TAKER))
        loss = quantity * (basis + price - ONE) + max_fee + other.fee_rounding * levels
        if loss > budget:
            break
        limit, worst = price, loss
    if limit is None:
        return None
    filled = sweep(other.book, other.outcome, Side.BUY, quantity, limit)
    expected = (filled.notional + filled.fees(other.fee, other.market)
                - filled.quantity * (ONE - basis))
    return UnwindPlan(kind="complete", venue=other.venue, market=other.market,
                      outcome=other.outcome, side=Side.BUY, quantity=quantity,
                      limit_price=limit, expected_fill=filled.quantity,
                      expected_loss=expected, worst_loss=worst)


def plan_close(excess: Decimal, basis: Decimal, budget: Decimal,
               own: Venueside) -> UnwindPlan | None:
    quantity = _quantity(excess, own.rules)
    if not quantity:
        return None
    limit: Decimal | None = None
    worst = ZERO
    max_fee = ZERO
    for levels, price in enumerate(reversed(_prices(own.rules)), start=1):  # descending: worse
        max_fee = max(max_fee, own.fee(own.market, price, quantity, Liquidity.TAKER))
        loss = quantity * (basis - price) + max_fee + own.fee_rounding * levels
        if loss > budget:
            break
        limit, worst = price, loss
    if limit is None:
        return None
    filled = sweep(own.book, own.outcome, Side.SELL, quantity, limit)
    expected = (filled.quantity * basis - filled.notional
                + filled.fees(own.fee, own.market))
    return UnwindPlan(kind="close", venue=own.venue, market=own.market, outcome=own.outcome,
                      side=Side.SELL, quantity=quantity, limit_price=limit,
                      expected_fill=filled.quantity, expected_loss=expected, worst_loss=worst)


def choose(options: list[UnwindPlan | None]) -> UnwindPlan | None:
    """The plan that closes the whole excess at the smaller expected loss; else the one that
    closes most; None when nothing can be closed within the budget on the fresh books."""
    usable = [p for p in options if p is not None and p.expected_fill > 0]
    if not usable:
        return None
    full = [p for p in usable if p.expected_fill >= p.quantity]
    if full:
        return min(full, key=lambda p: p.expected_loss)
    return max(usable, key=lambda p: (p.expected_fill, -p.expected_loss))


def why_unusable(kind: str, option: UnwindPlan | None, view: Venueside,
                 excess: Decimal) -> str:
    """Why an option closes nothing, for the EXPOSED reason: the budget (no limit price
    keeps the worst case within it, or the book offers only worse prices than the limit
    that fits), an empty book (nothing offered on that side at any price), or the venue's
    minimum size."""
    where = f"{view.venue} {view.market}"
    if option is None:
        if not _quantity(excess, view.rules):
            return (f"{kind} on {where}: {excess} contracts is below the venue's minimum "
                    "size")
        return (f"{kind} on {where}: the budget blocks it (no limit price keeps the "
                "worst-case loss within it)")
    anywhere = sweep(view.book, option.outcome, option.side, option.quantity,
                     ONE if option.side is Side.BUY else ZERO)
    levels = "asks" if option.side is Side.BUY else "bids"
    if not anywhere.fills:
        return f"{kind} on {where}: the book is empty (no {option.outcome.value} {levels})"
    best = anywhere.fills[0].price
    return (f"{kind} on {where}: the budget blocks it (the best {option.outcome.value} "
            f"{levels[:-1]} is {best}; the budget allows {option.limit_price} at worst)")
