"""The CLOB HTTP client: one pooled connection set, L2 signing, bounded retries.

Reads (GET) are retried by the toolkit's ``with_read_retries`` (jittered exponential
backoff on 429, 5xx and transport errors); a ``Retry-After`` is honoured up to
``max_retry_wait`` seconds, and a longer one ends the read with ``RateLimited`` instead of a
hang. Order posts and cancels are sent once: the toolkit's send-once rule says which
transport failures prove nothing was sent; after any other, a post raises
``AmbiguousSubmission`` and is resolved by looking the order hash up, never by resending.
Every CLOB call first waits for room under the venue's published limits (``limits``).

The one exception is HTTP 425 (Too Early): the matching engine restarts weekly for about
90 s and answers 425 meanwhile, which means "not accepted". Orders, cancels and reads are
sent again, unchanged (an identical signed order has the same hash, so it cannot double),
with backoff inside a bounded budget (``too_early_budget`` seconds, counted in the waits
themselves); then ``MatchingEngineRestarting`` says so plainly.

Bodies are serialised by the caller once; those bytes are signed and sent unchanged.
Everything the venue sends back is scrubbed of this account's secrets before it is parsed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx

from arbexec import api as errors
from arbexec.api import (
    RateLimiter,
    ReadRetry,
    loads_exact,
    retry_after,
    transport_failure,
    venue_client,
    with_read_retries,
)
from arbexec_polymarket.auth import L2Signer
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.limits import CLOB_LIMITS, GAMMA_LIMITS
from arbexec_polymarket.scrub import Scrubber
from arbexec_polymarket.venue_errors import (
    VENUE,
    MatchingEngineRestarting,
    classify,
    venue_message,
)

T = TypeVar("T")

_JSON = {"Content-Type": "application/json"}
_USER_AGENT = "arbexec-polymarket/0.1"
_ORDER_SIGNATURE = re.compile(r'"signature"\s*:\s*"(0x[0-9a-fA-F]+)"')
#: First wait after a 425, doubled per attempt up to ``_TOO_EARLY_MAX_WAIT``.
_TOO_EARLY_FIRST_WAIT = 1.0
_TOO_EARLY_MAX_WAIT = 10.0


def make_client(
    config: PolymarketConfig, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The pooled client of one venue instance: the toolkit's stream transport, or httpx's
    own when the config names a proxy (including SOCKS5), or ``transport`` when given."""
    return venue_client(
        timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
        headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
        proxy=config.proxy_url, transport=transport, venue="polymarket",
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20,
                            keepalive_expiry=60),
    )


