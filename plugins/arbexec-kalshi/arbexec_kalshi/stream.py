"""Order updates from Kalshi's authenticated websocket, with REST as the authority.

One connection subscribes to ``user_orders``, ``fill`` and ``market_positions``. Each
subscription's ``seq`` must grow by one; a gap, a reconnect or a terminal channel error
triggers a REST refetch of every order the stream follows, so an update lost on the socket
still arrives. A ``fill`` frame is answered with a REST read of its order (fills are
authoritative for executions, REST for order state). When the socket cannot be held the
stream falls back to polling, and tries the socket again later.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from attrs import define, field

from arbexec import api as ax
from arbexec.api import OrderState
from arbexec_kalshi import mapping
from arbexec_kalshi.numbers import loads_exact

if TYPE_CHECKING:
    from arbexec_kalshi.exchange import KalshiExchange

log = logging.getLogger("arbexec.kalshi")

CHANNELS = ("user_orders", "fill", "market_positions")
#: websocket error codes after which a subscription is gone and must be re-established
TERMINAL_CODES = frozenset({10, 25})


class _Resync(Exception):
    """The socket must be dropped and the state refetched."""


def websockets_connect(url: str, headers: dict[str, str], proxy: str | None = None) -> Any:
    """The default connector: ``websockets`` with the auth headers on the upgrade."""
    from websockets.asyncio.client import connect

    kwargs: dict[str, Any] = {"additional_headers": headers, "open_timeout": 10}
    if proxy:
        kwargs["proxy"] = proxy
    return connect(url, **kwargs)


@define
class SequenceTracker:
    """Last ``seq`` per subscription id; reports gaps."""

    last: dict[int, int] = field(factory=dict)

    def check(self, sid: int | None, seq: int | None) -> bool:
        """True when the frame follows its predecessor (or carries no sequence)."""
        if sid is None or seq is None:
            return True
        previous = self.last.get(sid)
        self.last[sid] = seq
        return previous is None or seq == previous + 1

    def reset(self) -> None:
        self.last.clear()


@define
class OrderStream:
    exchange: KalshiExchange
    connect: Callable[..., Any] | None = None
    max_backoff: float = 30.0
    poll_after_failures: int = 3
    poll_rounds: int = 5
    sequences: SequenceTracker = field(factory=SequenceTracker)
    _known: dict[str, OrderState] = field(factory=dict)
    _command_id: int = 0

    # ------------------------------------------------------------------ public

    async def updates(self) -> AsyncIterator[OrderState]:
        failures = 0
        connected_before = False
        while True:
            try:
                async with self._open() as socket:
                    await self._subscribe(socket)
                    if connected_before:
                        for state in await self._refetch():
                            yield state
                    connected_before = True
                    failures = 0
                    async for state in self._frames(socket):
                        yield state
                log.info("kalshi websocket closed; reconnecting")
            except ax.AuthenticationError:
                raise
            except (TimeoutError, _Resync, OSError, ConnectionError) as exc:
                log.warning("kalshi websocket: %s", type(exc).__name__)
            except Exception as exc:  # websockets' own errors (closed, invalid handshake)
                if not _is_socket_error(exc):
                    raise
                log.warning("kalshi websocket: %s", type(exc).__name__)
            failures += 1
            self.sequences.reset()
            if failures >= self.poll_after_failures:
                async for state in self._poll(self.poll_rounds):
                    yield state
                failures = 0
            await self.exchange.http.sleep(self._backoff(failures))

    # ------------------------------------------------------------------ socket

    def _open(self) -> Any:
        signer = self.exchange.signer
        if signer is None:
            raise ax.AuthenticationError("the Kalshi websocket needs credentials", venue="kalshi")
        url = self.exchange.config.ws_url
        headers = signer.headers("GET", urlsplit(url).path)  # fresh signature per connect
        connect = self.connect or websockets_connect
        if self.connect is None:
            return connect(url, headers, self.exchange.config.proxy)
        return connect(url, headers)

    async def _subscribe(self, socket: Any) -> None:
        self._command_id += 1
        command = {
            "id": self._command_id,
            "cmd": "subscribe",
            "params": {"channels": list(CHANNELS)},
        }
        await socket.send(json.dumps(command))

    async def _frames(self, socket: Any) -> AsyncIterator[OrderState]:
        async for raw in socket:
            try:  # numbers exact, as on REST
                frame = loads_exact(raw)
            except (ValueError, UnicodeDecodeError):
                frame = None
            if not isinstance(frame, dict):  # an update may be lost in it: refetch
                raise _Resync("unreadable websocket frame")
            kind = frame.get("type")
            if kind == "error":
                code = (frame.get("msg") or {}).get("code")
                if code == 9:
                    raise ax.AuthenticationError(
                        "the Kalshi websocket refused authentication", venue="kalshi"
                    )
                if code in TERMINAL_CODES:
                    raise _Resync(f"channel error {code}")
                log.warning("kalshi websocket error frame: %s", frame.get("msg"))
                continue
            if not self.sequences.check(frame.get("sid"), frame.get("seq")):
                log.warning("kalshi websocket: sequence gap on sid %s", frame.get("sid"))
                for refetched in await self._refetch():
                    yield refetched
            msg = frame.get("msg") or {}
            update: OrderState | None = None
            if kind == "user_order":
                update = self._remember(mapping.parse_order(msg))
            elif kind == "fill":
                update = self._remember(await self.exchange.fetch_order(str(msg["order_id"])))
            if update is not None:
                yield update

    # ------------------------------------------------------------------ REST

    def _remember(self, state: OrderState) -> OrderState | None:
        """Store and return the state if it says something new, else None."""
        before = self._known.get(state.venue_order_id)
        self._known[state.venue_order_id] = state
        if before is not None and _signature(before) == _signature(state):
            return None
        return state

    async def _refetch(self) -> list[OrderState]:
        """Open orders plus every followed order not yet final, read from REST."""
        changed: list[OrderState] = []
        seen: set[str] = set()
        for state in await self.exchange.fetch_open_orders():
            seen.add(state.venue_order_id)
            # list reads carry no fills; keep the richer state when nothing else changed
            remembered = self._remember(state)
            if remembered is not None:
                changed.append(remembered)
        for order_id, state in list(self._known.items()):
            if order_id in seen or state.is_final:
                continue
            try:
                fresh = await self.exchange.fetch_order(order_id)
            except ax.OrderNotFound:
                continue
            remembered = self._remember(fresh)
            if remembered is not None:
                changed.append(remembered)
        return changed

    async def _poll(self, rounds: int) -> AsyncIterator[OrderState]:
        log.warning("kalshi websocket unavailable; polling REST")
        for _ in range(rounds):
            for state in await self._refetch():
                yield state
            await self.exchange.http.sleep(self.exchange.config.poll_interval)

    def _backoff(self, failures: int) -> float:
        delay = min(self.max_backoff, 0.5 * (2 ** max(failures - 1, 0)))
        return delay * (0.5 + random.random() / 2)


def _signature(state: OrderState) -> tuple[Any, ...]:
    return (state.status, state.filled_quantity, state.quantity, state.limit_price, state.fees)


def _is_socket_error(exc: BaseException) -> bool:
    try:
        from websockets.exceptions import WebSocketException
    except ImportError:  # pragma: no cover - websockets is a dependency
        return False
    return isinstance(exc, WebSocketException)
