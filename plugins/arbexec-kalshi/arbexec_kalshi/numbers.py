"""Kalshi's fixed-point strings <-> Decimal, at the plugin edge.

Responses carry prices as ``*_dollars`` strings (4 to 6 decimals) and counts as ``*_fp``
strings (2 decimals); requests take price strings with up to 4 decimals and count strings
with up to 2. Nothing here goes through ``float``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from arbexec.api import MalformedNumber, venue_decimal
from arbexec.api import loads_exact as loads_exact  # the toolkit's exact decoder

CENT = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.0001")  # requests accept at most 4 decimals
COUNT_QUANTUM = Decimal("0.01")  # counts are in hundredths of a contract


def parse_decimal(value: Any, name: str = "value") -> Decimal:
    """A venue number (string, int, or Decimal from ``loads_exact``) as Decimal; a float
    or junk is a venue error."""
    return venue_decimal(value, name=name, venue="kalshi")


def field_decimal(payload: Mapping[str, Any], name: str, default: Decimal | None = None) -> Any:
    """``payload[name]`` as Decimal, or ``default`` when missing/null/empty."""
    value = payload.get(name)
    if value is None or value == "":
        return default
    return parse_decimal(value, name)


def cents_to_dollars(value: Any, name: str = "cents") -> Decimal:
    """An integer-cents field (balance, revenue) as Decimal dollars."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedNumber(
            f"Kalshi sent {name}={value!r}; expected integer cents", venue="kalshi"
        )
    return parse_decimal(value, name) / 100


def format_price(price: Decimal) -> str:
    """A YES price as the 4-decimal dollar string V2 requests take (exact or refused)."""
    if price != price.quantize(PRICE_QUANTUM):
        raise ValueError(f"price {price} has more than 4 decimals")
    return str(price.quantize(PRICE_QUANTUM))


def format_count(count: Decimal) -> str:
    """A contract count as the 2-decimal string V2 requests take (exact or refused)."""
    if count != count.quantize(COUNT_QUANTUM):
        raise ValueError(f"count {count} has more than 2 decimals")
    return str(count.quantize(COUNT_QUANTUM))


def decimalize(value: Any) -> Any:
    """Copy of a venue record with every ``*_dollars`` / ``*_fp`` value (and nested price
    ladders under such keys) turned into Decimal; other values untouched."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and (key.endswith("_dollars") or key.endswith("_fp")):
                out[key] = _to_decimals(item, key)
            else:
                out[key] = decimalize(item)
        return out
    if isinstance(value, list):
        return [decimalize(v) for v in value]
    return value


def _to_decimals(item: Any, key: str) -> Any:
    if item is None or item == "":
        return None
    if isinstance(item, list):
        return [_to_decimals(v, key) for v in item]
    if isinstance(item, Mapping):
        return decimalize(item)
    return parse_decimal(item, key)
