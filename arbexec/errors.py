"""One error hierarchy for the whole product.

Venue plugins map every venue refusal onto the ``ExchangeError`` family and keep the venue's
own code and message; the engine turns each family into an outcome (REJECTED, UNKNOWN, ...)
without knowing which venue raised it. User mistakes (config, requests, plugins) are
``UserError``: the CLI prints them as one line, never as a traceback.
"""

from __future__ import annotations


class ArbexecError(Exception):
    """Base of every error arbexec raises on purpose."""


class UserError(ArbexecError):
    """Something the user can fix: printed as one clear line, exit status 2."""


class ConfigError(UserError):
    """A deployment file is wrong. Names the file, the key, and what would be valid."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        where = ":".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.key = key
        self.detail = message


class PluginError(UserError):
    """A plugin failed to load, implements an unknown hook, or clashes with another."""


class PluginConflictError(PluginError):
    """Two distributions offer the same name for the same kind of thing."""


class UnknownNameError(UserError):
    """A configured venue, rule, sink or source is not offered by any installed plugin."""


class JournalLockedError(UserError):
    """Another engine already drives this journal."""


class JournalError(UserError):
    """The journal cannot be opened, is unreadable, or was written by a newer version."""


class JournalUnusable(JournalError):
    """The journal can no longer take new orders: its file was deleted or replaced under
    the running engine, or the disk is full. ``code`` is the denial code new requests get
    (``journal_lost``, ``journal_full``)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------- venues


class ExchangeError(ArbexecError):
    """A venue refused or failed a call. ``venue_code`` and ``venue_message`` keep its words."""

    reason_code = "venue_error"

    def __init__(
        self,
        message: str,
        *,
        venue: str | None = None,
        venue_code: str | None = None,
        venue_message: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.venue = venue
        self.venue_code = venue_code
        self.venue_message = venue_message
        self.http_status = http_status


class AuthenticationError(ExchangeError):
    reason_code = "authentication"


class PermissionDenied(AuthenticationError):
    reason_code = "permission_denied"


class InsufficientFunds(ExchangeError):
    reason_code = "insufficient_funds"


class InvalidOrder(ExchangeError):
    """The venue (or the plugin, before sending) finds the order itself invalid."""

    reason_code = "invalid_order"


class OffGridOrder(InvalidOrder):
    """Price or quantity is not on the market's grid. Never rounded silently."""

    reason_code = "off_grid"


class PostOnlyWouldCross(InvalidOrder):
    reason_code = "post_only_would_cross"


class NoLiquidity(InvalidOrder):
    """A FOK/IOC order found nothing (or not enough) to trade against."""

    reason_code = "no_liquidity"


class DuplicateOrder(InvalidOrder):
    """The venue already has an order with this client identity (the earlier send landed)."""

    reason_code = "duplicate_order"


class OrderNotFound(InvalidOrder):
    reason_code = "order_not_found"


class MarketClosed(InvalidOrder):
    reason_code = "market_closed"


class DeprecatedEndpoint(ExchangeError):
    """The venue retired the endpoint the plugin called (a plugin upgrade is needed)."""

    reason_code = "deprecated_endpoint"


class NetworkError(ExchangeError):
    """Transport trouble before the venue could answer; safe to retry for reads only."""

    reason_code = "network"


class RateLimited(NetworkError):
    reason_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class VenueUnavailable(NetworkError):
    reason_code = "venue_unavailable"


class AmbiguousSubmission(ExchangeError):
    """The order may or may not have reached the venue (timeout after the bytes left, a 5xx
    on a post, a lost acknowledgement). The order becomes UNKNOWN and is resolved by looking
    it up by its venue-side identity; it is never blindly resent."""

    reason_code = "ambiguous_submission"
