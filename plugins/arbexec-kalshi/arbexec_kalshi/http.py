"""Signed HTTP to the Kalshi REST API: one place for auth, limits, retries and errors.

Reads are retried (429, 5xx, transport errors) by the toolkit's ``with_read_retries``
(jittered backoff), each attempt freshly signed and paid from the read bucket. Writes are
sent once: a refused write raises; an order post whose outcome is unknown (the toolkit's
send-once rule says the request may have left, or a 5xx) raises ``AmbiguousSubmission`` so
that it is resolved by lookup, never resent blindly. A ``header_timestamp_expired`` refusal proves
the request was not processed, so it is re-signed and resent once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from attrs import define, field

from arbexec import api as ax
from arbexec.api import ReadRetry, retry_after, venue_client, was_not_sent, with_read_retries
from arbexec_kalshi.errors import UnreadableAnswer, parse_error_body, to_exception
from arbexec_kalshi.numbers import loads_exact
from arbexec_kalshi.ratelimit import DEFAULT_COST, TokenBucket
from arbexec_kalshi.signing import Signer

log = logging.getLogger("arbexec.kalshi")

USER_AGENT = "arbexec-kalshi/0.1"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def make_client(
    *,
    proxy: str | None = None,
    timeout: float | httpx.Timeout | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client of one venue: ``proxy`` may be http(s):// or socks5:// (then httpx's own
    transport carries it); otherwise the toolkit's stream transport (``venue_client``)."""
    chosen = DEFAULT_TIMEOUT if timeout is None else timeout
    return venue_client(
        timeout=chosen if isinstance(chosen, httpx.Timeout) else httpx.Timeout(chosen),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        proxy=proxy, transport=transport, venue="kalshi",
    )


