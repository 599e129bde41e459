"""Typed rule parameters: parse a policy table into an attrs class, naming the bad key.

A rule declares its parameters as an attrs ``frozen`` class whose fields come from the
helpers below (``money``, ``count``, ``seconds``...). ``parse_params`` turns the policy
table into that class and raises ``ParameterError`` naming the parameter and what would be
valid, so the policy loader can point at ``rules[2].max_notional``. Unknown keys are errors:
a misspelt limit must never silently disable it. Third-party rules may use these helpers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from attrs import field

from arbexec.model import to_decimal

T = TypeVar("T")

_HELP = "help"


class ParameterError(ValueError):
    """A rule parameter is wrong. ``parameter`` is its name, or None for the rule as a whole."""

    def __init__(self, parameter: str | None, message: str) -> None:
        super().__init__(f"{parameter}: {message}" if parameter else message)
        self.parameter = parameter
        self.message = message


def parse_params(cls: type[T], params: Mapping[str, Any]) -> T:
    """Build the parameter class ``cls`` from a policy table, or raise ``ParameterError``."""
    if isinstance(params, cls):
        return params
    fields = attrs.fields(cast(Any, cls))
    known = {a.name: a for a in fields}
    for key in params:
        if key not in known:
            raise ParameterError(str(key), unknown_name_message("parameter", str(key), known))
    values: dict[str, Any] = {}
    for name, raw in params.items():
        converter = known[name].converter
        try:
            values[name] = converter(raw) if callable(converter) else raw
        except ParameterError as exc:
            raise ParameterError(name, exc.message) from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ParameterError(name, str(exc)) from None
    return cls(**values)


def describe_params(cls: type) -> dict[str, str]:
    """Parameter name -> help text, for ``RiskRuleSpec.parameters`` and the docs."""
    return {a.name: a.metadata.get(_HELP, "") for a in attrs.fields(cls)}


def unknown_name_message(kind: str, name: str, valid: Iterable[str]) -> str:
    """``unknown parameter 'max_notionl' (did you mean 'max_notional'?); valid: ...``."""
    names = sorted(valid)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(names) if names else "none"
    return f"unknown {kind} {name!r}{hint}; valid {kind}s: {listed}"


def require_any(params: object, *names: str) -> None:
    """Refuse a parameter set in which none of ``names`` is set (a rule that limits nothing)."""
    if all(getattr(params, name) is None for name in names):
        raise ParameterError(None, f"set at least one of: {', '.join(names)}")


def require_order(params: object, low: str, high: str) -> None:
    """Refuse ``low > high`` when both are set."""
    lo, hi = getattr(params, low), getattr(params, high)
    if lo is not None and hi is not None and lo > hi:
        raise ParameterError(low, f"{lo} is greater than {high} = {hi}")


# ---------------------------------------------------------------------------- converters


def _optional(convert: Callable[[Any], T]) -> Callable[[Any], T | None]:
    def converter(value: Any) -> T | None:
        return None if value is None else convert(value)

    return converter


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("expected a number (or a number in a string), got a boolean")
    try:
        return to_decimal(value)
    except TypeError as exc:
        raise ValueError(f"expected a number (or a number in a string): {exc}") from None


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number, got a boolean")
    if isinstance(value, int):
        return value
    number = _decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected true or false, got {value!r}")


#: Upper bounds of rule parameters: beyond them a value is a typo, never a policy (a
#: cooldown of 30 years would disable a venue silently; 10^12 dollars is no limit at all).
MAX_SECONDS = Decimal(7 * 86400)
MAX_AMOUNT = Decimal(10) ** 12
MAX_COUNT = 10**9


def _seconds(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    number = _decimal(value)
    if number < 0:
        raise ValueError(f"{value!r} seconds must not be negative")
    if number > MAX_SECONDS:
        raise ValueError(f"{value!r} seconds is more than a week; give at most "
                         f"{MAX_SECONDS} seconds")
    return timedelta(seconds=float(number))


def _names(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        raise ValueError(f"expected a list of names, e.g. [{value!r}], got a single string")
    if not isinstance(value, Iterable):
        raise ValueError(f"expected a list of names, got {type(value).__name__}")
    names = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"expected a list of non-empty names, found {item!r}")
        names.append(item.strip())
    return frozenset(names)


def _zone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an IANA timezone name such as 'UTC', got {value!r}")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {value!r}; use an IANA name such as 'UTC' or 'America/New_York'"
        ) from None


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):
        return value
    match = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a time of day as 'HH:MM' (24-hour), got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    **{short: index for index, short in enumerate(WEEKDAYS)},
    **{
        full: index
        for index, full in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}


def _weekdays(value: Any) -> frozenset[int]:
    if isinstance(value, frozenset) and all(isinstance(day, int) for day in value):
        return value
    days = set()
    for name in _names(value):
        index = _DAY_NAMES.get(name.lower())
        if index is None:
            raise ValueError(f"unknown day {name!r}; use {', '.join(WEEKDAYS)}")
        days.add(index)
    return frozenset(days)


# ---------------------------------------------------------------------------- validators


def _bounded(attribute: attrs.Attribute, value: Any) -> None:
    bound = MAX_COUNT if isinstance(value, int) else MAX_AMOUNT
    if value is not None and value > bound:
        raise ParameterError(attribute.name, f"{value} is implausibly large; give at most "
                             f"{bound}")


def _positive(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and value <= 0:
        raise ParameterError(attribute.name, f"{value} must be greater than zero")
    _bounded(attribute, value)


def _non_negative(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and value < 0:
        raise ParameterError(attribute.name, f"{value} must not be negative")
    _bounded(attribute, value)


def _fraction(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not 0 <= value <= 1:
        raise ParameterError(attribute.name, f"{value} must be between 0 and 1")


def _probability(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not 0 < value < 1:
        raise ParameterError(attribute.name, f"{value} must be a price strictly between 0 and 1")


# ---------------------------------------------------------------------------- field helpers


def money(help: str, default: Decimal | None = None, *, allow_zero: bool = False) -> Any:
    """A Decimal amount of money (or contracts): TOML number or string, parsed exactly."""
    return field(
        default=default,
        converter=_optional(_decimal),
        validator=_non_negative if allow_zero else _positive,
        metadata={_HELP: help},
    )


def price(help: str, default: Decimal | None = None) -> Any:
    """A price: a probability strictly between 0 and 1."""
    return field(
        default=default, converter=_optional(_decimal), validator=_probability,
        metadata={_HELP: help},
    )


def fraction(help: str, default: Decimal | None = None) -> Any:
    """A rate between 0 and 1 (``0.25`` is a quarter)."""
    return field(
        default=default, converter=_optional(_decimal), validator=_fraction,
        metadata={_HELP: help},
    )


def count(help: str, default: int | None = None, *, allow_zero: bool = False) -> Any:
    """A whole number."""
    return field(
        default=default,
        converter=_optional(_integer),
        validator=_non_negative if allow_zero else _positive,
        metadata={_HELP: help},
    )


def seconds(help: str, default: float | None = None) -> Any:
    """A duration given in seconds, held as a ``timedelta``."""
    return field(
        default=None if default is None else timedelta(seconds=default),
        converter=_optional(_seconds),
        metadata={_HELP: help},
    )


def flag(help: str, default: bool) -> Any:
    return field(default=default, converter=_boolean, metadata={_HELP: help})


def names(help: str) -> Any:
    """A list of names (venues, markets, events); ``None`` when not given."""
    return field(default=None, converter=_optional(_names), metadata={_HELP: help})


def money_by_name(help: str) -> Any:
    """A table of name -> amount, e.g. ``limits = { momentum = "500", carry = 200 }``."""

    def convert(value: Any) -> Mapping[str, Decimal]:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a table of name = amount, got {type(value).__name__}")
        result = {}
        for key, amount in value.items():
            try:
                number = _decimal(amount)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
            if number <= 0:
                raise ValueError(f"{key}: {number} must be greater than zero")
            result[str(key)] = number
        return result

    return field(factory=dict, converter=convert, metadata={_HELP: help})


def zone(help: str, default: str = "UTC") -> Any:
    return field(default=ZoneInfo(default), converter=_zone, metadata={_HELP: help})


def time_of_day(help: str, default: time) -> Any:
    return field(default=default, converter=_time_of_day, metadata={_HELP: help})


def weekdays(help: str) -> Any:
    return field(
        default=frozenset(range(7)), converter=_weekdays, metadata={_HELP: help},
    )
