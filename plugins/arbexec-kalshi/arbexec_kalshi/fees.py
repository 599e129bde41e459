"""Kalshi trading fees: ``k x C x P x (1 - P)`` per fill, rounded up to $0.0001.

k depends on the series ``fee_type`` (taker 0.07; maker 0, 0.0175 or 0.035), on the
published index-series rate (S&P 500 and Nasdaq-100: taker 0.035) and on the series or
event ``fee_multiplier``. The exchange rounds each fill's trade fee up to $0.0001 (2026
rule); the older round-to-the-cent figure is kept as a conservative bound. Reported fees
(``fee_cost``, ``*_fees_dollars``) always win over this estimate in results.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from attrs import frozen

from arbexec.api import ONE, ZERO, Liquidity, now_utc, utc_datetime
from arbexec_kalshi.numbers import field_decimal

CENTICENT = Decimal("0.0001")
CENT = Decimal("0.01")
TAKER_RATE = Decimal("0.07")
INDEX_TAKER_RATE = Decimal("0.035")
#: S&P 500 and Nasdaq-100 series (taker 0.035 in the fee schedule): today's tickers are
#: KXINX..., KXINXU..., KXNASDAQ100..., KXNASDAQ100U...; the pre-2025 INX/NASDAQ100 kept.
INDEX_SERIES_PREFIXES = ("KXINX", "KXNASDAQ100", "INX", "NASDAQ100")

#: fee_type -> maker share of the taker rate
MAKER_SHARE = {
    "quadratic": ZERO,
    "quadratic_with_maker_fees": Decimal("0.25"),
    "quadratic_with_combo_maker_fees": Decimal("0.5"),
    # The 'flat' schedule lives in a PDF table we cannot read; bound it by the quadratic
    # taker formula with the usual maker share.
    "flat": Decimal("0.25"),
}


def ceil_to(value: Decimal, quantum: Decimal) -> Decimal:
    return (value / quantum).to_integral_value(rounding=ROUND_CEILING) * quantum


@frozen
class FeeSchedule:
    """The fee coefficients of one market."""

    fee_type: str = "quadratic_with_maker_fees"
    taker_rate: Decimal = TAKER_RATE
    multiplier: Decimal = ONE
    waived_until: datetime | None = None

    @property
    def maker_rate(self) -> Decimal:
        return self.taker_rate * MAKER_SHARE.get(self.fee_type, Decimal("0.25"))

    def rate(self, liquidity: Liquidity) -> Decimal:
        base = self.taker_rate if liquidity is Liquidity.TAKER else self.maker_rate
        return base * self.multiplier

    def exact(self, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
        return self.rate(liquidity) * quantity * price * (ONE - price)

    def fee(
        self,
        price: Decimal,
        quantity: Decimal,
        liquidity: Liquidity,
        *,
        quantum: Decimal = CENTICENT,
        at: datetime | None = None,
    ) -> Decimal:
        """The trade fee of one fill, rounded up to ``quantum`` ($0.0001 as charged now)."""
        if self.waived_until is not None and (at or now_utc()) < self.waived_until:
            return ZERO
        return ceil_to(self.exact(price, quantity, liquidity), quantum)

    @classmethod
    def from_records(
        cls,
        series: Mapping[str, Any] | None,
        event: Mapping[str, Any] | None = None,
        market: Mapping[str, Any] | None = None,
    ) -> FeeSchedule:
        """Series ``fee_type``/``fee_multiplier``, overridden by the event's overrides.

        Where the series publishes its own fee fields they decide the rate (0.07 x the
        multiplier); only a series record without them falls back to the index-series
        prefixes for the 0.035 taker rate."""
        series = series or {}
        event = event or {}
        market = market or {}
        fee_type = str(
            event.get("fee_type_override") or series.get("fee_type") or "quadratic_with_maker_fees"
        )
        multiplier = field_decimal(event, "fee_multiplier_override")
        if multiplier is None:
            multiplier = field_decimal(series, "fee_multiplier", ONE)
        ticker = str(series.get("ticker") or event.get("series_ticker") or "")
        published = series.get("fee_multiplier") is not None or bool(
            event.get("fee_multiplier_override") is not None
        )
        rate = TAKER_RATE
        if not published and ticker.upper().startswith(INDEX_SERIES_PREFIXES):
            rate = INDEX_TAKER_RATE
        waiver = market.get("fee_waiver_expiration_time")
        return cls(
            fee_type=fee_type,
            taker_rate=rate,
            multiplier=multiplier,
            waived_until=utc_datetime(waiver) if waiver else None,
        )
