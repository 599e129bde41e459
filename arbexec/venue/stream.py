"""One reconnecting venue stream: the socket's lifecycle written once, for every venue.

A venue supplies what only it knows: how to open its socket (URL, auth headers, proxy),
the first frames (``authenticate``: auth, subscriptions; called on every connect), how a
frame decodes into updates (``decode``), how to refetch what it follows over REST
(``resync``) and, optionally, how to ping (``ping``). ``ReconnectingStream`` does the rest:

- every connect after a failure or a drop is followed by a ``resync`` (after the
  subscriptions, so nothing between the refetch and the first frame is missed); a decoder
  yields ``RESYNC`` to ask for one in place (a sequence gap) and raises ``StreamBroken``
  when the socket cannot be trusted any more (unreadable frame, channel lost);
- a watchdog with a deadline: ``ping`` every ``ping_every`` seconds, and a socket from
  which nothing (no frame, no pong) was heard for ``silence_limit`` seconds is half-dead:
  it is closed and replaced, instead of being waited on forever;
- reconnects with jittered exponential backoff (``ReadRetry.backoff``), so many clients
  dropped together do not return together;
- after ``poll_after_failures`` consecutive failed connections, updates come from
  ``resync`` every ``poll_interval`` while the socket is down, and the socket is tried
  again after each backoff;
- ``close()`` (or closing the ``updates()`` iterator) ends it cleanly: the ping task is
  cancelled and the socket closed.

Authentication and permission refusals end the stream (retrying cannot fix them); socket
and transport failures, ``StreamBroken`` and venue errors of a resync are failures to
reconnect from. Anything else is a bug and is raised. The engine does not reopen a venue's
stream: this is the only reconnect loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, TypeVar

from attrs import define, field, frozen

from arbexec.errors import AuthenticationError, ExchangeError, OrderNotFound, PermissionDenied
from arbexec.model import OrderState
from arbexec.venue.retry import ReadRetry

log = logging.getLogger("arbexec.venue.stream")

T = TypeVar("T")


class StreamBroken(Exception):
    """Raised by a decoder: the socket cannot be trusted (an update may be lost in an
    unreadable frame, a subscription is gone); reconnect, then resync."""


@frozen
class Resync:
    """Yielded by a decoder where a refetch is due (a sequence gap), socket kept."""

    reason: str = "gap"


#: The marker a decoder yields for a refetch in place.
RESYNC = Resync()


@frozen(kw_only=True)
class StreamTiming:
    """When to ping, when a silent socket is dead, how to back off, when to poll."""

    #: seconds between pings (None: the venue's socket needs none from us)
    ping_every: float | None = 10.0
    #: a socket silent this long (no frame, no pong) is closed and replaced (None: never)
    silence_limit: float | None = 30.0
    first_backoff: float = 0.5
    max_backoff: float = 30.0
    #: fraction of each backoff that is random
    jitter: float = 0.5
    #: consecutive failed connections after which updates come from polling
    poll_after_failures: int = 3
    poll_interval: float = 2.0

    def __attrs_post_init__(self) -> None:
        if self.ping_every is not None and self.silence_limit is not None and (
            self.silence_limit <= self.ping_every
        ):
            raise ValueError("silence_limit must be longer than ping_every (a pong needs time)")


def _socket_failure(exc: BaseException) -> bool:
    """Failures worth a reconnect: the socket's, the transport's, a venue error of a
    resync (a 503 while refetching), but not a refused credential."""
    if isinstance(exc, (AuthenticationError, PermissionDenied)):
        return False
    if isinstance(exc, (OSError, TimeoutError, ConnectionError, StreamBroken, ExchangeError)):
        return True
    # websockets' own errors (ConnectionClosed, InvalidHandshake, ...), without importing it
    return type(exc).__module__.split(".")[0] == "websockets"


async def _nothing(_socket: Any) -> None:
    return None


@define(kw_only=True)
class ReconnectingStream(Generic[T]):
    """A venue's socket as an endless stream of ``T`` (see the module docstring)."""

    venue: str
    #: a fresh connection per call (fresh auth headers): an async context manager whose
    #: value sends (``send``), iterates frames and, optionally, ``close()``s
    connect: Callable[[], AbstractAsyncContextManager[Any]]
    decode: Callable[[Any], Awaitable[Iterable[T | Resync]]]
    resync: Callable[[], Awaitable[Iterable[T]]]
    authenticate: Callable[[Any], Awaitable[None]] = _nothing
    #: send one ping; may return an awaitable that completes on the pong (protocol pings)
    ping: Callable[[Any], Awaitable[Awaitable[object] | None]] | None = None
    timing: StreamTiming = field(factory=StreamTiming)
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    random: Callable[[], float] = field(default=random.random, repr=False)
    #: what happened, for health reports and tests
    connects: int = 0
    resyncs: int = 0
    stale_closes: int = 0
    _closing: bool = False
    _socket: Any = None
    _heard: float = 0.0
    _received: int = 0

    # ------------------------------------------------------------------ public

    async def updates(self) -> AsyncIterator[T]:
        failures = 0
        connected_before = False
        backoff = ReadRetry(first_wait=self.timing.first_backoff,
                            max_backoff=self.timing.max_backoff,
                            jitter=self.timing.jitter, random=self.random)
        while not self._closing:
            self._received = 0
            try:
                async with self.connect() as socket:
                    self._socket = socket
                    self.connects += 1
                    await self.authenticate(socket)
                    if connected_before or failures:
                        async for state in self._resync():
                            yield state
                    connected_before = True
                    async with contextlib.aclosing(self._frames(socket)) as frames:
                        async for state in frames:
                            yield state
                if not self._closing:
                    log.info("%s websocket closed; reconnecting", self.venue)
            except Exception as exc:
                if self._closing:
                    return
                if not _socket_failure(exc):
                    raise
                log.warning("%s websocket: %s: %s", self.venue, type(exc).__name__, exc)
            finally:
                self._socket = None
            if self._closing:
                return
            if self._received:
                failures = 0  # the socket delivered before it dropped: start over
            failures += 1
            wait = backoff.backoff(failures)
            if failures < self.timing.poll_after_failures:
                await self.sleep(wait)
                continue
            log.warning("%s websocket unavailable; polling REST", self.venue)
            while True:  # poll while the socket is down, then try it again
                async for state in self._resync(tolerant=True):
                    yield state
                step = min(self.timing.poll_interval, wait)
                await self.sleep(step)
                wait -= step
                if wait <= 0 or self._closing:
                    break

    async def close(self) -> None:
        """End ``updates()``: no reconnect, the current socket closed."""
        self._closing = True
        socket = self._socket
        if socket is not None and hasattr(socket, "close"):
            with contextlib.suppress(Exception):
                await socket.close()

    # ------------------------------------------------------------------ internals

    async def _resync(self, *, tolerant: bool = False) -> AsyncIterator[T]:
        self.resyncs += 1
        try:
            states = list(await self.resync())
        except Exception as exc:
            if not tolerant or not _socket_failure(exc) or isinstance(exc, StreamBroken):
                raise
            log.warning("%s poll failed: %s", self.venue, exc)
            return
        for state in states:
            yield state

    async def _frames(self, socket: Any) -> AsyncGenerator[T, None]:
        loop = asyncio.get_running_loop()
        self._heard = loop.time()
        iterator = socket.__aiter__()
        pinger = None
        if self.ping is not None and self.timing.ping_every is not None:
            pinger = loop.create_task(self._pinger(socket))
        receiving: asyncio.Future[Any] | None = None
        try:
            while True:
                receiving = asyncio.ensure_future(anext(iterator))
                raw = await self._next_frame(receiving, socket)
                receiving = None
                self._heard = loop.time()
                self._received += 1
                for item in await self.decode(raw):
                    if isinstance(item, Resync):
                        log.warning("%s websocket: %s; refetching", self.venue, item.reason)
                        async for state in self._resync():
                            yield state
                    else:
                        yield item
        except StopAsyncIteration:
            return
        finally:
            for task in (receiving, pinger):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _next_frame(self, receiving: asyncio.Future[Any], socket: Any) -> Any:
        """The next frame, or ``TimeoutError`` once nothing was heard for the limit (a pong
        heard by the pinger meanwhile moves the deadline)."""
        limit = self.timing.silence_limit
        if limit is None:
            return await receiving
        loop = asyncio.get_running_loop()
        while True:
            remaining = self._heard + limit - loop.time()
            if remaining > 0:
                done, _ = await asyncio.wait({receiving}, timeout=remaining)
                if done:
                    return receiving.result()
                continue
            self.stale_closes += 1
            if hasattr(socket, "close"):
                with contextlib.suppress(Exception):
                    await socket.close()
            raise TimeoutError(f"nothing heard for {limit:g} s: the socket is half-dead")

    async def _pinger(self, socket: Any) -> None:
        assert self.ping is not None and self.timing.ping_every is not None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.timing.ping_every)
            pong = await self.ping(socket)
            if pong is not None:
                await pong
                self._heard = loop.time()


