"""Kalshi error bodies (three shapes) -> the arbexec error hierarchy.

Shapes: ``{"error": {"code", "message", "details"}}``, flat ``{"code", "message",
"details"}``, and bare ``{"msg": ...}`` or ``{"error": "too many requests"}``. The venue's
code and message are kept on the raised error; nothing from the request (headers, key) is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from attrs import frozen

from arbexec import api as ax
from arbexec_kalshi.scrub import scrub


class OrderMismatch(ax.ExchangeError):
    """The venue holds an order under this identity whose terms (market, side, price or
    size) differ from the request: another client's order, never this request's fill."""

    reason_code = "order_mismatch"


class UnreadableAnswer(ax.ExchangeError):
    """Kalshi answered with a body of a shape arbexec cannot read (never guessed at)."""

    reason_code = "venue_unreadable"


@frozen
class VenueError:
    """What Kalshi said, whatever the body shape."""

    status: int
    code: str | None
    message: str | None
    details: str | None
    #: whether the body was one of Kalshi's error shapes (a clear refusal), not a page
    #: from a proxy, a truncated body or junk
    readable: bool = True


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def parse_error_body(
    status: int, body: bytes | str, secrets: Iterable[str | None] = ()
) -> VenueError:
    """What the venue said, with every known secret scrubbed from it."""
    error = _parse(status, body)
    secrets = tuple(secrets)
    return VenueError(
        error.status,
        scrub(error.code, secrets),
        scrub(error.message, secrets),
        scrub(error.details, secrets),
        error.readable,
    )


def _parse(status: int, body: bytes | str) -> VenueError:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload = json.loads(text) if text.strip() else {}
    except ValueError:
        return VenueError(status, None, " ".join(text.split())[:300] or None, None, False)
    if not isinstance(payload, dict):
        return VenueError(status, None, _text(payload), None, False)
    error = payload.get("error")
    if isinstance(error, dict):
        return VenueError(
            status,
            _text(error.get("code")),
            _text(error.get("message")),
            _text(error.get("details")),
        )
    if isinstance(error, str):
        return VenueError(status, None, error, None)
    readable = any(payload.get(k) for k in ("code", "message", "msg"))
    return VenueError(
        status,
        _text(payload.get("code")),
        _text(payload.get("message") or payload.get("msg")),
        _text(payload.get("details")),
        readable,
    )


def _code_is(code: str | None, *prefixes: str) -> bool:
    return bool(code) and any(code.startswith(p) for p in prefixes)  # type: ignore[union-attr]


def to_exception(
    error: VenueError, *, operation: str, order_request: bool = False
) -> ax.ExchangeError:
    """The arbexec error for a Kalshi refusal, with a message that says what to do."""
    code, status = error.code, error.status
    said = " / ".join(p for p in (code, error.message, error.details) if p) or f"HTTP {status}"
    kwargs: dict[str, Any] = {
        "venue": "kalshi",
        "venue_code": code,
        "venue_message": error.message or error.details,
        "http_status": status,
    }
    lowered = " ".join(p for p in (code, error.message, error.details) if p).lower()

    if status == 410 or _code_is(code, "deprecated"):
        return ax.DeprecatedEndpoint(
            f"Kalshi retired the endpoint used for {operation} ({said}); this arbexec-kalshi "
            "version calls a removed API: upgrade the plugin",
            **kwargs,
        )
    if _code_is(code, "header_timestamp_expired"):
        return ax.AuthenticationError(
            f"Kalshi refused the request timestamp ({said}): the host clock is off by more "
            "than a few seconds; sync it with NTP (see 'arbexec kalshi doctor')",
            **kwargs,
        )
    if status == 401 or _code_is(code, "authentication", "signature_is_missing", "unauthorized"):
        hint = (
            "check KALSHI_API_KEY_ID, the private key and KALSHI_ENV "
            "(demo keys do not work on production)"
        )
        if error.details == "NOT_FOUND":
            hint = (
                "the key id is unknown in this environment; check KALSHI_API_KEY_ID and KALSHI_ENV"
            )
        return ax.AuthenticationError(f"Kalshi rejected the credentials ({said}): {hint}", **kwargs)
    if status == 403:
        return ax.PermissionDenied(
            f"Kalshi denied {operation} ({said}): the API key lacks the scope for it", **kwargs
        )
    if status == 429:
        return ax.RateLimited(f"Kalshi rate limit hit during {operation} ({said})", **kwargs)
    if _code_is(code, "insufficient_balance", "insufficient_funds"):
        return ax.InsufficientFunds(f"Kalshi: insufficient balance for {operation}", **kwargs)
    if status == 409 or _code_is(code, "order_already_exists", "duplicate"):
        return ax.DuplicateOrder(
            f"Kalshi already has an order with this client_order_id ({said})", **kwargs
        )
    if "post only" in lowered or "post_only" in lowered:
        return ax.PostOnlyWouldCross(
            f"Kalshi refused the post-only order because it would cross ({said})", **kwargs
        )
    if _code_is(code, "market_closed", "market_not_open", "trading_paused", "exchange_closed") or (
        "market" in lowered
        and ("closed" in lowered or "not open" in lowered or "paused" in lowered)
    ):
        return ax.MarketClosed(f"Kalshi: the market is not open for trading ({said})", **kwargs)
    if status == 404 or _code_is(code, "not_found", "order_not_found"):
        return ax.OrderNotFound(f"Kalshi does not know it ({operation}: {said})", **kwargs)
    if _code_is(code, "invalid_price"):
        return ax.OffGridOrder(f"Kalshi refused the price as off its grid ({said})", **kwargs)
    if status >= 500:
        return ax.VenueUnavailable(f"Kalshi failed {operation} ({said})", **kwargs)
    if order_request and 400 <= status < 500:
        return ax.InvalidOrder(f"Kalshi rejected the order ({said})", **kwargs)
    return ax.ExchangeError(f"Kalshi refused {operation} ({said})", **kwargs)
