"""Which failures mean "Redis is away" (retry, back off) rather than a bug."""

from __future__ import annotations


def unreachable_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError

    # a server still loading its append-only file answers LOADING: away, for a moment
    return (ConnectionError, TimeoutError, BusyLoadingError, OSError)


def describe(exc: BaseException) -> str:
    """One line for a Redis failure, with no credentials in it (the client never puts the
    password in its messages)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
