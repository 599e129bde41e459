"""The CLOB HTTP client: one pooled connection set, L2 signing, retries for reads only.

Reads (GET) are retried with exponential backoff on 429, 5xx and transport errors. Order
posts and cancels are sent exactly once: a post whose answer is lost raises
``AmbiguousSubmission`` and is resolved by looking the order hash up, never by resending.
Bodies are serialised by the caller once; those bytes are signed and sent unchanged.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from arbexec import api as errors
from arbexec_polymarket.auth import L2Signer
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.venue_errors import VENUE, classify, venue_message

_JSON = {"Content-Type": "application/json"}
_USER_AGENT = "arbexec-polymarket/0.1"


def make_client(
    config: PolymarketConfig, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The pooled client of one venue instance (proxy, including SOCKS5, from the config)."""
    timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=60)
    headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
    if transport is not None:
        return httpx.AsyncClient(transport=transport, timeout=timeout, headers=headers)
    return httpx.AsyncClient(
        timeout=timeout, limits=limits, headers=headers, proxy=config.proxy_url, http2=False
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _parse(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


class ClobHttp:
    """HTTP calls to the CLOB (and the Gamma / Data APIs) for one account."""

    def __init__(
        self,
        config: PolymarketConfig,
        *,
        l2: L2Signer | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.l2 = l2
        self.client = client if client is not None else make_client(config)
        self._clock = clock
        self._sleep = sleep
        self._read_timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        self._order_timeout = httpx.Timeout(config.order_timeout, connect=config.connect_timeout)

    # ------------------------------------------------------------------ plumbing

    def _auth_headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        if self.l2 is None:
            raise errors.AuthenticationError(
                "this call needs a Polymarket API key (POLYMARKET_API_KEY/SECRET/PASSPHRASE)",
                venue=VENUE,
            )
        return self.l2.headers(method, path, body, timestamp=int(self._clock()))

    def _url(self, path: str, host: str | None) -> str:
        return (host or self.config.host) + path

    def _raise_for(
        self,
        response: httpx.Response,
        what: str,
        refusal: type[errors.ExchangeError] = errors.ExchangeError,
    ) -> None:
        status = response.status_code
        if status < 400:
            return
        message = venue_message(_parse(response), fallback=response.reason_phrase or str(status))
        if status == 429:
            raise errors.RateLimited(
                f"Polymarket rate limit on {what}: {message}",
                retry_after=_retry_after(response),
                venue=VENUE,
                venue_message=message,
                http_status=status,
            )
        if status >= 500 and not any(
            s in message.lower() for s in ("trading is currently", "cancel-only")
        ):
            raise errors.VenueUnavailable(
                f"Polymarket {status} on {what}: {message}",
                venue=VENUE,
                venue_message=message,
                http_status=status,
            )
        error = classify(message, http_status=status, default=refusal)
        error.payload = _parse(response)  # type: ignore[attr-defined]
        raise error

    async def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        auth: bool = False,
        host: str | None = None,
    ) -> Any:
        """A read, retried on 429, 5xx and transport errors with exponential backoff."""
        delay = self.config.retry_backoff
        attempts = self.config.read_retries + 1
        for attempt in range(attempts):
            headers = self._auth_headers("GET", path, b"") if auth else None
            try:
                response = await self.client.get(
                    self._url(path, host),
                    params=params,
                    headers=headers,
                    timeout=self._read_timeout,
                )
                self._raise_for(response, f"GET {path}")
                return _parse(response)
            except (errors.RateLimited, errors.VenueUnavailable) as exc:
                if attempt + 1 >= attempts:
                    raise
                wait = getattr(exc, "retry_after", None) or delay
            except httpx.TransportError as exc:
                if attempt + 1 >= attempts:
                    raise errors.NetworkError(
                        f"Polymarket GET {path} failed: {type(exc).__name__}", venue=VENUE
                    ) from None
                wait = delay
            await self._sleep(wait)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_once(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        refusal: type[errors.ExchangeError] = errors.ExchangeError,
    ) -> Any:
        """A write sent exactly once. Transport trouble after sending is ambiguous."""
        raw = body or b""
        sent = self._auth_headers(method, path, raw) if auth else {}
        if headers:
            sent.update(headers)
        if body is not None:
            sent.update(_JSON)
        request = self.client.build_request(
            method,
            self._url(path, None),
            content=body,
            headers=sent,
            timeout=self._order_timeout,
        )
        try:
            response = await self.client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
            raise errors.NetworkError(
                f"Polymarket {method} {path}: could not connect ({type(exc).__name__}); "
                "nothing was sent",
                venue=VENUE,
            ) from None
        except httpx.TransportError as exc:
            raise errors.AmbiguousSubmission(
                f"Polymarket {method} {path}: {type(exc).__name__} after sending; the venue "
                "may have received it",
                venue=VENUE,
            ) from None
        self._raise_for(response, f"{method} {path}", refusal)
        return _parse(response)

    async def post_order_body(self, path: str, body: bytes) -> Any:
        """POST /order or /orders: any doubt about delivery is ``AmbiguousSubmission``."""
        try:
            return await self.send_once("POST", path, body, refusal=errors.InvalidOrder)
        except errors.VenueUnavailable as exc:
            raise errors.AmbiguousSubmission(
                f"{exc} (the order may have been accepted)",
                venue=VENUE,
                venue_message=exc.venue_message,
                http_status=exc.http_status,
            ) from None

    async def aclose(self) -> None:
        await self.client.aclose()


def compact(payload: Any) -> bytes:
    """Compact JSON bytes: the form the venue's HMAC recipe and the official clients use."""
    return json.dumps(payload, separators=(",", ":")).encode()