@define
class KalshiHttp:
    """Signed JSON requests against one REST base URL."""

    base_url: str
    client: httpx.AsyncClient = field(repr=False)
    signer: Signer | None = field(default=None, repr=False)
    read_bucket: TokenBucket | None = field(default=None, repr=False)
    write_bucket: TokenBucket | None = field(default=None, repr=False)
    max_read_attempts: int = 4
    backoff_base: float = 0.25
    backoff_cap: float = 4.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    #: further values never to be shown from a venue answer (e.g. proxy credentials)
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)
    _prefix: str = field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._prefix = urlsplit(self.base_url).path.rstrip("/")

    def _headers(self, method: str, path: str, auth: bool) -> dict[str, str]:
        if not auth:
            return {}
        if self.signer is None:
            raise ax.AuthenticationError(
                "this Kalshi call needs credentials: set KALSHI_API_KEY_ID and "
                "KALSHI_PRIVATE_KEY (or KALSHI_PRIVATE_KEY_PATH)",
                venue="kalshi",
            )
        return self.signer.headers(method, self._prefix + path)

    def _secrets(self, headers: Mapping[str, str]) -> tuple[str | None, ...]:
        key_id = self.signer.key_id if self.signer is not None else None
        return (key_id, headers.get("KALSHI-ACCESS-SIGNATURE"), *self.extra_secrets)

    async def get(self, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return await self.request("GET", path, params=params, **kw)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: bool = True,
        cost: float = DEFAULT_COST,
        operation: str | None = None,
        order_post: bool = False,
        order_request: bool = False,
    ) -> Any:
        """Send one call; returns the decoded JSON (``{}`` for an empty body)."""
        method = method.upper()
        operation = operation or f"{method} {path}"
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}

        async def attempt() -> Any:
            return await self._once(method, path, query, json, auth=auth, cost=cost,
                                    operation=operation, order_post=order_post,
                                    order_request=order_request)

        if method != "GET":
            return await attempt()  # writes are sent once
        return await with_read_retries(
            attempt, self.read_retry, sleep=self.sleep,
            on_retry=lambda error, n: log.info("kalshi %s: %s, retry %d", operation,
                                               type(error).__name__, n),
        )

    @property
    def read_retry(self) -> ReadRetry:
        return ReadRetry(attempts=max(1, self.max_read_attempts), first_wait=self.backoff_base,
                         max_backoff=self.backoff_cap)

    async def _once(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any],
        json: Any,
        *,
        auth: bool,
        cost: float,
        operation: str,
        order_post: bool,
        order_request: bool,
    ) -> Any:
        """One attempt (re-signed once after a ``header_timestamp_expired`` refusal, which
        proves the request was not processed)."""
        bucket = self.write_bucket if method != "GET" else self.read_bucket
        resigned = False
        while True:
            if bucket is not None:
                await bucket.acquire(cost)
            headers = self._headers(method, path, auth)  # fresh timestamp on every attempt
            try:
                response = await self.client.request(
                    method, self.base_url + path, params=query, json=json, headers=headers
                )
            except httpx.RequestError as exc:
                kind = type(exc).__name__
                if order_post and not was_not_sent(exc):
                    raise ax.AmbiguousSubmission(
                        f"Kalshi {operation}: {kind} after the order was sent; its fate is "
                        "unknown until looked up by client_order_id",
                        venue="kalshi",
                    ) from None
                raise ax.NetworkError(
                    f"Kalshi {operation} failed: {kind} (no answer from the venue)",
                    venue="kalshi",
                ) from None
            status = response.status_code
            if status < 300:
                return _decode(response, operation, order_post=order_post)
            error = parse_error_body(status, response.content, self._secrets(headers))
            if error.code == "header_timestamp_expired" and not resigned:
                resigned = True
                log.warning("kalshi %s: timestamp refused, re-signing once", operation)
                continue
            if order_post and (status >= 500 or status < 400 or not error.readable):
                # only a Kalshi error body is a refusal; a redirect, a proxy's page or a
                # truncated body says nothing about whether the order was taken
                raise ax.AmbiguousSubmission(
                    f"Kalshi answered HTTP {status} to {operation}"
                    + ("" if error.readable else " with a body that is not a Kalshi error")
                    + "; the order may or may not exist until looked up by client_order_id",
                    venue="kalshi",
                    venue_code=error.code,
                    venue_message=error.message,
                    http_status=status,
                )
            refusal = to_exception(error, operation=operation, order_request=order_request)
            if isinstance(refusal, ax.RateLimited):
                refusal.retry_after = retry_after(response.headers)
            raise refusal

    async def aclose(self) -> None:
        await self.client.aclose()


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return value


def _decode(response: httpx.Response, operation: str, *, order_post: bool = False) -> Any:
    """The JSON answer, numbers exact. An order post's answer that cannot be read is
    ambiguous (the order may exist); any other unreadable answer is a venue error."""
    if not response.content:
        if order_post:
            raise _ambiguous(response, operation, "an empty body")
        return {}
    content_type = response.headers.get("content-type", "application/json")
    problem = None
    if "json" not in content_type.lower():
        problem = f"a {content_type.split(';')[0]} body"
    else:
        try:
            payload = loads_exact(response.content)
        except (ValueError, UnicodeDecodeError):
            problem = "a body that is not valid JSON"
        else:
            if isinstance(payload, dict):
                return payload
            problem = "JSON that is not an object"
    if order_post:
        raise _ambiguous(response, operation, problem)
    raise UnreadableAnswer(
        f"Kalshi answered {operation} with {problem} (HTTP {response.status_code})",
        venue="kalshi",
        http_status=response.status_code,
    )


def _ambiguous(response: httpx.Response, operation: str, problem: str) -> ax.AmbiguousSubmission:
    return ax.AmbiguousSubmission(
        f"Kalshi answered {operation} with {problem} (HTTP {response.status_code}); the order "
        "may or may not exist until looked up by client_order_id",
        venue="kalshi",
        http_status=response.status_code,
    )
