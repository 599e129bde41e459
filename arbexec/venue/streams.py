"""HTTP/1.1 on asyncio streams: the venue transport behind httpx, at a fraction of its CPU.

httpx's default transport (httpcore over anyio and h11) costs hundreds of microseconds of
CPU per request and more under concurrency; a venue request is a small JSON exchange on a
kept-alive connection, which needs none of that machinery. ``StreamTransport`` is an
``httpx.AsyncBaseTransport``: callers keep httpx's client, requests, responses and errors,
and the send-once rule (``arbexec.venue.delivery``) keeps its verdicts, because every
failure is raised as the httpx error of the phase it happened in:

========================  ===================================================  ==========
phase                     raised                                               verdict
========================  ===================================================  ==========
waiting for a slot        ``PoolTimeout``                                      not sent
opening the connection    ``ConnectError`` (refused, DNS, TLS handshake),      not sent
                          ``ConnectTimeout``
an unknown URL scheme     ``UnsupportedProtocol``                              not sent
a header with CR/LF       ``LocalProtocolError`` (raised before writing)       ambiguous
writing the request       ``WriteError``, ``WriteTimeout``                     ambiguous
waiting for the answer    ``ReadTimeout``, ``ReadError`` (reset),              ambiguous
                          ``RemoteProtocolError`` (closed, garbage, too big)
========================  ===================================================  ==========

Only the first three phases end before the first byte is handed to the socket, and the
code is laid out so that no "not sent" error can be raised after it: the write is the
boundary. A kept-alive connection the venue has closed is noticed before it is reused
(its end of stream has arrived) and replaced by a new one; a close that crosses the write
is ambiguous, as it must be.

Answers are read whole (venue answers are small JSON documents, capped at
``max_body_bytes``) and handed to httpx, which decodes gzip and deflate. Proxies are not
handled here: a client with a proxy keeps httpx's own transport (``venue_client``).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx
from attrs import define

#: Answers larger than this are refused (RemoteProtocolError): no venue answer comes close.
MAX_BODY_BYTES = 64 * 1024 * 1024
_NO_BODY_STATUS = frozenset({204, 304})
_DEFAULT_PORTS = {"http": 80, "https": 443}

Opener = Callable[..., Any]  # asyncio.open_connection's signature


@define
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def reusable(self, now: float, expiry: float) -> bool:
        """Still open, quiet (no end of stream or stray bytes from the venue) and young."""
        return (not self.writer.is_closing() and not self.reader.at_eof()
                and self.reader.exception() is None and now - self.idle_since < expiry)

    def close(self) -> None:
        self.writer.close()


class StreamTransport(httpx.AsyncBaseTransport):
    """Kept-alive HTTP/1.1 connections per origin, at most ``max_connections`` in use."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 50,
        max_keepalive_connections: int = 20,
        keepalive_expiry: float = 60.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        open_connection: Opener = asyncio.open_connection,
    ) -> None:
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._max_body = max_body_bytes
        self._open_connection = open_connection
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._closed = False

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()  # httpx's: certifi, TLS >= 1.2
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(
                f"the URL scheme {url.scheme!r} is not http or https", request=request)
        if self._closed:
            raise RuntimeError("the transport is closed")
        origin = (url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme])
        await request.aread()
        head, body = _serialise(request)  # LocalProtocolError here: nothing written yet
        # ---- not sent: waiting for a slot and opening the connection
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection slot became free in time",
                                    request=request) from None
        try:
            connection = self._take_idle(origin) or await self._connect(
                origin, timeouts.get("connect"), request)
            # ---- the boundary: from the write on, every failure is ambiguous
            try:
                status, headers, content, keep = await self._exchange(
                    connection, request, head, body, timeouts)
            except BaseException:
                connection.close()
                raise
            self._put_idle(origin, connection, keep)
        finally:
            self._slots.release()
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content),
                              request=request, extensions={
                                  "http_version": b"HTTP/1.1",
                                  "reason_phrase": headers.reason})

    # ------------------------------------------------------------------ connections

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable(now, self._expiry):
                return connection
            connection.close()  # the venue closed it (or it aged out) while it was idle
        return None

    def _put_idle(self, origin: tuple[str, str, int], connection: _Connection,
                  keep: bool) -> None:
        idle = self._idle.setdefault(origin, deque())
        if not keep or self._closed or len(idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None,
                       request: httpx.Request) -> _Connection:
        scheme, host, port = origin
        tls = self.ssl_context if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await self._open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None,
                    limit=256 * 1024)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out",
                                       request=request) from None
        except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
            raise httpx.ConnectError(f"could not connect to {host}:{port}: {exc}",
                                     request=request) from None
        return _Connection(reader, writer)

    # ------------------------------------------------------------------ one exchange

    async def _exchange(self, connection: _Connection, request: httpx.Request, head: bytes,
                        body: bytes, timeouts: dict[str, float | None]
                        ) -> tuple[int, _Headers, bytes, bool]:
        writer, reader = connection.writer, connection.reader
        try:
            writer.write(head + body if len(body) < 65536 else head)
            if len(body) >= 65536:
                writer.write(body)
            async with asyncio.timeout(timeouts.get("write")):
                await writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("writing the request timed out", request=request) from None
        except (OSError, RuntimeError) as exc:
            raise httpx.WriteError(f"writing the request failed: {exc}",
                                   request=request) from None
        try:
            async with asyncio.timeout(timeouts.get("read")):
                while True:
                    status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
                    if not 100 <= status < 200:
                        break  # an interim 1xx answer is followed by the real one
                content, complete = await self._body(reader, request.method, status, headers)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer in time", request=request) from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError("the server closed the connection before the "
                                            "answer was complete", request=request) from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError("the answer's head is too long",
                                            request=request) from None
        except _BadAnswer as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ReadError(f"reading the answer failed: {exc}",
                                  request=request) from None
        keep = complete and headers.keep_alive
        return status, headers, content, keep

    async def _body(self, reader: asyncio.StreamReader, method: str, status: int,
                    headers: _Headers) -> tuple[bytes, bool]:
        """The answer's body, and whether the connection can carry another request."""
        if method == "HEAD" or status in _NO_BODY_STATUS:
            return b"", True
        if headers.chunked:
            return await self._chunks(reader), True
        if headers.length is not None:
            if headers.length > self._max_body:
                raise _BadAnswer(f"the answer's body of {headers.length} bytes is too large")
            return await reader.readexactly(headers.length), True
        content = await reader.read(self._max_body + 1)  # delimited by the close
        rest = content
        while rest and len(content) <= self._max_body:
            rest = await reader.read(self._max_body + 1 - len(content))
            content += rest
        if len(content) > self._max_body:
            raise _BadAnswer("the answer's body is too large")
        return content, False

    async def _chunks(self, reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadAnswer("a chunk size that is not hexadecimal") from None
            if size < 0:
                raise _BadAnswer("a negative chunk size")
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > self._max_body:
                raise _BadAnswer("the answer's body is too large")
            parts.append(await reader.readexactly(size))
            if await reader.readexactly(2) != b"\r\n":
                raise _BadAnswer("a chunk not followed by CRLF")

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()


class _BadAnswer(Exception):
    """The venue's bytes are not an HTTP/1.1 answer."""


class _Headers(list[tuple[bytes, bytes]]):
    """An answer's header lines, with the figures the transport itself needs."""

    reason: bytes = b""
    length: int | None = None
    chunked: bool = False
    keep_alive: bool = True


def _serialise(request: httpx.Request) -> tuple[bytes, bytes]:
    body = request.content
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    chunked = False
    for name, value in request.headers.raw:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name or b":" in name:
            raise httpx.LocalProtocolError(
                f"the header {name!r} holds a line break or colon; nothing was sent",
                request=request)
        if name.lower() == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
        lines.append(name + b": " + value)
    if chunked:  # the body was read above: send it as one chunk
        body = (b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)) if body else b"0\r\n\r\n"
    return b"\r\n".join(lines) + b"\r\n\r\n", body


def _parse_head(raw: bytes) -> tuple[int, _Headers]:
    lines = raw[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise _BadAnswer(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
    status = int(parts[1])
    headers = _Headers()
    headers.reason = parts[2] if len(parts) == 3 else b""
    headers.keep_alive = parts[0] == b"HTTP/1.1"
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise _BadAnswer(f"a malformed header line: {line[:80]!r}")
        value = value.strip()
        lower = name.lower()
        if lower == b"content-length":
            if not value.isdigit() or (headers.length is not None
                                       and headers.length != int(value)):
                raise _BadAnswer(f"an invalid Content-Length: {value[:40]!r}")
            headers.length = int(value)
        elif lower == b"transfer-encoding":
            headers.chunked = value.lower().endswith(b"chunked")
        elif lower == b"connection":
            tokens = {t.strip() for t in value.lower().split(b",")}
            if b"close" in tokens:
                headers.keep_alive = False
            elif b"keep-alive" in tokens:
                headers.keep_alive = True
        headers.append((name, value))
    return status, headers
