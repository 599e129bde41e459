"""Money and counts as whole millionths, the shared ledger's unit (exact in Lua).

Claims round up and limits round down, so the shared ledger may refuse a hair early but
never lets a limit pass; every holder's units are stored with it, so a release gives back
exactly what was taken and rounding never accumulates.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

SCALE = Decimal(1_000_000)
#: 2^53 millionths: beyond it a double (Lua's number) is no longer exact.
LARGEST = Decimal(2**53) / SCALE


def up(amount: Decimal) -> str:
    """An amount claimed or added, rounded away from zero (never understated)."""
    return _units(amount, ROUND_CEILING if amount >= 0 else ROUND_FLOOR)


def limit(value: Decimal) -> str:
    """A limit in units, rounded down; -1 when there is none (infinite)."""
    if value.is_infinite() or value >= LARGEST:
        return "-1"
    return _units(value, ROUND_FLOOR)


def _units(amount: Decimal, rounding: str) -> str:
    if not amount.is_finite() or abs(amount) >= LARGEST:
        raise ValueError(f"{amount} is beyond what the shared ledger counts exactly "
                         f"(below {LARGEST})")
    return str(int((amount * SCALE).to_integral_value(rounding=rounding)))


def decimal(units: str | int) -> Decimal:
    return Decimal(int(units)) / SCALE
