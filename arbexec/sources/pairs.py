"""Bounds a pair line must meet beyond what the pair's own parser checks.

Each leg of a pair, and each order that may unwind it, becomes an ordinary ``OrderRequest``
later, inside the pair executor. A pair whose legs could not be such requests (a price with
40 decimals, an id too long for a leg's key, a control character in a market) must be
refused here, as its line, and never fail half-way through execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from arbexec.model import (
    MAX_IDENTIFIER,
    MAX_QUANTITY,
    ONE,
    OrderRequest,
    RequestError,
    validate_tags,
)
from arbexec.sources.parse import decimal_field, requested_at_field

#: The longest key suffix the executor derives from a pair's key (``:unwind-<attempt>``).
_LONGEST_SUFFIX = ":unwind-999"
_MONEY = ("quantity", "min_edge", "max_unwind_loss")


def check_pair_data(data: Any, *, now: datetime | None = None) -> None:
    """Checks on the raw pair object: the client's time, bounded money, tags."""
    if not isinstance(data, Mapping):
        return  # the pair parser says what is wrong
    if data.get("requested_at") is not None:
        requested_at_field(data["requested_at"], now=now)
    for name in _MONEY:
        if data.get(name) is not None:
            value = decimal_field(data[name], name)
            if abs(value) >= MAX_QUANTITY:
                raise RequestError(name, f"{value} is not plausible (the limit is below "
                                   f"{MAX_QUANTITY:,f})")
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and exponent < -18:
                raise RequestError(name, f"{value} has more than 18 decimal places")
    for name in ("pair_id", "request_id", "idempotency_key"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise RequestError(name, "must be a string")
    if isinstance(data.get("tags"), Mapping):
        validate_tags(data["tags"])


def check_pair(pair: Any) -> None:
    """Every order the pair may send must be a valid request: try building each."""
    for name in ("request_id", "pair_id"):
        if len(getattr(pair, name)) + len(_LONGEST_SUFFIX) > MAX_IDENTIFIER:
            raise RequestError(name, f"is too long: the orders of a pair extend it by up to "
                               f"{len(_LONGEST_SUFFIX)} characters and a key may have at most "
                               f"{MAX_IDENTIFIER}")
    for name in ("a", "b"):
        leg, other = pair.leg(name), pair.leg("b" if name == "a" else "a")
        try:
            OrderRequest(
                request_id=f"{pair.request_id}{_LONGEST_SUFFIX}",
                idempotency_key=f"{pair.pair_id}{_LONGEST_SUFFIX}", venue=leg.venue,
                market=leg.market, outcome=leg.outcome, side=leg.side, quantity=pair.quantity,
                limit_price=leg.limit_price, time_in_force=leg.time_in_force,
                expected_value=ONE - other.limit_price,
                tags={**pair.tags, "pair_id": pair.pair_id, "leg": name},
            )
        except RequestError as exc:
            field_name = {"request_id": "request_id", "idempotency_key": "pair_id",
                          "quantity": "quantity", "tags": "tags"}.get(exc.field)
            raise RequestError(field_name or f"{name}.{exc.field}", exc.message) from None
        except (TypeError, ValueError) as exc:
            raise RequestError(name, str(exc)) from None