def too_early_waits(budget: float) -> list[float]:
    """The waits between attempts after 425 answers: doubling, capped, summing to the
    budget at most (so the number of attempts is fixed whatever the clock says)."""
    waits: list[float] = []
    wait, spent = _TOO_EARLY_FIRST_WAIT, 0.0
    while spent + wait <= budget:
        waits.append(wait)
        spent += wait
        wait = min(wait * 2, _TOO_EARLY_MAX_WAIT)
    return waits


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
        self.limiter = RateLimiter(CLOB_LIMITS, sleep=sleep)
        self.gamma_limiter = RateLimiter(GAMMA_LIMITS, sleep=sleep)
        self.read_retry = ReadRetry(
            attempts=config.read_retries + 1,
            first_wait=config.retry_backoff,
            max_backoff=config.max_retry_wait,
            max_retry_wait=config.max_retry_wait,
        )
        self.scrub = Scrubber()
        if l2 is not None:
            api = l2.credentials
            self.scrub.add(api.api_key, api.secret, api.passphrase)

    def _parse(self, response: httpx.Response) -> Any:
        """The answer's JSON (or text), with this account's secrets removed first."""
        if not response.content:
            return None
        text = response.content.decode("utf-8", "replace")
        try:
            sent: httpx.Request | None = response.request
        except RuntimeError:  # a response built without its request
            sent = None
        extra: list[str] = []
        if sent is not None:
            extra.append(sent.headers.get("POLY_SIGNATURE", ""))
            extra.extend(_ORDER_SIGNATURE.findall(sent.content.decode("utf-8", "replace")))
        text = self.scrub(text, extra)
        try:
            return loads_exact(text)  # numbers exact: Decimal from the venue's literal
        except ValueError:
            return text

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
        payload = self._parse(response)
        message = venue_message(payload, fallback=response.reason_phrase or str(status))
        error = classify(message, http_status=status, default=refusal, what=what,
                         retry_after=retry_after(response.headers))
        error.payload = payload  # type: ignore[attr-defined]
        raise error

    async def _limit(self, method: str, path: str, host: str | None) -> None:
        if host is None or host == self.config.host:  # the limits are the CLOB's
            await self.limiter.acquire(f"{method} {path}")
        elif host == self.config.gamma_host:
            await self.gamma_limiter.acquire(f"{method} {path}")

    async def _until_accepted(
        self, call: Callable[[], Awaitable[T]], early_waits: list[float]
    ) -> T:
        """``call()`` again after each 425 (not accepted) while ``early_waits`` last."""
        while True:
            try:
                return await call()
            except MatchingEngineRestarting:
                if not early_waits:
                    raise
                await self._sleep(early_waits.pop(0))

    async def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        auth: bool = False,
        host: str | None = None,
    ) -> Any:
        """A read, retried on 429, 5xx and transport errors with jittered backoff, and on
        425 within the restart budget (425 waits do not count as retries)."""
        early_waits = too_early_waits(self.config.too_early_budget)

        async def once() -> Any:
            await self._limit("GET", path, host)
            headers = self._auth_headers("GET", path, b"") if auth else None
            try:
                response = await self.client.get(
                    self._url(path, host), params=params, headers=headers,
                    timeout=self._read_timeout,
                )
            except httpx.TransportError as exc:
                raise errors.NetworkError(
                    f"Polymarket GET {path} failed: {type(exc).__name__}", venue=VENUE
                ) from None
            self._raise_for(response, f"GET {path}")
            return self._parse(response)

        return await with_read_retries(
            lambda: self._until_accepted(once, early_waits),
            self.read_retry,
            sleep=self._sleep,
            final=(MatchingEngineRestarting,),
        )

    async def send_once(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        refusal: type[errors.ExchangeError] = errors.ExchangeError,
        timeout: float | None = None,
    ) -> Any:
        """A write sent once; sent again only after a 425 (not accepted), within the
        restart budget. Transport trouble after sending is ambiguous."""
        return await self._until_accepted(
            lambda: self._send_one(method, path, body, auth=auth, headers=headers,
                                   refusal=refusal, timeout=timeout),
            too_early_waits(self.config.too_early_budget),
        )

    async def _send_one(
        self,
        method: str,
        path: str,
        body: bytes | None,
        *,
        auth: bool,
        headers: Mapping[str, str] | None,
        refusal: type[errors.ExchangeError],
        timeout: float | None,
    ) -> Any:
        await self._limit(method, path, None)
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
            timeout=self._order_timeout if timeout is None else httpx.Timeout(timeout),
        )
        try:
            response = await self.client.send(request)
        except httpx.TransportError as exc:
            raise transport_failure(
                exc, venue=VENUE, what=f"Polymarket {method} {path}", write=True
            ) from None
        self._raise_for(response, f"{method} {path}", refusal)
        return self._parse(response)

    async def post_order_body(self, path: str, body: bytes) -> Any:
        """POST /order or /orders: any doubt about delivery is ``AmbiguousSubmission``.

        Only a clear refusal is one: a 425 (not accepted), a 429, or a 4xx carrying the
        venue's JSON error. A 5xx, or a 4xx whose body is not the venue's error shape (an
        HTML page of a proxy, truncated JSON), leaves the order's fate open."""
        try:
            return await self.send_once("POST", path, body, refusal=errors.InvalidOrder)
        except (errors.AmbiguousSubmission, errors.NetworkError) as exc:
            if not isinstance(exc, errors.VenueUnavailable) or isinstance(
                exc, MatchingEngineRestarting
            ):
                raise  # already ambiguous, or nothing was sent / not accepted (425, 429)
            cause: errors.ExchangeError = exc
        except errors.ExchangeError as exc:
            payload = getattr(exc, "payload", None)
            if isinstance(payload, dict) and any(
                payload.get(k) for k in ("error", "errorMsg", "error_msg")
            ):
                raise  # the venue's own refusal
            cause = exc
        raise errors.AmbiguousSubmission(
            f"{cause} (the order may have been accepted)",
            venue=VENUE,
            venue_message=cause.venue_message,
            http_status=cause.http_status,
        )

    async def aclose(self) -> None:
        await self.client.aclose()


def compact(payload: Any) -> bytes:
    """Compact JSON bytes: the form the venue's HMAC recipe and the official clients use."""
    return json.dumps(payload, separators=(",", ":")).encode()
