"""Venue numbers, exactly: JSON decoded with Decimal from the literal, junk an error.

A venue's ``0.5`` is ``Decimal("0.5")``, never the float 0.5 (whose digits are not the
venue's); a number that is not a number is an error, never a silent 0 or default.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from arbexec.errors import ExchangeError


class MalformedNumber(ExchangeError):
    """A venue sent something that is not a finite number where one belongs."""

    reason_code = "venue_malformed"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads_exact(text: str | bytes) -> Any:
    """Venue JSON with every number exact: fractions become Decimal from their literal,
    integers stay int, and the non-standard ``NaN``/``Infinity`` literals are refused
    (``ValueError``)."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)


def venue_decimal(
    value: Any,
    *,
    name: str = "value",
    venue: str | None = None,
    error: type[ExchangeError] = MalformedNumber,
    floats: bool = False,
) -> Decimal:
    """A venue number (Decimal, int or numeric string; a float only when ``floats``) as a
    finite Decimal. Anything else raises ``error`` naming the field, not a default."""
    if isinstance(value, Decimal):
        number: Decimal | None = value
    elif isinstance(value, bool) or not isinstance(value, int | str | float):
        number = None
    elif isinstance(value, float) and not floats:
        raise error(
            f"{_who(venue)} sent {name}={value!r}; expected an exact number", venue=venue
        )
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise error(
            f"{_who(venue)} sent {name}={_shown(value)}; expected a finite number",
            venue=venue,
        )
    return number


def _shown(value: Any) -> str:
    """The value as shown in an error: whole or not at all (a cut value could keep part of
    a secret that the venue echoed, out of reach of the scrubber)."""
    text = repr(value)
    return text if len(text) <= 80 else f"<{type(value).__name__} of {len(text)} characters>"


def _who(venue: str | None) -> str:
    return venue.capitalize() if venue else "the venue"
