"""Each market's price grid (``price_ranges``, sub-cent tails included) and size grid.

Off-grid requests are refused with ``OffGridOrder`` naming the nearest valid prices; they
are never rounded onto the grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from attrs import frozen

from arbexec.api import OffGridOrder
from arbexec_kalshi.numbers import parse_decimal

ZERO = Decimal(0)
ONE = Decimal(1)


def _f(value: Decimal) -> str:
    return format(value.normalize(), "f")


@frozen
class PriceRange:
    """Prices ``start, start + step, ..., end`` (both ends inclusive when on the step)."""

    start: Decimal
    end: Decimal
    step: Decimal

    def __attrs_post_init__(self) -> None:
        if self.step <= 0 or self.end < self.start:
            raise ValueError(f"malformed price range {self.start}..{self.end} step {self.step}")

    def contains(self, price: Decimal) -> bool:
        return self.start <= price <= self.end and (price - self.start) % self.step == 0

    def neighbours(self, price: Decimal) -> tuple[Decimal | None, Decimal | None]:
        """The grid prices of this range just below and just above ``price``."""
        if price < self.start:
            return None, self.start
        if price > self.end:
            return self.end, None
        below = self.start + ((price - self.start) // self.step) * self.step
        above = below if below == price else below + self.step
        return below, (above if above <= self.end else None)


_STANDARD: dict[str, tuple[tuple[str, str, str], ...]] = {
    "linear_cent": (("0.01", "0.99", "0.01"),),
    "tapered_deci_cent": (
        ("0.001", "0.1", "0.001"),
        ("0.1", "0.9", "0.01"),
        ("0.9", "0.999", "0.001"),
    ),
    "deci_cent": (("0.001", "0.999", "0.001"),),
}


@frozen
class PriceGrid:
    """The set of tradable YES prices of one market. Prices 0 and 1 are never tradable."""

    structure: str
    ranges: tuple[PriceRange, ...]

    @classmethod
    def standard(cls, structure: str) -> PriceGrid:
        try:
            spec = _STANDARD[structure]
        except KeyError:
            raise ValueError(f"unknown Kalshi price_level_structure {structure!r}") from None
        return cls(
            structure,
            tuple(PriceRange(Decimal(a), Decimal(b), Decimal(c)) for a, b, c in spec),
        )

    @classmethod
    def from_market(cls, market: Mapping[str, Any]) -> PriceGrid:
        """Read ``price_ranges`` (authoritative) or fall back to ``price_level_structure``."""
        structure = str(market.get("price_level_structure") or "linear_cent")
        raw: Sequence[Mapping[str, Any]] = market.get("price_ranges") or ()
        if not raw:
            return cls.standard(structure)
        return cls(
            structure,
            tuple(
                PriceRange(
                    parse_decimal(r["start"], "price_ranges.start"),
                    parse_decimal(r["end"], "price_ranges.end"),
                    parse_decimal(r["step"], "price_ranges.step"),
                )
                for r in raw
            ),
        )

    @property
    def tick_size(self) -> Decimal:
        """The finest step anywhere on the grid."""
        return min(r.step for r in self.ranges)

    @property
    def min_price(self) -> Decimal:
        return min(p for p in self._ends(low=True))

    @property
    def max_price(self) -> Decimal:
        return max(p for p in self._ends(low=False))

    def _ends(self, *, low: bool) -> Iterable[Decimal]:
        for r in self.ranges:
            if low:
                yield r.start if r.start > ZERO else r.start + r.step
            else:
                top = r.start + ((r.end - r.start) // r.step) * r.step
                yield top if top < ONE else top - r.step

    def is_valid(self, price: Decimal) -> bool:
        return ZERO < price < ONE and any(r.contains(price) for r in self.ranges)

    def nearest(self, price: Decimal) -> tuple[Decimal | None, Decimal | None]:
        below: Decimal | None = None
        above: Decimal | None = None
        for r in self.ranges:
            lo, hi = r.neighbours(price)
            if lo is not None and lo > ZERO and (below is None or lo > below):
                below = lo
            if hi is not None and hi < ONE and (above is None or hi < above):
                above = hi
        return below, above

    def describe(self) -> str:
        parts = [f"${_f(r.step)} steps from {_f(r.start)} to {_f(r.end)}" for r in self.ranges]
        return f"{self.structure}: " + "; ".join(parts)

    def check(self, price: Decimal, *, market: str, what: str = "YES price") -> None:
        """Raise ``OffGridOrder`` with the reason and the nearest valid prices."""
        if self.is_valid(price):
            return
        below, above = self.nearest(price)
        options = " or ".join(_f(p) for p in (below, above) if p is not None)
        hint = f"; nearest valid: {options}" if options else ""
        raise OffGridOrder(
            f"{what} {price} is not on the price grid of {market} ({self.describe()}){hint}",
            venue="kalshi",
        )


@frozen
class SizeGrid:
    """Contract counts: whole contracts, or hundredths where fractional trading is on."""

    fractional: bool

    @property
    def step(self) -> Decimal:
        return Decimal("0.01") if self.fractional else ONE

    def check(self, quantity: Decimal, *, market: str) -> None:
        if quantity <= 0:
            raise OffGridOrder(f"quantity {quantity} must be positive", venue="kalshi")
        if quantity % self.step != 0:
            why = (
                "counts are in hundredths of a contract"
                if self.fractional
                else "this market trades whole contracts only (fractional trading is off)"
            )
            raise OffGridOrder(
                f"quantity {quantity} is not a multiple of {self.step} on {market}: {why}",
                venue="kalshi",
            )
