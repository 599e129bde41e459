"""Fee models: none, Kalshi's quadratic schedule, Polymarket's fee-rate formula.

Each model answers the fee for one fill in dollars. Kalshi rounds each trade fee *up* to
$0.0001 (k x C x P x (1 - P)); Polymarket charges C x r x (p x (1 - p))^e cut to five
decimals (``arbexec.fees.polymarket_fee``, the rule the Polymarket plugin uses too), nothing
below $0.00001, and nothing to makers on taker-only markets.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Protocol

from arbexec.api import ONE, POLYMARKET_FEE_STEP, ZERO, Liquidity, polymarket_fee

_CENTICENT = Decimal("0.0001")
_HALF = Decimal("0.5")


class FeeModel(Protocol):
    name: str
    #: the most one fill's charged fee can exceed the exact formula (its rounding quantum)
    rounding: Decimal

    def fee(self, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal: ...


class NoFees:
    name = "none"
    rounding = ZERO

    def fee(self, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
        return ZERO


class KalshiFees:
    """``ceil_0.0001(k x C x P x (1 - P))``; k is 0.07 taker, 0.0175 maker on maker-fee series."""

    name = "kalshi"
    rounding = _CENTICENT  # each trade fee rounded up to $0.0001

    def __init__(
        self,
        taker_rate: Decimal = Decimal("0.07"),
        maker_rate: Decimal = ZERO,
        multiplier: Decimal = ONE,
    ) -> None:
        self.taker_rate = taker_rate * multiplier
        self.maker_rate = maker_rate * multiplier

    def fee(self, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
        rate = self.taker_rate if liquidity is Liquidity.TAKER else self.maker_rate
        if not rate:
            return ZERO
        raw = rate * quantity * price * (ONE - price)
        return raw.quantize(_CENTICENT, rounding=ROUND_CEILING)


class PolymarketFees:
    """``C x r x (p x (1 - p))^e`` cut to 5 decimals; makers free when ``taker_only``."""

    name = "polymarket"
    rounding = POLYMARKET_FEE_STEP  # cut to $0.00001: one quantum of margin

    def __init__(
        self, rate: Decimal = Decimal("0.02"), exponent: Decimal = ONE, taker_only: bool = True
    ) -> None:
        self.rate = rate
        self.exponent = exponent
        self.taker_only = taker_only

    def fee(self, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
        if self.taker_only and liquidity is Liquidity.MAKER:
            return ZERO
        return polymarket_fee(quantity, price, self.rate, self.exponent)


def worst_case_fee(
    model: FeeModel, limit: Decimal, quantity: Decimal, liquidity: Liquidity
) -> Decimal:
    """An upper bound of the fee on ``quantity`` bought at any price up to ``limit``.

    Both published formulas grow with p x (1 - p), which peaks at 0.5; reserving at the
    worst price keeps a resting buy from ever spending cash it did not set aside.
    """
    return model.fee(min(limit, _HALF), quantity, liquidity)
