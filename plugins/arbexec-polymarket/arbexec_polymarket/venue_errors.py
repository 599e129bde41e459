"""Polymarket refusals mapped onto arbexec's error hierarchy, keeping the venue's words.

The CLOB answers errors as ``{"error": "..."}`` (HTTP 4xx/5xx) or, for an order post, as
``{"success": false, "errorMsg": "..."}``. Both codes (``INVALID_ORDER_MIN_TICK_SIZE``) and
sentences (``not enough balance / allowance``) occur, so matching is by fragment.
"""

from __future__ import annotations

import json
from typing import Any

from arbexec import api as errors
from arbexec.api import SERVER_ERRORS, Refusal, refusal_for

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

#: Polymarket's refusals, first match wins (order matters): the statuses that decide before
#: any text (425, 429, and a 5xx unless the text says the exchange is paused), then the
#: venue's codes and sentences by fragment, then 401/403 (both are about the key here);
#: what none claims falls to the toolkit's baseline by status.
REFUSALS: tuple[Refusal, ...] = (
    Refusal(MatchingEngineRestarting, "the matching engine is restarting; not accepted",
            statuses=frozenset({425})),
    Refusal(errors.RateLimited, "slow down", statuses=frozenset({429})),
    Refusal(errors.MarketClosed, "the exchange is paused", fragments=("trading is currently",)),
    Refusal(errors.MarketClosed, "the exchange accepts only cancels now",
            fragments=("cancel-only",)),
    Refusal(errors.VenueUnavailable, "the venue failed; try again later",
            statuses=SERVER_ERRORS),
    Refusal(errors.InvalidOrder, "signed for the wrong exchange version",
            fragments=("order_version_mismatch",)),
    Refusal(errors.InvalidOrder, "signed for the wrong exchange version",
            fragments=("invalid order version",)),
    Refusal(errors.AuthenticationError,
            "the API key belongs to another address than the order signer",
            fragments=("signer address has to be the address of the api key",)),
    Refusal(errors.AuthenticationError,
            "this account must trade through its deposit wallet (signature type 3)",
            fragments=("maker address not allowed",)),
    Refusal(errors.AuthenticationError,
            "check the signature type, funder and the market's neg-risk flag",
            fragments=("invalid signature",)),
    Refusal(errors.AuthenticationError, "check the funder",
            fragments=("invalid poly_proxy signature",)),
    Refusal(errors.AuthenticationError, "check the API key, secret and passphrase",
            fragments=("unauthorized",)),
    Refusal(errors.AuthenticationError, "check the API key, secret and passphrase",
            fragments=("invalid api key",)),
    Refusal(errors.AuthenticationError, "check the wallet key and clock",
            fragments=("invalid l1 request headers",)),
    Refusal(errors.InsufficientFunds, "deposit pUSD or approve the exchanges",
            fragments=("not enough balance",)),
    Refusal(errors.InsufficientFunds, "approve the exchanges, then refresh the allowance",
            fragments=("allowance",)),
    Refusal(errors.InsufficientFunds, "deposit pUSD",
            fragments=("invalid_order_not_enough_balance",)),
    Refusal(errors.AuthenticationError, "the signature type does not match",
            fragments=("no deposit wallet found",)),
    Refusal(errors.NoLiquidity, "nothing crossed the limit price",
            fragments=("no orders found to match",)),
    Refusal(errors.NoLiquidity, "not enough depth at the limit",
            fragments=("fok orders are fully filled or killed",)),
    Refusal(errors.NoLiquidity, "not enough depth at the limit",
            fragments=("fok_order_not_filled",)),
    Refusal(errors.PostOnlyWouldCross, "the post-only order would cross",
            fragments=("invalid post-only order",)),
    Refusal(errors.PostOnlyWouldCross, "the post-only order would cross",
            fragments=("invalid_post_only_order",)),
    Refusal(errors.OffGridOrder, "the price is off the market's current tick",
            fragments=("min_tick_size",)),
    Refusal(errors.OffGridOrder, "the price is off the market's current tick",
            fragments=("tick size",)),
    Refusal(errors.OffGridOrder, "amounts have too many decimals", fragments=("max accuracy",)),
    Refusal(errors.OffGridOrder, "amounts have too many decimals", fragments=("invalid amounts",)),
    Refusal(errors.OffGridOrder, "the order is below the market's minimum size",
            fragments=("min_size",)),
    Refusal(errors.OffGridOrder, "the order is below the market's minimum size",
            fragments=("lower than the minimum",)),
    Refusal(errors.DuplicateOrder, "the venue already has this order", fragments=("duplicated",)),
    Refusal(errors.MarketClosed, "the market is not open for orders",
            fragments=("market is not yet ready",)),
    Refusal(errors.MarketClosed, "the market is not open for orders",
            fragments=("market_not_ready",)),
    Refusal(errors.MarketClosed, "the market no longer trades", fragments=("market is closed",)),
    Refusal(errors.MarketClosed, "the market no longer trades", fragments=("market closed",)),
    Refusal(errors.PermissionDenied, "this account may only reduce its positions",
            fragments=("closed-only",)),
    Refusal(errors.PermissionDenied, "this account may only reduce its positions",
            fragments=("closed only",)),
    Refusal(errors.PermissionDenied, "this account may only reduce its positions",
            fragments=("closed_only",)),
    Refusal(errors.MarketClosed, "the market is resolved", fragments=("resolved",)),
    Refusal(errors.MarketClosed, "the exchange is paused",
            fragments=("trading is currently disabled",)),
    Refusal(errors.MarketClosed, "the exchange accepts only cancels now",
            fragments=("cancel-only",)),
    Refusal(errors.MarketClosed, "the exchange accepts only post-only orders now",
            fragments=("post-only mode",)),
    Refusal(errors.InvalidOrder, "GTD expiry must be at least 60 s ahead",
            fragments=("expiration",)),
    Refusal(errors.MarketClosed, "the market does not exist or no longer trades",
            fragments=("market not found",)),
    Refusal(errors.OrderNotFound, "the venue does not know this order", fragments=("not found",)),
    Refusal(errors.OrderNotFound, "the venue does not know this id", fragments=("does not exist",)),
    Refusal(errors.AuthenticationError, "check the API key and wallet",
            statuses=frozenset({401, 403})),
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
    what: str | None = None,
    retry_after: float | None = None,
) -> errors.ExchangeError:
    """The arbexec error for a venue refusal (``what``: the call, for the message);
    ``venue_message`` keeps the venue's text."""
    rule = refusal_for(http_status, message, rules=REFUSALS, default=default)
    on = f" on {what}" if what else ""
    kwargs: dict[str, Any] = {
        "venue": VENUE,
        "venue_code": _code(message),
        "venue_message": message,
        "http_status": http_status,
    }
    if rule.error is MatchingEngineRestarting:
        return MatchingEngineRestarting(
            f"Polymarket answered 425 Too Early{on} (the matching engine is restarting); "
            f"not accepted: {message}",
            **kwargs,
        )
    if rule.error is errors.RateLimited:
        return errors.RateLimited(
            f"Polymarket rate limit{on}: {message}", retry_after=retry_after, **kwargs
        )
    if rule.error is errors.VenueUnavailable:
        return errors.VenueUnavailable(f"Polymarket {http_status}{on}: {message}", **kwargs)
    hint = f" ({rule.hint})" if rule.hint else ""
    return rule.error(f"Polymarket refused: {message}{hint}", **kwargs)


def _code(message: str) -> str | None:
    head = message.strip().split(" ", 1)[0].rstrip(":")
    return head if head.isupper() and "_" in head else None