def _default_fingerprint(state: OrderState) -> Hashable:
    return (
        state.status, state.filled_quantity, state.quantity, state.limit_price, state.fees,
        tuple((f.trade_id, f.quantity, f.price, f.final) for f in state.fills),
    )


@define
class LatestStates:
    """The last state seen per order, and whether a new one is news (its fingerprint
    changed): a stream emits news only, whether it came from a frame or a refetch."""

    fingerprint: Callable[[OrderState], Hashable] = _default_fingerprint
    _last: dict[str, OrderState] = field(factory=dict)

    def news(self, state: OrderState) -> bool:
        """Remember ``state``; True when it says something the last one did not."""
        before = self._last.get(state.venue_order_id)
        self._last[state.venue_order_id] = state
        return before is None or self.fingerprint(before) != self.fingerprint(state)

    def get(self, order_id: str) -> OrderState | None:
        return self._last.get(order_id)

    def followed(self) -> dict[str, OrderState]:
        """Every order seen, with its last state (a copy)."""
        return dict(self._last)

    async def read(
        self, order_ids: Iterable[str], fetch: Callable[[str], Awaitable[OrderState]]
    ) -> list[OrderState]:
        """``fetch`` each order (a REST read) and return the states that are news; an
        order the venue no longer knows is skipped (the next refetch asks again)."""
        changed = []
        for order_id in order_ids:
            try:
                state = await fetch(order_id)
            except OrderNotFound:
                continue
            if self.news(state):
                changed.append(state)
        return changed


@define
class Sequences:
    """Last sequence number per subscription; says whether a frame follows its
    predecessor (a gap means frames were lost: resync)."""

    last: dict[Any, int] = field(factory=dict)

    def follows(self, subscription: Any, seq: int | None) -> bool:
        """True when the frame follows its predecessor (or carries no sequence)."""
        if subscription is None or seq is None:
            return True
        previous = self.last.get(subscription)
        self.last[subscription] = seq
        return previous is None or seq == previous + 1

    def reset(self) -> None:
        """A new connection numbers afresh."""
        self.last.clear()
