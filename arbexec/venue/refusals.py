"""A venue's refusal -> the arbexec error hierarchy: a baseline by HTTP status, extended by
each venue's own table of fragments.

Venues say what went wrong in codes (``INVALID_ORDER_MIN_TICK_SIZE``,
``insufficient_balance``) and sentences (``not enough balance / allowance``); the status
alone is too coarse (a 400 can be a bad price or an empty wallet). A venue lists its
``Refusal`` rules, first match wins, and the baseline below decides what no rule claims.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from attrs import frozen

from arbexec.errors import (
    AuthenticationError,
    DeprecatedEndpoint,
    DuplicateOrder,
    ExchangeError,
    OrderNotFound,
    PermissionDenied,
    RateLimited,
    VenueUnavailable,
)

SERVER_ERRORS = frozenset(range(500, 600))


@frozen
class Refusal:
    """One rule: matches a status in ``statuses``, a venue code starting with one of
    ``codes``, a text containing one of ``fragments`` (lower case), or a text for which
    ``when`` holds (for conjunctions of words); ``hint`` says what the user should do."""

    error: type[ExchangeError]
    hint: str = ""
    statuses: frozenset[int] = frozenset()
    codes: tuple[str, ...] = ()
    fragments: tuple[str, ...] = ()
    when: Callable[[str], bool] | None = None

    def matches(self, status: int | None, code: str | None, text: str) -> bool:
        if status is not None and status in self.statuses:
            return True
        if code and any(code.startswith(prefix) for prefix in self.codes):
            return True
        if any(fragment in text for fragment in self.fragments):
            return True
        return self.when is not None and self.when(text)


#: What a status means when no venue rule says more.
BASELINE_REFUSALS: tuple[Refusal, ...] = (
    Refusal(AuthenticationError, "check the API credentials", statuses=frozenset({401})),
    Refusal(PermissionDenied, "the API key lacks the permission", statuses=frozenset({403})),
    Refusal(OrderNotFound, "the venue does not know this id", statuses=frozenset({404})),
    Refusal(DuplicateOrder, "the venue already has this order", statuses=frozenset({409})),
    Refusal(DeprecatedEndpoint, "the endpoint is retired: upgrade the plugin",
            statuses=frozenset({410})),
    Refusal(RateLimited, "slow down", statuses=frozenset({429})),
    Refusal(VenueUnavailable, "the venue failed; try again later", statuses=SERVER_ERRORS),
)


def refusal_for(
    status: int | None,
    text: str = "",
    *,
    code: str | None = None,
    rules: Iterable[Refusal] = (),
    baseline: Iterable[Refusal] = BASELINE_REFUSALS,
    default: type[ExchangeError] = ExchangeError,
) -> Refusal:
    """The first of the venue's ``rules``, then of the ``baseline``, that matches; else a
    plain ``default`` refusal. ``text`` is matched case-insensitively."""
    lowered = text.lower()
    for rule in (*rules, *baseline):
        if rule.matches(status, code, lowered):
            return rule
    return Refusal(default)
