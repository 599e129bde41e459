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
from arbexec.api import Refusal, refusal_for
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


def _statuses(*codes: int) -> frozenset[int]:
    return frozenset(codes)


#: Kalshi's refusals, first match wins (order matters); ``hint`` is the message template
#: (``{said}``: the venue's words, ``{operation}``: the call). Codes match by prefix,
#: fragments anywhere in the code, message or details (lower case). What none claims falls
#: to the toolkit's baseline by status.
REFUSALS: tuple[Refusal, ...] = (
    Refusal(ax.DeprecatedEndpoint,
            "Kalshi retired the endpoint used for {operation} ({said}); this arbexec-kalshi "
            "version calls a removed API: upgrade the plugin",
            statuses=_statuses(410), codes=("deprecated",)),
    Refusal(ax.AuthenticationError,
            "Kalshi refused the request timestamp ({said}): the host clock is off by more "
            "than a few seconds; sync it with NTP (see 'arbexec kalshi doctor')",
            codes=("header_timestamp_expired",)),
    Refusal(ax.AuthenticationError,
            "Kalshi rejected the credentials ({said}): check KALSHI_API_KEY_ID, the private "
            "key and KALSHI_ENV (demo keys do not work on production)",
            statuses=_statuses(401),
            codes=("authentication", "signature_is_missing", "unauthorized")),
    Refusal(ax.PermissionDenied,
            "Kalshi denied {operation} ({said}): the API key lacks the scope for it",
            statuses=_statuses(403)),
    Refusal(ax.RateLimited, "Kalshi rate limit hit during {operation} ({said})",
            statuses=_statuses(429)),
    Refusal(ax.InsufficientFunds, "Kalshi: insufficient balance for {operation}",
            codes=("insufficient_balance", "insufficient_funds")),
    Refusal(ax.DuplicateOrder,
            "Kalshi already has an order with this client_order_id ({said})",
            statuses=_statuses(409), codes=("order_already_exists", "duplicate")),
    Refusal(ax.PostOnlyWouldCross,
            "Kalshi refused the post-only order because it would cross ({said})",
            fragments=("post only", "post_only")),
    Refusal(ax.MarketClosed, "Kalshi: the market is not open for trading ({said})",
            codes=("market_closed", "market_not_open", "trading_paused", "exchange_closed"),
            when=lambda text: "market" in text
            and ("closed" in text or "not open" in text or "paused" in text)),
    Refusal(ax.OrderNotFound, "Kalshi does not know it ({operation}: {said})",
            statuses=_statuses(404), codes=("not_found", "order_not_found")),
    Refusal(ax.OffGridOrder, "Kalshi refused the price as off its grid ({said})",
            codes=("invalid_price",)),
)
_CREDENTIALS = REFUSALS[2]
_FAILED = Refusal(ax.VenueUnavailable, "Kalshi failed {operation} ({said})")
_ORDER_REFUSED = Refusal(ax.InvalidOrder, "Kalshi rejected the order ({said})")
_REFUSED = Refusal(ax.ExchangeError, "Kalshi refused {operation} ({said})")


def to_exception(
    error: VenueError, *, operation: str, order_request: bool = False
) -> ax.ExchangeError:
    """The arbexec error for a Kalshi refusal, with a message that says what to do."""
    code, status = error.code, error.status
    said = " / ".join(p for p in (code, error.message, error.details) if p) or f"HTTP {status}"
    lowered = " ".join(p for p in (code, error.message, error.details) if p).lower()
    rule = refusal_for(status, lowered, code=code, rules=REFUSALS)
    if rule.error is ax.VenueUnavailable:  # the baseline's 5xx, in Kalshi's words
        rule = _FAILED
    elif rule not in REFUSALS:  # claimed by no rule
        rule = _ORDER_REFUSED if order_request and 400 <= status < 500 else _REFUSED
    message = rule.hint.format(operation=operation, said=said)
    if rule is _CREDENTIALS and error.details == "NOT_FOUND":
        message = (f"Kalshi rejected the credentials ({said}): the key id is unknown in this "
                   "environment; check KALSHI_API_KEY_ID and KALSHI_ENV")
    return rule.error(
        message,
        venue="kalshi",
        venue_code=code,
        venue_message=error.message or error.details,
        http_status=status,
    )
