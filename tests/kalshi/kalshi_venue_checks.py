"""An httpx transport wrapper that holds every Kalshi exchange to the venue's rules, on
recording and on replay alike.

Between the adapter and whatever answers (the stand-in when recording, the cassette on
replay) it

* verifies the request signature (RSA-PSS/Ed25519 over ``timestamp + METHOD + path``)
  with the test public key and the timestamp window, and answers 401 as Kalshi does when
  either fails, so a garbage signature can never pass a recorded test;
* validates every request against kalshi-python-sync 3.34.0's request models and every
  answer against its response models (``sdk_models``), recording violations that fail
  the test;
* injects faults (``inject``) through the shared ``arbexec.testing.faults`` transport:
  answers served without reaching the venue, transport errors before the bytes leave,
  answers lost after the venue got the request, and answers replaced after it (HTML,
  truncated JSON, wrong content type). Because the wrapper sits above vcrpy's patched
  transport, an injected fault is seen by the adapter on replay.

The fault shapes below are Kalshi-flavoured names for the shared faults (``to_fault``);
the injection mechanism itself is ``FaultTransport``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import kalshi_sdk_models as sdk_models
from attrs import define, field, frozen

from arbexec.testing import faults as shared

SKEW_MS = 10_000


@frozen
class Respond:
    """Answer without reaching the venue (the venue never sees the request)."""

    status: int
    content: bytes = b""
    content_type: str = "application/json"


@frozen
class FailBeforeSending:
    """A transport error before the request leaves (``ConnectError`` and the like)."""

    error: type[httpx.TransportError] = httpx.ConnectError


@frozen
class LoseAnswer:
    """The venue gets the request; its answer is lost (``ReadTimeout`` and the like)."""

    error: type[httpx.TransportError] = httpx.ReadTimeout


@frozen
class ReplaceAnswer:
    """The venue gets and handles the request; the adapter sees this answer instead."""

    status: int
    content: bytes
    content_type: str = "text/html"


@frozen
class AnswerWith:
    """The venue gets and handles the request; ``make(request)`` is the answer seen
    (for answers built from the request, such as a proxy echoing its headers)."""

    make: Callable[[httpx.Request], httpx.Response]


Fault = Respond | FailBeforeSending | LoseAnswer | ReplaceAnswer | AnswerWith


def to_fault(fault: Fault, method: str, path: str) -> shared.Fault:
    """The shared fault that serves ``fault`` once to the next ``method path`` call."""
    if isinstance(fault, Respond):
        return shared.respond(method, path, fault.status, body=fault.content,
                              headers={"content-type": fault.content_type})
    if isinstance(fault, FailBeforeSending):
        return shared.fail_before_sending(method, path, fault.error)
    if isinstance(fault, LoseAnswer):
        return shared.lose_answer(method, path, fault.error)
    if isinstance(fault, ReplaceAnswer):
        content, content_type = fault.content, fault.content_type
        return shared.answer(method, path, lambda request: httpx.Response(
            fault.status, content=content, headers={"content-type": content_type},
            request=request), deliver=True)
    return shared.answer(method, path, fault.make, deliver=True)


def _error(status: int, code: str, details: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"code": code, "message": code.replace("_", " ")}
    if details:
        body["details"] = details
    return httpx.Response(status, json={"error": body})


def _verifier(public_key_pem: str) -> Callable[[bytes, bytes], None]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    key = serialization.load_pem_public_key(public_key_pem.encode())
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.verify
    assert isinstance(key, rsa.RSAPublicKey)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return lambda signature, message: key.verify(signature, message, pss, hashes.SHA256())


@define
class CheckedTransport(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport
    public_key_pem: str = field(repr=False)
    key_id: str
    clock_ms: Callable[[], int] = field(default=lambda: time.time_ns() // 1_000_000)
    violations: list[str] = field(factory=list)
    requests: list[httpx.Request] = field(factory=list, repr=False)
    #: (METHOD, route) of exchanges the SDK does not know and a test sends on purpose
    allowed_unknown: set[tuple[str, str]] = field(factory=set)
    faults: shared.FaultTransport = field(init=False, repr=False)
    _verify: Callable[[bytes, bytes], None] = field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._verify = _verifier(self.public_key_pem)
        self.faults = shared.FaultTransport(self.inner)

    def inject(self, method: str, route: str, *faults: Fault) -> None:
        """Serve ``faults`` in turn to the next ``METHOD route`` calls (route without the
        ``/trade-api/v2`` prefix)."""
        path = sdk_models.API_PREFIX + route
        self.faults.add(*(to_fault(f, method.upper(), path) for f in faults))

    def pending_faults(self) -> list[tuple[str, str]]:
        return sorted({
            (f.method or "", (f.path or "").removeprefix(sdk_models.API_PREFIX))
            for f in self.faults.faults if not f.exhausted
        })

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        route = path.removeprefix(sdk_models.API_PREFIX)
        await request.aread()
        if (request.method, route) not in self.allowed_unknown:
            self._check_request(request)
        denied = self._authenticate(request) if route.startswith("/portfolio") else None
        if denied is not None:
            return denied
        fired = len(self.faults.fired)
        response = await self.faults.handle_async_request(request)
        content = await response.aread()
        if len(self.faults.fired) > fired:
            return response  # an injected answer: not the venue's, not checked as one
        if (request.method, route) not in self.allowed_unknown:
            self.violations += sdk_models.check_response(
                request.method, path, response.status_code, content
            )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content
        )

    def _check_request(self, request: httpx.Request) -> None:
        query = {k: v for k, v in parse_qs(request.url.query.decode()).items()}
        self.violations += sdk_models.check_request(
            request.method, request.url.path, query, request.content or None
        )

    def _authenticate(self, request: httpx.Request) -> httpx.Response | None:
        """Kalshi's own checks, in its order; a failure is the venue's 401."""
        headers = request.headers
        signature = headers.get("KALSHI-ACCESS-SIGNATURE")
        if not signature:
            return _error(401, "signature_is_missing_from_headers")
        if headers.get("KALSHI-ACCESS-KEY") != self.key_id:
            return _error(401, "authentication_error", "NOT_FOUND")
        stamp = headers.get("KALSHI-ACCESS-TIMESTAMP", "")
        if not stamp.isdigit() or abs(int(stamp) - self.clock_ms()) > SKEW_MS:
            return _error(401, "header_timestamp_expired")
        message = f"{stamp}{request.method}{request.url.path}".encode()
        try:
            self._verify(base64.b64decode(signature, validate=True), message)
        except Exception:
            return _error(401, "authentication_error", "INCORRECT_API_KEY_SIGNATURE")
        return None

    async def aclose(self) -> None:
        await self.inner.aclose()
