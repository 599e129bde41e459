"""Order updates from Kalshi's authenticated websocket, with REST as the authority.

What is Kalshi's here: the signed upgrade (a fresh signature per connect), one
``subscribe`` to ``user_orders``, ``fill`` and ``market_positions``, and the frames. Each
subscription's ``seq`` must grow by one: a gap asks for a REST refetch of every order the
stream follows; an unreadable frame or a terminal channel error breaks the socket (reconnect,
then refetch). A ``fill`` frame is answered with a REST read of its order (fills are
authoritative for executions, REST for order state). The socket's lifecycle (reconnects
with backoff, the ping watchdog, polling while the socket is down) is the toolkit's
``ReconnectingStream``. Pings are websocket protocol pings; their pong completes the ping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from attrs import define, field

from arbexec import api as ax
from arbexec.api import (
    RESYNC,
    LatestStates,
    OrderState,
    ReconnectingStream,
    Resync,
    Sequences,
    StreamBroken,
    StreamTiming,
)
from arbexec_kalshi import mapping
from arbexec_kalshi.numbers import loads_exact

if TYPE_CHECKING:
    from arbexec_kalshi.exchange import KalshiExchange

log = logging.getLogger("arbexec.kalshi")

CHANNELS = ("user_orders", "fill", "market_positions")
#: websocket error codes after which a subscription is gone and must be re-established
TERMINAL_CODES = frozenset({10, 25})
#: the code of a refused authentication
AUTH_REFUSED = 9


def websockets_connect(url: str, headers: dict[str, str], proxy: str | None = None) -> Any:
    """The default connector: ``websockets`` with the auth headers on the upgrade (its own
    keepalive off: the stream's watchdog pings)."""
    from websockets.asyncio.client import connect

    kwargs: dict[str, Any] = {"additional_headers": headers, "open_timeout": 10,
                              "ping_interval": None}
    if proxy:
        kwargs["proxy"] = proxy
    return connect(url, **kwargs)


def _fingerprint(state: OrderState) -> Any:
    # list reads carry no fills: a refetch that changes nothing else is no news
    return (state.status, state.filled_quantity, state.quantity, state.limit_price, state.fees)


async def _protocol_ping(socket: Any) -> Any:
    ping = getattr(socket, "ping", None)
    return None if ping is None else await ping()


@define
class OrderStream:
    exchange: KalshiExchange
    connect: Callable[..., Any] | None = None
    max_backoff: float = 30.0
    poll_after_failures: int = 3
    sequences: Sequences = field(factory=Sequences)
    latest: LatestStates = field(factory=lambda: LatestStates(_fingerprint))
    _command_id: int = 0

    # ------------------------------------------------------------------ public

    def updates(self) -> AsyncIterator[OrderState]:
        return self.stream().updates()

    def stream(self) -> ReconnectingStream[OrderState]:
        timing = StreamTiming(ping_every=10.0, silence_limit=30.0, max_backoff=self.max_backoff,
                              poll_after_failures=self.poll_after_failures,
                              poll_interval=self.exchange.config.poll_interval)
        return ReconnectingStream(
            venue="kalshi", connect=self._open, authenticate=self._subscribe,
            decode=self._decode, resync=self._refetch, ping=_protocol_ping, timing=timing,
            sleep=self.exchange.http.sleep,
        )

    # ------------------------------------------------------------------ socket

    def _open(self) -> Any:
        signer = self.exchange.signer
        if signer is None:
            raise ax.AuthenticationError("the Kalshi websocket needs credentials", venue="kalshi")
        url = self.exchange.config.ws_url
        headers = signer.headers("GET", urlsplit(url).path)  # fresh signature per connect
        if self.connect is None:
            return websockets_connect(url, headers, self.exchange.config.proxy)
        return self.connect(url, headers)

    async def _subscribe(self, socket: Any) -> None:
        self.sequences.reset()
        self._command_id += 1
        command = {
            "id": self._command_id,
            "cmd": "subscribe",
            "params": {"channels": list(CHANNELS)},
        }
        await socket.send(json.dumps(command))

    async def _decode(self, raw: Any) -> list[OrderState | Resync]:
        try:  # numbers exact, as on REST
            frame = loads_exact(raw)
        except (ValueError, UnicodeDecodeError):
            frame = None
        if not isinstance(frame, dict):  # an update may be lost in it: refetch
            raise StreamBroken("unreadable websocket frame")
        kind = frame.get("type")
        if kind == "error":
            code = (frame.get("msg") or {}).get("code")
            if code == AUTH_REFUSED:
                raise ax.AuthenticationError(
                    "the Kalshi websocket refused authentication", venue="kalshi"
                )
            if code in TERMINAL_CODES:
                raise StreamBroken(f"channel error {code}")
            log.warning("kalshi websocket error frame: %s", frame.get("msg"))
            return []
        out: list[OrderState | Resync] = []
        if not self.sequences.follows(frame.get("sid"), frame.get("seq")):
            out.append(RESYNC)
        msg = frame.get("msg") or {}
        state: OrderState | None = None
        if kind == "user_order":
            state = mapping.parse_order(msg)
        elif kind == "fill":
            state = await self.exchange.fetch_order(str(msg["order_id"]))
        if state is not None and self.latest.news(state):
            out.append(state)
        return out

    # ------------------------------------------------------------------ REST

    async def _refetch(self) -> list[OrderState]:
        """Open orders plus every followed order not yet final, read from REST."""
        changed: list[OrderState] = []
        seen: set[str] = set()
        for state in await self.exchange.fetch_open_orders():
            seen.add(state.venue_order_id)
            if self.latest.news(state):
                changed.append(state)
        unlisted = [order_id for order_id, state in self.latest.followed().items()
                    if order_id not in seen and not state.is_final]
        return changed + await self.latest.read(unlisted, self.exchange.fetch_order)
