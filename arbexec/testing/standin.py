"""The base of a venue's stand-in for tests: routing, paging, request log, transports.

A venue's stand-in (``arbexec_kalshi.testing``, ``arbexec_polymarket.testing``) holds one
test account's state and answers httpx requests the way the venue does. What every
stand-in needs is here, so each writes only its venue's answers:

- **routes**: ``route(method, pattern)`` registers a handler for a path pattern whose
  ``{name}`` segments are captured (``"/markets/{ticker}/orderbook"``); a handler gets the
  ``httpx.Request`` and the captured names and returns an ``httpx.Response``. A venue
  adds routes in its constructor or a test adds one later: ``dispatch`` tries them first;
- **paging**: ``offset_page`` cuts a list at an offset cursor (each venue encodes the
  cursor its own way) so listings of any size page the same way everywhere;
- **request log**: ``requests`` keeps every request, in order;
- **transports**: ``transport(*faults)`` is the stand-in behind
  ``arbexec.testing.faults.FaultTransport``. Faults are injected there, outside the
  stand-in, so they also act when a cassette answers instead (the stand-in is not
  connected on replay).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
from attrs import field, frozen

from arbexec.testing.faults import Fault, FaultTransport

T = TypeVar("T")
Handler = Callable[..., httpx.Response]


@frozen
class Route:
    method: str
    pattern: str
    handler: Handler = field(repr=False)
    host: str | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        parts = re.split(r"(\{\w+\})", self.pattern)
        regex = "".join(
            f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts
        )
        object.__setattr__(self, "_regex", re.compile(f"^{regex}$"))

    def match(self, request: httpx.Request) -> dict[str, str] | None:
        if request.method != self.method or (self.host and request.url.host != self.host):
            return None
        found = self._regex.match(request.url.path)
        return None if found is None else found.groupdict()


def offset_page(items: Sequence[T], offset: int, limit: int) -> tuple[list[T], int | None]:
    """``items[offset:offset + limit]`` and the next offset (None after the last page)."""
    if offset < 0 or limit <= 0:
        raise ValueError(f"a page needs offset >= 0 and limit > 0, not {offset}, {limit}")
    end = offset + limit
    return list(items[offset:end]), (end if end < len(items) else None)


class StandInVenue:
    """Routing and request log for a venue stand-in (see the module docstring). A stand-in
    answers through ``__call__`` (sync) or ``handle`` (async); an attrs subclass declares
    ``routes`` and ``requests`` as list fields instead of calling ``__init__``."""

    routes: list[Route]
    requests: list[httpx.Request]

    def __init__(self) -> None:
        self.routes = []
        self.requests = []

    def route(self, method: str, pattern: str, *, host: str | None = None
              ) -> Callable[[Handler], Handler]:
        """Register the decorated handler for ``METHOD pattern`` (later routes are tried
        first, so a test can replace a venue's own answer)."""
        def register(handler: Handler) -> Handler:
            self.routes.insert(0, Route(method.upper(), pattern, handler, host))
            return handler

        return register

    def dispatch(self, request: httpx.Request) -> httpx.Response | None:
        """The answer of the first route that matches, or None (then the venue's own
        answers apply)."""
        for route in self.routes:
            captured = route.match(request)
            if captured is not None:
                return route.handler(request, **captured)
        return None

    def log(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def transport(self, *faults: Fault) -> FaultTransport:
        """The stand-in as an httpx transport, behind the fault wrapper."""
        handler: Any = getattr(self, "handle", None) or self
        return FaultTransport(httpx.MockTransport(handler), *faults)
