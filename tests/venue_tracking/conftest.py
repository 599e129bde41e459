"""Shared pieces of the venue tracking tests: a websocket that replays recorded frames, a
connector that hands out one scripted connection per connect, and an engine that follows
orders from the stream only (its REST polling is slowed past the length of a test, so
whatever the journal shows came from the stream or from a refetch after a gap or reconnect).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from arbexec.engine import Engine, EngineSettings
from arbexec.exchange import Exchange
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.sinks.hub import SinkHub

#: How a replayed connection ends once its frames are delivered.
DROP, CLOSE, HANG = "drop", "close", "hang"
#: A connection attempt that fails.
REFUSE = "refuse"

#: A script item that holds the socket until the test sets it (the venue acts meanwhile).
Pause = asyncio.Event


class ReplaySocket:
    """A websocket connection that delivers recorded frames, waiting at each ``Pause``,
    then drops (``ConnectionResetError``), closes normally, or stays quiet forever."""

    def __init__(self, items: list[str | asyncio.Event], end: str, sent: list[str]) -> None:
        self.items = items
        self.end = end
        self.sent = sent

    async def __aenter__(self) -> ReplaySocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, text: str) -> None:
        self.sent.append(text)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._replay()

    async def _replay(self) -> AsyncIterator[str]:
        for item in self.items:
            if isinstance(item, asyncio.Event):
                await item.wait()
            else:
                yield item
        if self.end == DROP:
            raise ConnectionResetError("socket dropped (1006)")
        if self.end == HANG:
            await asyncio.Event().wait()


class Connector:
    """One scripted connection per connect: ``REFUSE`` or ``(items, end)``. Frames may
    name ``{ORDER_ID}``, filled in at connect time with ``order_id()``. Once the scripts
    run out, connections succeed and stay quiet (no busy reconnect loop)."""

    def __init__(self, scripts: list[Any], order_id: Callable[[], str] | None = None) -> None:
        self.scripts = list(scripts)
        self.order_id = order_id
        self.urls: list[str] = []
        self.headers: list[Mapping[str, str]] = []
        self.sent: list[str] = []

    def __call__(self, url: str, headers: Mapping[str, str] | None = None) -> ReplaySocket:
        self.urls.append(url)
        self.headers.append(dict(headers or {}))
        script = self.scripts.pop(0) if self.scripts else ([], HANG)
        if script == REFUSE:
            raise ConnectionRefusedError("connection refused")
        items, end = script
        if self.order_id is not None:
            order_id = self.order_id()
            items = [i.replace("{ORDER_ID}", order_id) if isinstance(i, str) else i
                     for i in items]
        return ReplaySocket(list(items), end, self.sent)


async def quick_sleep(_seconds: float) -> None:
    """The plugins' backoff sleeps: no waiting, but a turn of the event loop."""
    await asyncio.sleep(0)


async def wait_until(predicate: Callable[[], bool], what: str, *, limit: float = 5.0) -> None:
    """Let the engine run until ``predicate`` holds (a bound, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture
def connector() -> type[Connector]:
    return Connector


@pytest.fixture
def until() -> Callable[..., Awaitable[None]]:
    return wait_until


@pytest.fixture
def sleep() -> Callable[[float], Awaitable[None]]:
    return quick_sleep


@pytest.fixture
async def make_engine(
    journal: Journal,
) -> AsyncIterator[Callable[[Exchange], Awaitable[Engine]]]:
    """An engine over one real venue plugin: submit returns at the acknowledgement and the
    order is followed in the background; polling waits 30 s, so within a test only the
    order stream (and its catch-up reads after a reconnect) moves the order."""
    engines: list[Engine] = []

    async def make(exchange: Exchange) -> Engine:
        engine = Engine(journal=journal, venues={exchange.name: exchange},
                        halt=JournalHaltFlag(journal), hub=SinkHub([]),
                        settings=EngineSettings(wait_budget=0.0, poll_interval=30.0,
                                                poll_max_interval=30.0, unknown_grace=30.0))
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.aclose()
