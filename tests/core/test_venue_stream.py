"""The toolkit's reconnecting stream against a real websocket server on loopback.

Each test starts a ``websockets`` server on 127.0.0.1 (port 0) whose connections follow a
script, and reads the stream's updates. ``asyncio.timeout`` around a read is a guard
against a hang (a broken watchdog or polling fallback never ends), not a timing check.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from arbexec.errors import AuthenticationError, VenueUnavailable
from arbexec.venue.stream import (
    RESYNC,
    LatestStates,
    ReconnectingStream,
    Resync,
    Sequences,
    StreamBroken,
    StreamTiming,
)

Script = Callable[[ServerConnection], Awaitable[None]]
GUARD = 10.0  # seconds; a bound on a hang, never an assertion about speed


async def quick(_seconds: float) -> None:
    await asyncio.sleep(0)


class LoopbackVenue:
    """A websocket server whose n-th connection runs ``scripts[n]`` (later ones: quiet)."""

    def __init__(self, scripts: list[Script]) -> None:
        self.scripts = list(scripts)
        self.received: list[list[str]] = []
        self.closes: list[int | None] = []
        self.server: Any = None
        self.port = 0
        self.handlers: set[asyncio.Task[Any]] = set()

    async def _handle(self, ws: ServerConnection) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        heard: list[str] = []
        self.received.append(heard)
        script = self.scripts.pop(0) if self.scripts else quiet
        listener = asyncio.create_task(self._listen(ws, heard))
        try:
            await script(ws)
        finally:
            if script is not quiet:
                listener.cancel()
        if script is quiet:
            await listener

    async def _listen(self, ws: ServerConnection, heard: list[str]) -> None:
        try:
            async for message in ws:
                heard.append(str(message))
        except ConnectionClosed:
            pass
        self.closes.append(ws.close_code)

    async def start(self, port: int = 0) -> LoopbackVenue:
        self.server = await serve(self._handle, "127.0.0.1", port, ping_interval=None)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in self.handlers:  # scripts that hang until told otherwise
                task.cancel()
            await self.server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


async def quiet(ws: ServerConnection) -> None:
    """Say nothing; the listener keeps reading until the client goes."""


def sends(*frames: str, then: str = "drop") -> Script:
    async def script(ws: ServerConnection) -> None:
        for frame in frames:
            await ws.send(frame)
        await asyncio.sleep(0.01)
        if then == "drop":  # the TCP connection dies, no close frame
            ws.transport.abort()
        elif then == "hang":
            await asyncio.Event().wait()

    return script


@pytest.fixture
async def venue_server() -> AsyncIterator[Callable[..., Awaitable[LoopbackVenue]]]:
    servers: list[LoopbackVenue] = []

    async def start(*scripts: Script, port: int = 0) -> LoopbackVenue:
        server = await LoopbackVenue(list(scripts)).start(port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Counter:
    """A resync callback that says how many times it ran."""

    def __init__(self, answers: list[list[str]] | None = None) -> None:
        self.calls = 0
        self.answers = answers

    async def __call__(self) -> list[str]:
        self.calls += 1
        if self.answers is not None:
            return self.answers.pop(0) if self.answers else []
        return [f"resync-{self.calls}"]


async def text(raw: Any) -> list[str | Resync]:
    return [] if raw == "PONG" else [str(raw)]


def stream_to(url: str, resync: Callable[[], Awaitable[list[str]]], **kw: Any
              ) -> ReconnectingStream[str]:
    kw.setdefault("decode", text)
    kw.setdefault("sleep", quick)
    return ReconnectingStream(venue="loopback", connect=lambda: ws_connect(
        url, open_timeout=2, ping_interval=None), resync=resync, **kw)


async def take(updates: AsyncIterator[str], n: int) -> list[str]:
    out = []
    async with asyncio.timeout(GUARD):
        while len(out) < n:
            out.append(await anext(updates))
    return out


# ---------------------------------------------------------------- reconnect


async def test_after_the_server_drops_it_reconnects_and_resyncs_before_new_frames(
    venue_server: Any,
) -> None:
    server = await venue_server(sends("a1", "a2"), sends("b1", then="hang"))
    resync = Counter()

    async def hello(ws: Any) -> None:
        await ws.send("hello")

    stream = stream_to(server.url, resync, authenticate=hello)
    updates = stream.updates()
    assert await take(updates, 4) == ["a1", "a2", "resync-1", "b1"]
    await updates.aclose()  # type: ignore[attr-defined]
    assert stream.connects == 2 and resync.calls == 1
    assert [heard[:1] for heard in server.received] == [["hello"], ["hello"]]  # each connect


async def test_a_server_that_closes_cleanly_is_reconnected_too(venue_server: Any) -> None:
    server = await venue_server(sends("a1", then="close"), sends("b1", then="hang"))
    stream = stream_to(server.url, Counter())
    updates = stream.updates()
    assert await take(updates, 3) == ["a1", "resync-1", "b1"]
    await updates.aclose()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- gaps


async def test_a_sequence_gap_triggers_a_refetch_in_place(venue_server: Any) -> None:
    frames = [json.dumps({"sid": 1, "seq": n, "v": f"f{n}"}) for n in (1, 2, 4, 5)]
    server = await venue_server(sends(*frames, then="hang"))
    sequences = Sequences()

    async def decode(raw: Any) -> list[str | Resync]:
        frame = json.loads(raw)
        out: list[str | Resync] = []
        if not sequences.follows(frame["sid"], frame["seq"]):
            out.append(RESYNC)
        out.append(frame["v"])
        return out

    resync = Counter()
    stream = stream_to(server.url, resync, decode=decode)
    updates = stream.updates()
    assert await take(updates, 5) == ["f1", "f2", "resync-1", "f4", "f5"]
    await updates.aclose()  # type: ignore[attr-defined]
    assert stream.connects == 1  # the socket was kept


async def test_a_broken_frame_drops_the_socket_and_resyncs_after_reconnecting(
    venue_server: Any,
) -> None:
    server = await venue_server(sends("ok", "garbage", "never", then="hang"),
                                sends("b1", then="hang"))

    async def decode(raw: Any) -> list[str | Resync]:
        if raw == "garbage":
            raise StreamBroken("unreadable frame")
        return [str(raw)]

    stream = stream_to(server.url, Counter(), decode=decode)
    updates = stream.updates()
    assert await take(updates, 3) == ["ok", "resync-1", "b1"]
    await updates.aclose()  # type: ignore[attr-defined]
    assert stream.connects == 2


def test_sequences_follow_per_subscription_and_restart_on_reset() -> None:
    sequences = Sequences()
    assert sequences.follows(1, 1) and sequences.follows(1, 2) and sequences.follows(2, 7)
    assert not sequences.follows(1, 4)
    assert sequences.follows(1, 5) and sequences.follows(None, None) and sequences.follows(1, None)
    sequences.reset()
    assert sequences.follows(1, 40)


# ---------------------------------------------------------------- watchdog


async def test_a_silent_server_trips_the_watchdog_and_is_replaced(venue_server: Any) -> None:
    """The first connection hears our PINGs and never answers: closed after the silence
    limit, and the stream reconnects (and resyncs) to a server that speaks."""
    server = await venue_server(sends(then="hang"), sends("alive", then="hang"))

    async def ping(ws: Any) -> None:
        await ws.send("PING")

    stream = stream_to(server.url, Counter(), ping=ping,
                       timing=StreamTiming(ping_every=0.05, silence_limit=0.3))
    updates = stream.updates()
    assert await take(updates, 2) == ["resync-1", "alive"]
    await updates.aclose()  # type: ignore[attr-defined]
    assert stream.stale_closes == 1 and stream.connects == 2
    assert "PING" in server.received[0]


async def test_protocol_pongs_keep_a_quiet_socket_alive(venue_server: Any) -> None:
    """No frames at all, but every protocol ping is answered: the pong moves the deadline,
    so the quiet socket is kept well past the silence limit."""
    server = await venue_server(quiet)

    async def ping(ws: Any) -> Any:
        return await ws.ping()

    stream = stream_to(server.url, Counter(), ping=ping,
                       timing=StreamTiming(ping_every=0.05, silence_limit=0.5))
    updates = stream.updates()
    reading = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(1.5)  # three silence limits
    assert not reading.done()
    assert stream.stale_closes == 0 and stream.connects == 1
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    await updates.aclose()  # type: ignore[attr-defined]


def test_the_silence_limit_must_outlast_the_ping_interval() -> None:
    with pytest.raises(ValueError, match="silence_limit"):
        StreamTiming(ping_every=10, silence_limit=10)


# ---------------------------------------------------------------- polling


async def test_polling_delivers_updates_while_the_socket_is_down_then_the_socket_returns(
    venue_server: Any,
) -> None:
    """Nobody listens on the port: after two failed connects updates come from polling;
    when the venue comes back the stream connects and its frames arrive."""
    port = free_port()
    polls: list[str] = []

    async def poll() -> list[str]:
        polls.append(f"poll-{len(polls) + 1}")
        if len(polls) == 3:  # the venue is back
            await venue_server(sends("live", then="hang"), port=port)
        return [polls[-1]]

    stream = stream_to(f"ws://127.0.0.1:{port}", poll,
                       timing=StreamTiming(poll_after_failures=2, poll_interval=0.01,
                                           first_backoff=0.02, max_backoff=0.02))
    updates = stream.updates()
    got = await take(updates, 3)
    assert got == ["poll-1", "poll-2", "poll-3"]
    assert stream.connects == 0
    rest: list[str] = []
    async with asyncio.timeout(GUARD):
        while "live" not in rest:
            rest.append(await anext(updates))
    await updates.aclose()  # type: ignore[attr-defined]
    assert stream.connects == 1
    assert all(item.startswith("poll-") for item in rest[:-1])


async def test_a_poll_that_fails_is_tried_again(venue_server: Any) -> None:
    port = free_port()
    calls = 0

    async def poll() -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise VenueUnavailable("503", venue="loopback")
        return [f"poll-{calls}"]

    stream = stream_to(f"ws://127.0.0.1:{port}", poll,
                       timing=StreamTiming(poll_after_failures=1, poll_interval=0.01,
                                           first_backoff=0.01, max_backoff=0.01))
    updates = stream.updates()
    assert await take(updates, 1) == ["poll-2"]
    await updates.aclose()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- endings


async def test_close_ends_the_stream_and_closes_the_socket(venue_server: Any) -> None:
    server = await venue_server(sends("a1", then="hang"))

    async def ping(ws: Any) -> None:
        await ws.send("PING")

    stream = stream_to(server.url, Counter(), ping=ping,
                       timing=StreamTiming(ping_every=0.05, silence_limit=5))
    updates = stream.updates()
    assert await take(updates, 1) == ["a1"]
    reading = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0.05)
    await stream.close()
    async with asyncio.timeout(GUARD):
        with pytest.raises(StopAsyncIteration):
            await reading
    assert stream.connects == 1  # no reconnect after close
    before = asyncio.all_tasks()
    await asyncio.sleep(0.2)
    assert len(server.received[0]) == sum(1 for m in server.received[0] if m == "PING")
    assert asyncio.all_tasks() <= before  # no pinger left behind


async def test_a_refused_authentication_ends_the_stream_without_reconnecting(
    venue_server: Any,
) -> None:
    server = await venue_server(sends("denied", then="hang"))

    async def decode(raw: Any) -> list[str | Resync]:
        raise AuthenticationError("the venue refused the credentials", venue="loopback")

    stream = stream_to(server.url, Counter(), decode=decode)
    with pytest.raises(AuthenticationError):
        async with asyncio.timeout(GUARD):
            await anext(stream.updates())
    assert stream.connects == 1


async def test_a_resync_refused_by_the_venue_counts_as_a_failure_and_is_retried(
    venue_server: Any,
) -> None:
    server = await venue_server(sends("a1", then="drop"), sends(then="hang"),
                                sends("b1", then="hang"))
    calls = 0

    async def resync() -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise VenueUnavailable("503 while refetching", venue="loopback")
        return ["refetched"]

    stream = stream_to(server.url, resync)
    updates = stream.updates()
    assert await take(updates, 3) == ["a1", "refetched", "b1"]
    await updates.aclose()  # type: ignore[attr-defined]
    assert stream.connects == 3


def test_latest_states_emit_news_only() -> None:
    from decimal import Decimal

    from arbexec.model import OrderState, OrderStatus

    def state(status: OrderStatus, filled: str) -> OrderState:
        return OrderState(venue="v", venue_order_id="o1", client_order_id=None, market="m",
                          outcome="YES", side="BUY", quantity=Decimal(5),
                          limit_price=Decimal("0.5"), status=status,
                          filled_quantity=Decimal(filled))

    latest = LatestStates()
    assert latest.news(state(OrderStatus.OPEN, "0"))
    assert not latest.news(state(OrderStatus.OPEN, "0"))
    assert latest.news(state(OrderStatus.PARTIALLY_FILLED, "2"))
    assert latest.get("o1").filled_quantity == Decimal(2)  # type: ignore[union-attr]


async def test_latest_states_read_skips_unknown_orders_and_returns_news_only() -> None:
    from decimal import Decimal

    from arbexec.errors import OrderNotFound
    from arbexec.model import OrderState, OrderStatus

    def state(order_id: str, filled: str) -> OrderState:
        return OrderState(venue="v", venue_order_id=order_id, market="m", outcome="YES",
                          side="BUY", quantity=Decimal(5), limit_price=Decimal("0.5"),
                          status=OrderStatus.OPEN, filled_quantity=Decimal(filled))

    venue = {"a": state("a", "0"), "b": state("b", "1")}

    async def fetch(order_id: str) -> OrderState:
        if order_id not in venue:
            raise OrderNotFound(order_id, venue="v")
        return venue[order_id]

    latest = LatestStates()
    latest.news(venue["a"])  # already known, unchanged
    changed = await latest.read(["a", "gone", "b"], fetch)
    assert [s.venue_order_id for s in changed] == ["b"]
