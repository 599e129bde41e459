"""The scanner's settings: the deployment's ``[scan]`` table, overridden by command options.

    [scan]
    pairs = "pairs.toml"        # the matched-pairs file, beside the deployment file
    min_spread = "0.05"         # dollars per contract after both venues' fees (a pair's min_edge)
    max_quantity = "100"        # contracts per opportunity at most (default: all the depth)
    interval = 10               # seconds between scans when running continuously
    max_book_age = 10           # seconds: an older book is stale and not scanned
    max_unwind_loss = "1.00"    # per executed pair (default: the policy's unwind_bound rule)

Every bad value is a ``ConfigError`` naming the key and what would be valid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import evolve, frozen

from arbexec.errors import ConfigError

#: the minimum spread the deployments this replaces used: 5 cents per contract
DEFAULT_MIN_SPREAD = Decimal("0.05")
_KEYS = ("interval", "max_book_age", "max_quantity", "max_unwind_loss", "min_spread")
_SECONDS = {"interval": (0.05, 86400.0), "max_book_age": (0.05, 3600.0)}


@frozen(kw_only=True)
class ScanSettings:
    min_spread: Decimal = DEFAULT_MIN_SPREAD
    max_quantity: Decimal | None = None
    interval: float = 10.0
    max_book_age: float = 10.0
    max_unwind_loss: Decimal | None = None


def _decimal(value: Any, key: str, source: str, *, low: Decimal, high: Decimal,
             what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ConfigError(f"must be {what}", source=source, key=key)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{value!r} is not a number; it must be {what}", source=source,
                          key=key) from None
    if not number.is_finite() or not low <= number <= high:
        raise ConfigError(f"{value} is out of range; it must be {what}", source=source,
                          key=key)
    return number


def _seconds(value: Any, name: str, key: str, source: str) -> float:
    low, high = _SECONDS[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"must be seconds from {low:g} to {high:g}", source=source, key=key)
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise ConfigError(f"{value!r} is not seconds from {low:g} to {high:g}", source=source,
                          key=key)
    return number


def parse_scan_settings(table: Mapping[str, Any], *, source: str,
                        prefix: str = "scan.") -> ScanSettings:
    """Settings from a ``[scan]`` table (or command options with ``prefix="--"``)."""
    values: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name.replace('_', '-') if prefix == '--' else name}"
        if name not in _KEYS:
            raise ConfigError(f"unknown key; valid keys: pairs, {', '.join(_KEYS)}",
                              source=source, key=key)
        if value is None:
            continue
        if name == "min_spread":
            values[name] = _decimal(value, key, source, low=Decimal(0), high=Decimal("0.99"),
                                    what="dollars per contract from 0 to 0.99 (e.g. 0.05)")
        elif name == "max_quantity":
            values[name] = _decimal(value, key, source, low=Decimal("1e-6"),
                                    high=Decimal(10) ** 9, what="contracts, more than 0")
        elif name == "max_unwind_loss":
            values[name] = _decimal(value, key, source, low=Decimal(0),
                                    high=Decimal(10) ** 12, what="dollars, 0 or more")
        else:
            values[name] = _seconds(value, name, key, source)
    return ScanSettings(**values)


def with_overrides(settings: ScanSettings, options: Mapping[str, Any]) -> ScanSettings:
    """The deployment's settings with the command's options (None: not given) on top."""
    given = {k: v for k, v in options.items() if v is not None}
    if not given:
        return settings
    parsed = parse_scan_settings(given, source="command line", prefix="--")
    return evolve(settings, **{name: getattr(parsed, name) for name in given})


__all__ = ["DEFAULT_MIN_SPREAD", "ScanSettings", "parse_scan_settings", "with_overrides"]
