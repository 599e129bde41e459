"""Fault injection for venue tests: an httpx transport wrapper that also acts on replay.

A venue test builds its client on ``FaultTransport(inner, *faults)``. ``inner`` is whatever
answers the test: the cassette (vcrpy patches ``AsyncHTTPTransport`` and ``MockTransport``,
so the wrapper sits *outside* it), a stand-in venue's ``MockTransport`` while recording, or
a real transport. A fault injected here therefore reaches the adapter in every run, which a
scripted failure inside a stand-in does not: on replay the stand-in is not connected.

Each ``Fault`` says which requests it applies to (method, path, an optional predicate over
the ``httpx.Request``) and how many times (``times``; ``None`` = every match), and what
happens to them. Two families:

- *never delivered* (the inner transport and the cassette never see the request):
  ``refuse`` (connection refused), ``connect_timeout``, ``fail_before_sending`` (any
  transport error before the bytes leave), ``respond`` (an answer made up here:
  any status, headers and body, HTML or truncated JSON included), ``answer`` (an answer
  computed from the request, e.g. an error page echoing its headers);
- *delivered, answer lost or mangled* (the inner transport acts on the request, the adapter
  does not learn it): ``read_timeout``, ``reset`` (connection dropped after the request
  went out), ``lose_answer`` (any transport error after delivery), ``mangle`` (the inner
  answer's status/body/headers replaced, or its body rewritten by a function), and
  ``answer(..., deliver=True)``.

``transport.fired`` lists ``(route, fault name)`` in order, ``transport.requests`` every
request seen (faulted or not); ``assert_all_fired()`` fails a
test whose injections did not all happen, so a fault can never silently become dead code.

Example::

    transport = FaultTransport(inner, respond("POST", "/order", 425, json={"error": "..."}))
    client = httpx.AsyncClient(transport=transport)
    ...
    transport.assert_all_fired()
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from attrs import define, field

Matcher = Callable[[httpx.Request], bool]


def _route(request: httpx.Request) -> str:
    return f"{request.method} {request.url.path}"


@define(kw_only=True)
class Fault:
    """One injection: which requests (``method``/``path``/``when``), how often, what."""

    name: str
    method: str | None = None
    path: str | None = None  # exact path, or a prefix when it ends with "*"
    when: Matcher | None = None
    times: int | None = 1  # None: every matching request
    deliver: bool = False  # does the inner transport see the request?
    action: Callable[[httpx.Request, httpx.Response | None], httpx.Response] = field(repr=False)
    used: int = 0

    def matches(self, request: httpx.Request) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        if self.method is not None and request.method != self.method.upper():
            return False
        if self.path is not None:
            path = request.url.path
            if self.path.endswith("*"):
                if not path.startswith(self.path[:-1]):
                    return False
            elif path != self.path:
                return False
        return self.when is None or self.when(request)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times


def _raise(kind: type[httpx.TransportError], text: str) -> Callable[..., httpx.Response]:
    def act(request: httpx.Request, _response: httpx.Response | None) -> httpx.Response:
        raise kind(text, request=request)

    return act


def _body_bytes(json: Any, body: bytes | str | None) -> tuple[bytes, dict[str, str]]:
    if json is not None:
        return _json.dumps(json).encode(), {"content-type": "application/json"}
    if body is None:
        return b"", {}
    return (body.encode() if isinstance(body, str) else body), {}


def fail_before_sending(
    method: str | None = None,
    path: str | None = None,
    error: type[httpx.TransportError] = httpx.ConnectError,
    **kw: Any,
) -> Fault:
    """``error`` raised before the request leaves: the venue never sees it."""
    return Fault(name=f"fail before sending ({error.__name__})", method=method, path=path,
                 action=_raise(error, f"{error.__name__} before sending (injected)"), **kw)


def lose_answer(
    method: str | None = None,
    path: str | None = None,
    error: type[httpx.TransportError] = httpx.ReadTimeout,
    **kw: Any,
) -> Fault:
    """The venue gets and handles the request; ``error`` is all the adapter learns."""
    return Fault(name=f"lose answer ({error.__name__})", method=method, path=path,
                 deliver=True,
                 action=_raise(error, f"{error.__name__}: the answer was lost (injected)"), **kw)


def refuse(method: str | None = None, path: str | None = None, **kw: Any) -> Fault:
    """Connection refused: nothing was sent."""
    return Fault(name="refuse", method=method, path=path,
                 action=_raise(httpx.ConnectError, "connection refused (injected)"), **kw)


def connect_timeout(method: str | None = None, path: str | None = None, **kw: Any) -> Fault:
    """The connection could not be opened in time: nothing was sent."""
    return Fault(name="connect_timeout", method=method, path=path,
                 action=_raise(httpx.ConnectTimeout, "connect timed out (injected)"), **kw)


def read_timeout(method: str | None = None, path: str | None = None, **kw: Any) -> Fault:
    """The request reached the venue, the answer never came back."""
    return Fault(name="read_timeout", method=method, path=path, deliver=True,
                 action=_raise(httpx.ReadTimeout, "read timed out (injected)"), **kw)


def reset(method: str | None = None, path: str | None = None, **kw: Any) -> Fault:
    """The connection dropped after the request went out (the venue may have acted)."""
    return Fault(name="reset", method=method, path=path, deliver=True,
                 action=_raise(httpx.ReadError, "connection reset by peer (injected)"), **kw)


def respond(
    method: str | None,
    path: str | None,
    status: int,
    *,
    json: Any = None,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    **kw: Any,
) -> Fault:
    """Answer here, without delivering: the venue (or a proxy in front) refused at the door."""
    content, base = _body_bytes(json, body)

    def act(request: httpx.Request, _response: httpx.Response | None) -> httpx.Response:
        return httpx.Response(status, content=content, headers={**base, **(headers or {})},
                              request=request)

    return Fault(name=f"respond {status}", method=method, path=path, action=act, **kw)


def answer(
    method: str | None,
    path: str | None,
    reply: Callable[[httpx.Request], httpx.Response],
    **kw: Any,
) -> Fault:
    """Answer with ``reply(request)``; without delivering, unless ``deliver=True`` (the
    venue acts on the request, the adapter sees ``reply``'s answer instead)."""
    def act(request: httpx.Request, _response: httpx.Response | None) -> httpx.Response:
        return reply(request)

    return Fault(name="answer", method=method, path=path, action=act, **kw)


def mangle(
    method: str | None,
    path: str | None,
    *,
    status: int | None = None,
    json: Any = None,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    transform: Callable[[bytes], bytes] | None = None,
    **kw: Any,
) -> Fault:
    """Deliver, then replace the answer's status, body and headers (what was not given is
    kept), or rewrite its body with ``transform``: the venue acted on the request and the
    adapter gets something else back."""
    def act(request: httpx.Request, response: httpx.Response | None) -> httpx.Response:
        assert response is not None
        if transform is not None:
            content = transform(response.content)
            base = {k: v for k, v in response.headers.items()
                    if k.lower() not in ("content-length", "content-encoding")}
        elif json is None and body is None:
            content, base = response.content, dict(response.headers)
        else:
            content, base = _body_bytes(json, body)
            base = {**{k: v for k, v in response.headers.items()
                       if k.lower() not in ("content-length", "content-type",
                                            "content-encoding")}, **base}
        return httpx.Response(status or response.status_code, content=content,
                              headers={**base, **(headers or {})}, request=request)

    return Fault(name="mangle", method=method, path=path, deliver=True, action=act, **kw)


class FaultTransport(httpx.AsyncBaseTransport):
    """Applies the first matching ``Fault`` to each request; passes the rest through."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *faults: Fault) -> None:
        self.inner = inner
        self.faults: list[Fault] = list(faults)
        self.fired: list[tuple[str, str]] = []
        self.calls: dict[str, int] = {}
        self.requests: list[httpx.Request] = []

    def add(self, *faults: Fault) -> FaultTransport:
        self.faults.extend(faults)
        return self

    def _fault_for(self, request: httpx.Request) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                return fault
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = _route(request)
        self.calls[route] = self.calls.get(route, 0) + 1
        self.requests.append(request)
        fault = self._fault_for(request)
        if fault is None:
            return await self.inner.handle_async_request(request)
        fault.used += 1
        self.fired.append((route, fault.name))
        response = None
        if fault.deliver:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        return fault.action(request, response)

    def assert_all_fired(self) -> None:
        """Fail unless every fault with a count was used up (no injection went dead)."""
        idle = [f for f in self.faults if f.times is not None and not f.exhausted]
        if idle:
            raise AssertionError(f"injected faults never fired: {idle}")

    async def aclose(self) -> None:
        await self.inner.aclose()
