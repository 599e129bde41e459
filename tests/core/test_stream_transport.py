"""The stream transport against real loopback sockets: answers, kept-alive connections,
and every failure class with its send-once verdict (only a failure before the first byte
is written proves the request was not sent)."""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from arbexec.errors import AmbiguousSubmission, NetworkError
from arbexec.testing import faults
from arbexec.venue.client import VenueClient, venue_client
from arbexec.venue.delivery import transport_failure, was_not_sent
from arbexec.venue.streams import StreamTransport

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Server"], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"


class Server:
    """A loopback server whose every connection runs ``behaviour``; it records what it got."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.received: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.behaviour(reader, writer, self)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        request = head + (await reader.readexactly(length) if length else b"")
        self.received.append(request)
        return request

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/orders"

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()


@pytest.fixture
async def client() -> AsyncIterator[VenueClient]:
    transport = StreamTransport()
    async with VenueClient(transport=transport, timeout=httpx.Timeout(2.0)) as c:
        yield c


async def answer_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      server: Server, answer: bytes = OK) -> None:
    while True:
        await server.read_request(reader)
        writer.write(answer)
        await writer.drain()


def verdict(error: httpx.TransportError) -> type[Exception]:
    return type(transport_failure(error, venue="v", what="POST /orders", write=True))


# ------------------------------------------------------------------ answers


async def test_answers_are_read_and_connections_are_kept_alive(client: VenueClient) -> None:
    async with Server(answer_each) as server:
        for _ in range(3):
            response = await client.post(server.url, content=b'{"a":1}')
            assert response.status_code == 200 and response.json() == {"ok": True}
    assert server.connections == 1
    assert server.received[0].startswith(b"POST /orders HTTP/1.1\r\n")
    assert server.received[0].endswith(b'\r\n\r\n{"a":1}')
    assert b"\r\nhost: 127.0.0.1:" in server.received[0].lower()


async def test_chunked_and_gzip_answers_are_decoded(client: VenueClient) -> None:
    packed = gzip.compress(b'{"chunked":"yes"}')
    answer = (b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\ncontent-encoding: gzip"
              b"\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
              % (5, packed[:5], len(packed) - 5, packed[5:]))

    async def behaviour(r: Any, w: Any, s: Server) -> None:
        await answer_each(r, w, s, answer)

    async with Server(behaviour) as server:
        response = await client.get(server.url + "?x=1")
        assert response.status_code == 201 and response.json() == {"chunked": "yes"}
        assert response.reason_phrase == "Created"
        assert server.received[0].startswith(b"GET /orders?x=1 HTTP/1.1")
        await client.get(server.url)
    assert server.connections == 1  # a chunked answer leaves the connection reusable


async def test_an_answer_asking_to_close_is_not_reused(client: VenueClient) -> None:
    closing = OK.replace(b"content-length", b"connection: close\r\ncontent-length")

    async def behaviour(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)
        w.write(closing)
        await w.drain()

    async with Server(behaviour) as server:
        await client.get(server.url)
        await client.get(server.url)
    assert server.connections == 2


async def test_a_connection_the_venue_closed_while_idle_is_replaced(
        client: VenueClient) -> None:
    async def behaviour(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)
        w.write(OK)
        await w.drain()  # then close, keep-alive notwithstanding

    async with Server(behaviour) as server:
        await client.get(server.url)
        await asyncio.sleep(0.05)  # the close reaches the idle connection
        response = await client.post(server.url, content=b"{}")
        assert response.status_code == 200
    assert server.connections == 2 and len(server.received) == 2


# ------------------------------------------------------------------ not sent


async def test_connection_refused_proves_not_sent(client: VenueClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as caught:
        await client.post(f"http://127.0.0.1:{port}/orders", content=b"{}")
    assert was_not_sent(caught.value) and verdict(caught.value) is NetworkError


async def test_connect_timeout_proves_not_sent() -> None:
    async def never(*_a: Any, **_k: Any) -> Any:
        await asyncio.sleep(10)

    async with VenueClient(transport=StreamTransport(open_connection=never),
                           timeout=httpx.Timeout(2.0, connect=0.05)) as c:
        with pytest.raises(httpx.ConnectTimeout) as caught:
            await c.post("http://127.0.0.1:9/orders", content=b"{}")
    assert was_not_sent(caught.value) and verdict(caught.value) is NetworkError


async def test_a_failed_tls_handshake_proves_not_sent(client: VenueClient) -> None:
    async def plain(r: Any, w: Any, s: Server) -> None:
        await r.read(1)
        w.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")  # not a TLS server

    async with Server(plain) as server:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.post(f"https://127.0.0.1:{server.port}/orders", content=b"{}")
    assert was_not_sent(caught.value) and verdict(caught.value) is NetworkError
    assert server.received == []


async def test_waiting_for_a_free_connection_proves_not_sent() -> None:
    release = asyncio.Event()

    async def slow(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)
        await release.wait()
        w.write(OK)
        await w.drain()

    async with Server(slow) as server, VenueClient(
            transport=StreamTransport(max_connections=1),
            timeout=httpx.Timeout(2.0, pool=0.05)) as c:
        first = asyncio.create_task(c.post(server.url, content=b"{}"))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout) as caught:
            await c.post(server.url, content=b'{"second":1}')
        release.set()
        assert (await first).status_code == 200
    assert was_not_sent(caught.value) and verdict(caught.value) is NetworkError
    assert len(server.received) == 1


async def test_an_unknown_scheme_proves_not_sent(client: VenueClient) -> None:
    transport = StreamTransport()
    with pytest.raises(httpx.UnsupportedProtocol) as caught:
        await transport.handle_async_request(httpx.Request("POST", "ftp://x/orders"))
    assert was_not_sent(caught.value)


async def test_a_header_with_a_line_break_is_refused_before_writing(
        client: VenueClient) -> None:
    async with Server(answer_each) as server:
        request = httpx.Request("POST", server.url, content=b"{}")
        request.headers["x-evil"] = "a"
        request.headers._list[-1] = (b"x-evil", b"x-evil", b"a\r\nx-injected: 1")
        with pytest.raises(httpx.LocalProtocolError):
            await StreamTransport().handle_async_request(request)
    assert server.received == []


# ------------------------------------------------------------------ ambiguous


async def test_a_close_after_the_request_arrived_is_ambiguous(client: VenueClient) -> None:
    async def swallow(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)  # and close without answering

    async with Server(swallow) as server:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.post(server.url, content=b'{"order":1}')
    assert server.received and not was_not_sent(caught.value)
    assert verdict(caught.value) is AmbiguousSubmission


async def test_a_reset_after_the_request_arrived_is_ambiguous(client: VenueClient) -> None:
    async def reset(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)
        sock = w.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()  # RST instead of FIN

    async with Server(reset) as server:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
            await client.post(server.url, content=b'{"order":1}')
    assert server.received and not was_not_sent(caught.value)
    assert verdict(caught.value) is AmbiguousSubmission


async def test_no_answer_in_time_is_ambiguous() -> None:
    async def silent(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)
        await asyncio.sleep(5)

    async with Server(silent) as server, VenueClient(
            transport=StreamTransport(), timeout=httpx.Timeout(2.0, read=0.1)) as c:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await c.post(server.url, content=b'{"order":1}')
    assert server.received and verdict(caught.value) is AmbiguousSubmission


@pytest.mark.parametrize("answer", [
    b"garbage\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"trunc",
    b"HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n",
], ids=["not-http", "truncated", "bad-length", "bad-chunk", "bad-header"])
async def test_a_mangled_answer_is_ambiguous(client: VenueClient, answer: bytes) -> None:
    async def mangled(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)
        w.write(answer)
        await w.drain()

    async with Server(mangled) as server:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.post(server.url, content=b'{"order":1}')
    assert server.received and verdict(caught.value) is AmbiguousSubmission


async def test_an_oversized_answer_is_refused() -> None:
    async def big(r: Any, w: Any, s: Server) -> None:
        await s.read_request(r)
        w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n" + b"x" * 2000)
        await w.drain()

    async with Server(big) as server, VenueClient(
            transport=StreamTransport(max_body_bytes=1000)) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get(server.url)


# ------------------------------------------------------------------ the client


async def test_the_client_sends_through_an_injected_transport() -> None:
    seen: list[httpx.Request] = []

    def venue(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"set-cookie": "a=b"})

    transport = faults.FaultTransport(httpx.MockTransport(venue),
                                      faults.respond("POST", "/orders", 503, body="down"))
    client = venue_client(timeout=httpx.Timeout(1.0), headers={"User-Agent": "t"},
                          transport=transport)
    assert isinstance(client, VenueClient)
    first = await client.post("https://venue.example/orders", content=b"{}")
    second = await client.post("https://venue.example/orders", content=b"{}")
    assert (first.status_code, first.text) == (503, "down")
    assert second.json() == {"ok": True} and second.request.headers["user-agent"] == "t"
    assert len(seen) == 1 and not client.cookies  # no cookie jar on the venue path
    transport.assert_all_fired()
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.get("https://venue.example/orders")


async def test_streaming_takes_httpx_own_path() -> None:
    client = VenueClient(transport=httpx.MockTransport(lambda r: httpx.Response(200,
                                                                                  text="x")))
    async with client.stream("GET", "https://venue.example/") as response:
        assert await response.aread() == b"x"
    await client.aclose()


def test_the_default_client_uses_the_stream_transport_and_a_proxy_keeps_httpx() -> None:
    fast = venue_client(timeout=httpx.Timeout(1.0), headers={})
    assert isinstance(fast._transport, StreamTransport)
    for proxy in ("http://proxy.example:3128", "socks5://proxy.example:1080"):
        proxied = venue_client(timeout=httpx.Timeout(1.0), headers={}, proxy=proxy)
        transports = [proxied._transport, *proxied._mounts.values()]
        assert not any(isinstance(t, StreamTransport) for t in transports)
        assert any(isinstance(t, httpx.AsyncHTTPTransport) for t in transports)


@pytest.mark.parametrize("proxy", [None, "http://proxy.example:3128",
                                   "socks5://user:pw@proxy.example:1080"])
def test_both_plugins_build_their_clients_on_the_stream_transport_unless_proxied(
        proxy: str | None) -> None:
    from arbexec_kalshi.http import make_client as kalshi_client
    from arbexec_polymarket.config import PolymarketConfig
    from arbexec_polymarket.http import make_client as polymarket_client

    for built in (kalshi_client(proxy=proxy), polymarket_client(PolymarketConfig(
            proxy_url=proxy))):
        assert isinstance(built, VenueClient)
        transports = [built._transport, *built._mounts.values()]
        fast = any(isinstance(t, StreamTransport) for t in transports)
        assert fast is (proxy is None)
