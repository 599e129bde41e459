"""Turn untrusted data (a JSON line, CLI options) into a request, or say exactly what is wrong.

Unknown keys are errors: a misspelled ``limit_prce`` must never become an order without a
limit. Numbers may be JSON numbers or strings; either way they become exact Decimals (JSON
lines are read by ``strict_json``, which never goes through float). Every field has a bound,
and any problem is a ``RequestError`` naming the field, never another exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from attrs import fields

from arbexec.model import (
    MAX_WAIT_SECONDS,
    OrderRequest,
    RequestError,
    now_utc,
    pair_of_order_key,
    to_decimal,
    utc_datetime,
)
from arbexec.sources import strict_json

_FIELDS = {a.name for a in fields(OrderRequest)}
_REQUIRED = ("venue", "market", "outcome", "side", "quantity", "limit_price")
_TEXT = ("request_id", "idempotency_key", "venue", "market")
_ENUMS = {
    "outcome": ("YES", "NO"),
    "side": ("BUY", "SELL"),
    "time_in_force": ("GTC", "GTD", "IOC", "FOK"),
}
_DECIMALS = ("quantity", "limit_price", "reference_price", "expected_value")

#: Timestamps a request may carry: from 2000 up to (not including) 2100. Outside, a time is
#: a unit mistake (milliseconds for seconds) or a placeholder, never a real order's time.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
#: How far a client's ``requested_at`` may lie from this machine's clock. The journal, the
#: ``orders`` view and ``audit --since/--until`` order and filter by it, so a far-off value
#: (year 1, year 9999) would hide the order; past these bounds the request is refused.
REQUESTED_AT_PAST = timedelta(hours=1)
REQUESTED_AT_FUTURE = timedelta(minutes=5)


def request_from_mapping(data: Mapping[str, Any], *, now: datetime | None = None
                         ) -> OrderRequest:
    """Build an ``OrderRequest``; raise ``RequestError`` naming the field on any problem.

    ``idempotency_key`` defaults to ``request_id`` and the reverse; one of them is required,
    because a request without a key could not be deduplicated. ``now`` is the clock
    ``requested_at`` is checked against (tests pin it).
    """
    if not isinstance(data, Mapping):
        raise RequestError("request", "must be a JSON object")
    unknown = sorted(str(name) for name in set(data) - _FIELDS)
    if unknown:
        raise RequestError(
            _shown_name(unknown[0]),
            f"unknown field; valid fields are {', '.join(sorted(_FIELDS))}",
        )
    for name in _REQUIRED:
        if data.get(name) is None or (isinstance(data.get(name), str) and data[name] == ""):
            raise RequestError(name, "is required")
    for name in _TEXT:
        if data.get(name) is not None and not isinstance(data[name], str):
            raise RequestError(name, "must be a string")
    values = dict(data)
    key = values.get("idempotency_key") or values.get("request_id")
    if not key:
        raise RequestError("idempotency_key", "is required (or give a request_id to use as it)")
    values.setdefault("idempotency_key", key)
    values.setdefault("request_id", key)
    owner = pair_of_order_key(values["idempotency_key"]) if isinstance(
        values["idempotency_key"], str) else None
    if owner is not None:
        raise RequestError("idempotency_key", f"{_shown(values['idempotency_key'])} is "
                           f"reserved for the orders of pair {_shown(owner)} (keys ending "
                           "in :a, :b or :unwind-N); choose another key")
    for name, allowed in _ENUMS.items():
        if name in values and values[name] is not None:
            raw = values[name]
            text = raw.upper() if isinstance(raw, str) else None
            if text not in allowed:
                raise RequestError(name, f"{_shown(raw)} is not one of {', '.join(allowed)}")
            values[name] = text
    if "post_only" in values and not isinstance(values["post_only"], bool):
        raise RequestError("post_only", "must be true or false")
    for name in _DECIMALS:
        if values.get(name) is not None:
            values[name] = decimal_field(values[name], name)
    if values.get("wait_budget") is not None:
        values["wait_budget"] = seconds_field(values["wait_budget"], "wait_budget",
                                              MAX_WAIT_SECONDS)
    if values.get("expires_at") is not None:
        values["expires_at"] = timestamp_field(values["expires_at"], "expires_at")
    if values.get("requested_at") is not None:
        values["requested_at"] = requested_at_field(values["requested_at"], now=now)
    if values.get("tags") is not None and not isinstance(values["tags"], Mapping):
        raise RequestError("tags", "must be an object of names to values")
    try:
        return OrderRequest(**values)
    except RequestError:
        raise
    except (TypeError, ValueError, ArithmeticError) as exc:
        name = _guess_field(str(exc))
        raise RequestError(name, str(exc)) from None


def decimal_field(value: Any, name: str) -> Decimal:
    """An exact Decimal from a JSON number (already a Decimal), an int or ASCII text."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise RequestError(name, "must be a number")
    try:
        result = to_decimal(value)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RequestError(name, str(exc)) from None
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0 and result.adjusted() < 28:
        result = result.quantize(_ONE)  # 1E+2 -> 100: venues are sent plain digits
    return result


_ONE = Decimal(1)


def seconds_field(value: Any, name: str, most: int) -> float:
    """A number of seconds in [0, most], checked exactly before it becomes a float."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise RequestError(name, "must be a number of seconds")
    try:
        exact = to_decimal(value)
    except (TypeError, ValueError, ArithmeticError):
        raise RequestError(name, f"must be seconds between 0 and {most}") from None
    if not 0 <= exact <= most:
        raise RequestError(name, f"{_short_number(exact)} must be seconds between 0 and {most}")
    return float(exact)


def timestamp_field(value: Any, name: str) -> datetime:
    """An aware UTC time between ``EARLIEST`` and ``LATEST``."""
    moment = _moment(value, name)
    if not EARLIEST <= moment < LATEST:
        raise RequestError(name, f"{moment.isoformat()} is outside {EARLIEST.year} to "
                           f"{LATEST.year - 1}")
    return moment


def _moment(value: Any, name: str) -> datetime:
    try:
        return utc_datetime(value)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RequestError(name, f"{exc}; use ISO-8601 with a timezone") from None


def requested_at_field(value: Any, *, now: datetime | None = None) -> datetime:
    """A client's request time, refused unless within the bounds of this machine's clock."""
    moment = _moment(value, "requested_at")
    clock = now or now_utc()
    if moment < clock - REQUESTED_AT_PAST or moment > clock + REQUESTED_AT_FUTURE:
        raise RequestError(
            "requested_at",
            f"{moment.isoformat()} is more than {_span(REQUESTED_AT_PAST)} before or "
            f"{_span(REQUESTED_AT_FUTURE)} after this machine's clock "
            f"({clock.replace(microsecond=0).isoformat()}); leave it out to use the time "
            "the request arrives")
    return moment


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} hour{'s' if minutes // 60 != 1 else ''}" if minutes % 60 == 0 \
        else f"{minutes} minutes"


def _short_number(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{value:.6e}"


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:40] + "..."
    return text.encode("ascii", "backslashreplace").decode("ascii")


def _shown_name(name: str) -> str:
    return name if name.isascii() and name.isprintable() and len(name) <= 64 else _shown(name)


def _guess_field(message: str) -> str:
    for name in sorted(_FIELDS, key=len, reverse=True):
        if name in message:
            return name
    return "request"


def request_from_json(text: str, *, now: datetime | None = None) -> OrderRequest:
    """A request from one JSON text, read exactly (see ``strict_json``)."""
    return request_from_mapping(strict_json.loads(text), now=now)
