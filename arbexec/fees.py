"""Venue fee formulas shared by a venue's plugin and the paper venue that simulates it.

One function per venue rule, so a simulated fill and a live fill of the same trade carry
the same fee to the last decimal.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

#: Polymarket charges fees in steps of 0.00001 pUSD; smaller amounts are not charged.
POLYMARKET_FEE_STEP = Decimal("0.00001")


def polymarket_fee(quantity: Decimal, price: Decimal, rate: Decimal, exponent: Decimal) -> Decimal:
    """``C x r x (p x (1 - p)) ^ e``, cut to 5 decimals (docs.polymarket.com trading/fees:
    rounded to 5 decimals, the smallest fee is 0.00001 and anything below it is zero, i.e.
    the amount is floored, never rounded up). Exact in ``Decimal``, fractional exponents
    included."""
    if not rate or quantity <= 0:
        return Decimal(0)
    base = price * (1 - price)
    factor = base if exponent == 1 else base**exponent
    raw = quantity * rate * factor
    return max(raw.quantize(POLYMARKET_FEE_STEP, rounding=ROUND_DOWN), Decimal(0))
