"""Polymarket refusals mapped onto arbexec's error hierarchy, keeping the venue's words.

The CLOB answers errors as ``{"error": "..."}`` (HTTP 4xx/5xx) or, for an order post, as
``{"success": false, "errorMsg": "..."}``. Both codes (``INVALID_ORDER_MIN_TICK_SIZE``) and
sentences (``not enough balance / allowance``) occur, so matching is by fragment.
"""

from __future__ import annotations

import json
from typing import Any

from arbexec import api as errors

VENUE = "polymarket"


class MatchingEngineRestarting(errors.VenueUnavailable):
    """HTTP 425 Too Early: the matching engine is restarting (weekly, about 90 s). The
    request was not accepted; the same signed order (same hash) may be sent again."""

    reason_code = "venue_unavailable"


class AnswerMismatch(errors.ExchangeError):
    """The venue answered about another order than the one asked for (another id, market,
    side, size or price). Never taken as this order's state."""

    reason_code = "venue_mismatch"


class MalformedAnswer(errors.ExchangeError):
    """A venue answer that cannot be read (a number that is not a number, a missing field
    the call depends on). An error, never a silent default."""

    reason_code = "venue_malformed"

#: (fragment, error class, what the user should do). First match wins: order matters.
_RULES: tuple[tuple[str, type[errors.ExchangeError], str], ...] = (
    ("order_version_mismatch", errors.InvalidOrder, "signed for the wrong exchange version"),
    ("invalid order version", errors.InvalidOrder, "signed for the wrong exchange version"),
    (
        "signer address has to be the address of the api key",
        errors.AuthenticationError,
        "the API key belongs to another address than the order signer",
    ),
    (
        "maker address not allowed",
        errors.AuthenticationError,
        "this account must trade through its deposit wallet (signature type 3)",
    ),
    (
        "invalid signature",
        errors.AuthenticationError,
        "check the signature type, funder and the market's neg-risk flag",
    ),
    ("invalid poly_proxy signature", errors.AuthenticationError, "check the funder"),
    ("unauthorized", errors.AuthenticationError, "check the API key, secret and passphrase"),
    ("invalid api key", errors.AuthenticationError, "check the API key, secret and passphrase"),
    ("invalid l1 request headers", errors.AuthenticationError, "check the wallet key and clock"),
    ("not enough balance", errors.InsufficientFunds, "deposit pUSD or approve the exchanges"),
    ("allowance", errors.InsufficientFunds, "approve the exchanges, then refresh the allowance"),
    ("invalid_order_not_enough_balance", errors.InsufficientFunds, "deposit pUSD"),
    ("no deposit wallet found", errors.AuthenticationError, "the signature type does not match"),
    ("no orders found to match", errors.NoLiquidity, "nothing crossed the limit price"),
    ("fok orders are fully filled or killed", errors.NoLiquidity, "not enough depth at the limit"),
    ("fok_order_not_filled", errors.NoLiquidity, "not enough depth at the limit"),
    ("invalid post-only order", errors.PostOnlyWouldCross, "the post-only order would cross"),
    ("invalid_post_only_order", errors.PostOnlyWouldCross, "the post-only order would cross"),
    ("min_tick_size", errors.OffGridOrder, "the price is off the market's current tick"),
    ("tick size", errors.OffGridOrder, "the price is off the market's current tick"),
    ("max accuracy", errors.OffGridOrder, "amounts have too many decimals"),
    ("invalid amounts", errors.OffGridOrder, "amounts have too many decimals"),
    ("min_size", errors.OffGridOrder, "the order is below the market's minimum size"),
    ("lower than the minimum", errors.OffGridOrder, "the order is below the market's minimum size"),
    ("duplicated", errors.DuplicateOrder, "the venue already has this order"),
    ("market is not yet ready", errors.MarketClosed, "the market is not open for orders"),
    ("market_not_ready", errors.MarketClosed, "the market is not open for orders"),
    ("market is closed", errors.MarketClosed, "the market no longer trades"),
    ("market closed", errors.MarketClosed, "the market no longer trades"),
    ("closed-only", errors.PermissionDenied, "this account may only reduce its positions"),
    ("closed only", errors.PermissionDenied, "this account may only reduce its positions"),
    ("closed_only", errors.PermissionDenied, "this account may only reduce its positions"),
    ("resolved", errors.MarketClosed, "the market is resolved"),
    ("trading is currently disabled", errors.MarketClosed, "the exchange is paused"),
    ("cancel-only", errors.MarketClosed, "the exchange accepts only cancels now"),
    ("post-only mode", errors.MarketClosed, "the exchange accepts only post-only orders now"),
    ("expiration", errors.InvalidOrder, "GTD expiry must be at least 60 s ahead"),
    ("market not found", errors.MarketClosed, "the market does not exist or no longer trades"),
    ("not found", errors.OrderNotFound, "the venue does not know this order"),
    ("does not exist", errors.OrderNotFound, "the venue does not know this id"),
)


def venue_message(payload: Any, fallback: str = "") -> str:
    """The venue's own error text out of a parsed or raw response body."""
    if isinstance(payload, bytes | str):
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        try:
            payload = json.loads(text)
        except ValueError:
            return text.strip()[:500] or fallback
    if isinstance(payload, dict):
        for key in ("error", "errorMsg", "error_msg", "message"):
            value = payload.get(key)
            if value:
                return str(value)
    if isinstance(payload, str) and payload:
        return payload
    return fallback


def classify(
    message: str,
    *,
    http_status: int | None = None,
    default: type[errors.ExchangeError] = errors.InvalidOrder,
) -> errors.ExchangeError:
    """The arbexec error for a venue refusal; ``venue_message`` keeps the venue's text."""
    lowered = message.lower()
    cls: type[errors.ExchangeError] = default
    hint = ""
    for fragment, candidate, why in _RULES:
        if fragment in lowered:
            cls, hint = candidate, why
            break
    else:
        if http_status in (401, 403):
            cls, hint = errors.AuthenticationError, "check the API key and wallet"
        elif http_status == 404:
            cls, hint = errors.OrderNotFound, "the venue does not know this id"
    text = f"Polymarket refused: {message}" + (f" ({hint})" if hint else "")
    return cls(
        text,
        venue=VENUE,
        venue_code=_code(message),
        venue_message=message,
        http_status=http_status,
    )


def _code(message: str) -> str | None:
    head = message.strip().split(" ", 1)[0].rstrip(":")
    return head if head.isupper() and "_" in head else None
