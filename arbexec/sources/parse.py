"""Turn untrusted data (a JSON line, CLI options) into a request, or say exactly what is wrong.

Unknown keys are errors: a misspelled ``limit_prce`` must never become an order without a
limit. Numbers may be JSON numbers or strings; either way they become exact Decimals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attrs import fields

from arbexec.model import OrderRequest, RequestError, to_decimal, utc_datetime

_FIELDS = {a.name for a in fields(OrderRequest)}
_REQUIRED = ("venue", "market", "outcome", "side", "quantity", "limit_price")
_ENUMS = {
    "outcome": ("YES", "NO"),
    "side": ("BUY", "SELL"),
    "time_in_force": ("GTC", "GTD", "IOC", "FOK"),
}


def request_from_mapping(data: Mapping[str, Any]) -> OrderRequest:
    """Build an ``OrderRequest``; raise ``RequestError`` naming the field on any problem.

    ``idempotency_key`` defaults to ``request_id`` and the reverse; one of them is required,
    because a request without a key could not be deduplicated.
    """
    if not isinstance(data, Mapping):
        raise RequestError("request", "must be a JSON object")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise RequestError(
            unknown[0], f"unknown field; valid fields are {', '.join(sorted(_FIELDS))}"
        )
    for name in _REQUIRED:
        if data.get(name) in (None, ""):
            raise RequestError(name, "is required")
    values = dict(data)
    key = values.get("idempotency_key") or values.get("request_id")
    if not key:
        raise RequestError("idempotency_key", "is required (or give a request_id to use as it)")
    values.setdefault("idempotency_key", key)
    values.setdefault("request_id", key)
    for name, allowed in _ENUMS.items():
        if name in values and values[name] is not None:
            text = str(values[name]).upper()
            if text not in allowed:
                raise RequestError(name, f"{values[name]!r} is not one of {', '.join(allowed)}")
            values[name] = text
    for name in ("post_only",):
        if name in values and not isinstance(values[name], bool):
            raise RequestError(name, "must be true or false")
    for name in ("quantity", "limit_price", "reference_price", "expected_value"):
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise RequestError(name, "must be a number")
        try:
            values[name] = to_decimal(value)
        except (TypeError, ValueError) as exc:
            raise RequestError(name, str(exc)) from None
    if values.get("wait_budget") is not None:
        budget = values["wait_budget"]
        if isinstance(budget, bool) or not isinstance(budget, int | float):
            raise RequestError("wait_budget", "must be a number of seconds")
        values["wait_budget"] = float(budget)
    for name in ("expires_at", "requested_at"):
        if values.get(name) is not None:
            try:
                values[name] = utc_datetime(values[name])
            except (TypeError, ValueError) as exc:
                raise RequestError(name, f"{exc}; use ISO-8601 with a timezone") from None
    try:
        return OrderRequest(**values)
    except RequestError:
        raise
    except (TypeError, ValueError, ArithmeticError) as exc:
        name = _guess_field(str(exc))
        raise RequestError(name, str(exc)) from None


def _guess_field(message: str) -> str:
    for name in sorted(_FIELDS, key=len, reverse=True):
        if name in message:
            return name
    return "request"


def request_from_json(text: str) -> OrderRequest:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError("request", f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    return request_from_mapping(data)
