"""The HTTP client of a venue adapter: httpx's API, without its per-request machinery.

``venue_client`` builds an ``httpx.AsyncClient`` (a ``VenueClient``) on the fast transport
(``arbexec.venue.streams``). Callers use httpx as always: ``request``, ``get``,
``build_request`` and ``send``, httpx's requests, responses and errors, any
``httpx.AsyncBaseTransport`` given in its place (a test's ``MockTransport``, a cassette's
transport, ``arbexec.testing.faults.FaultTransport``).

With a proxy (``http://``, ``https://``, ``socks5://``) the client keeps httpx's own
transport, which speaks to proxies; the choice is logged once with its reason. Proxies
named by the environment (``HTTPS_PROXY``, ``ALL_PROXY``) are mounted by httpx itself and
are honoured the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx
from httpx._client import USE_CLIENT_DEFAULT, ClientState, UseClientDefault

from arbexec.venue.streams import StreamTransport

log = logging.getLogger("arbexec.venue")


class VenueClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose ``send`` hands a request straight to its transport.

    Venue APIs authenticate with signed headers, never cookies, and are never followed
    through redirects; httpx's cookie jar, auth flow, redirect loop and event hooks cost
    about 85 us of CPU per request for nothing. A call that asks for any of them (``stream``,
    an ``auth``, ``follow_redirects``, a client built with hooks or auth) takes httpx's
    own path unchanged. The answer is read before ``send`` returns, as httpx does."""

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        plain = (not stream and isinstance(auth, UseClientDefault) and self._auth is None
                 and not (self.follow_redirects if isinstance(follow_redirects,
                                                              UseClientDefault)
                          else follow_redirects)
                 and not self._event_hooks["request"] and not self._event_hooks["response"])
        if not plain or self._state is ClientState.CLOSED:
            return await super().send(request, stream=stream, auth=auth,
                                      follow_redirects=follow_redirects)
        self._state = ClientState.OPENED
        response = await self._transport_for_url(request.url).handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response


def venue_client(
    *,
    timeout: httpx.Timeout,
    headers: Mapping[str, str],
    proxy: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    limits: httpx.Limits | None = None,
    venue: str = "venue",
) -> httpx.AsyncClient:
    """The client of one venue instance: ``transport`` when given (tests, recordings);
    else httpx's transport when a ``proxy`` is set; else the fast stream transport."""
    common: dict[str, Any] = {"timeout": timeout, "headers": dict(headers),
                              "follow_redirects": False}
    if transport is not None:
        return VenueClient(transport=transport, **common)
    limits = limits or httpx.Limits(max_connections=50, max_keepalive_connections=20,
                                    keepalive_expiry=60)
    if proxy:
        log.info("%s: a proxy is set, so requests use httpx's own transport (it speaks "
                 "HTTP and SOCKS proxies; about 5 times the CPU per request)", venue)
        return VenueClient(proxy=proxy, limits=limits, **common)
    return VenueClient(transport=StreamTransport(
        max_connections=limits.max_connections or 50,
        max_keepalive_connections=limits.max_keepalive_connections or 20,
        keepalive_expiry=limits.keepalive_expiry or 60.0), **common)
