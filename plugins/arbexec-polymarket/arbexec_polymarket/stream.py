"""The user websocket channel as a stream of ``OrderState`` updates.

After connecting, the first frame authenticates with the API key (the venue's user channel
takes the raw credentials, not an HMAC). ``order`` events update an order's size and status,
``trade`` events its fills (provisional until the trade is CONFIRMED). After every
reconnect every tracked order is refetched over REST, so nothing that happened during the
gap is missed. The lifecycle (reconnect with jittered backoff, polling while the socket is
down, the watchdog) is the toolkit's ``ReconnectingStream``; this module decodes frames.

Keep-alive: a text ``PING`` every ``PING_SECONDS``; the venue answers ``PONG``. A socket
from which nothing (no ``PONG``, no event) has been heard for ``PONG_TIMEOUT`` seconds is
half-dead: it is closed and replaced (official SDK defaults: ping every 10 s, reconnect
after 30 s without a pong).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from arbexec import api as errors
from arbexec.api import LatestStates, OrderState, ReconnectingStream, StreamTiming, loads_exact
from arbexec_polymarket import parsing

if TYPE_CHECKING:
    from arbexec_polymarket.exchange import PolymarketExchange

log = logging.getLogger(__name__)

PING_SECONDS = 10.0
PONG_TIMEOUT = 30.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
#: Consecutive failed connections after which updates come from polling until one works.
POLL_AFTER_FAILURES = 3


def _default_connect(url: str) -> Any:
    from websockets.asyncio.client import connect

    return connect(url, open_timeout=10, ping_interval=None, close_timeout=2)


class UserStream:
    """Follows this account's orders through the user channel (with REST to fill gaps)."""

    def __init__(
        self,
        exchange: PolymarketExchange,
        *,
        connect: Callable[[str], Any] | None = None,
        markets: list[str] | None = None,
    ) -> None:
        self._exchange = exchange
        self._connect = connect or _default_connect
        self._markets = markets
        self._orders: dict[str, dict[str, Any]] = {}  # order id -> latest order fields
        self._trades: dict[str, dict[str, dict[str, Any]]] = {}  # order id -> trade id -> trade
        self.latest = LatestStates()
        self.sent: list[str] = []
        self._stream: ReconnectingStream[OrderState] | None = None

    # ------------------------------------------------------------------ frames

    def auth_frame(self) -> str:
        api = self._exchange.credentials.require_api()
        frame: dict[str, Any] = {
            "type": "user",
            "auth": {"apiKey": api.api_key, "secret": api.secret, "passphrase": api.passphrase},
        }
        if self._markets:
            frame["markets"] = list(self._markets)
        return json.dumps(frame, separators=(",", ":"))

    def _mine(self, order_id: str) -> bool:
        return order_id.lower() in self._exchange._known or order_id.lower() in self._orders

    def _emit(self, order_id: str) -> OrderState | None:
        raw = self._orders.get(order_id)
        if raw is None:
            return None
        market, outcome = self._exchange._where(raw)
        trades = list(self._trades.get(order_id, {}).values())
        fills = parsing.fills_for(order_id, trades, fee=self._exchange._fee_for(market))
        state = parsing.order_state(raw, market=market, outcome=outcome, fills=fills)
        return state if self.latest.news(state) else None

    def apply(self, event: dict[str, Any]) -> list[str]:
        """Fold one event in; the ids of the orders it changed."""
        kind = str(event.get("event_type") or "").lower()
        if kind == "order":
            order_id = str(event.get("id") or "").lower()
            if not order_id:
                return []
            merged = {**self._orders.get(order_id, {}), **event, "id": order_id}
            if str(event.get("type") or "").upper() == "CANCELLATION" and not str(
                event.get("status") or ""
            ).upper().startswith("CANCEL"):
                merged["status"] = "CANCELED"
            self._orders[order_id] = merged
            return [order_id]
        if kind == "trade":
            touched = []
            involved = [str(event.get("taker_order_id") or "")] + [
                str(m.get("order_id") or "") for m in event.get("maker_orders") or ()
            ]
            for order_id in (i.lower() for i in involved if i):
                if self._mine(order_id):
                    self._trades.setdefault(order_id, {})[str(event.get("id"))] = event
                    touched.append(order_id)
            return touched
        return []

    def decode(self, message: str | bytes) -> list[dict[str, Any]]:
        text = message.decode() if isinstance(message, bytes) else message
        if text.strip().upper() in ("PONG", "PING", ""):
            return []
        try:
            payload = loads_exact(text)  # numbers exact, as over REST
        except ValueError:
            return []
        items = payload if isinstance(payload, list) else [payload]
        return [i for i in items if isinstance(i, dict)]

    # ------------------------------------------------------------------ REST

    async def refetch(self) -> list[OrderState]:
        """Every tracked order, fresh from REST (after a reconnect, or when polling)."""
        return await self.latest.read(
            [order_id for order_id in sorted({*self._exchange._known, *self._orders})
             if not _settled(self.latest.get(order_id))],
            self._exchange.fetch_order,
        )

    # ------------------------------------------------------------------ lifecycle

    async def _authenticate(self, ws: Any) -> None:
        frame = self.auth_frame()
        await ws.send(frame)
        self.sent.append(frame)

    async def _decode(self, message: str | bytes) -> list[OrderState]:
        out = []
        for event in self.decode(message):
            for order_id in self.apply(event):
                try:
                    update = self._emit(order_id)
                except errors.ExchangeError as exc:
                    # one unreadable event: skip it; the REST refetch after the next
                    # reconnect sets the record straight
                    log.warning("polymarket user channel: %s", exc)
                    continue
                if update is not None:
                    out.append(update)
        return out

    def stream(self) -> ReconnectingStream[OrderState]:
        timing = StreamTiming(ping_every=PING_SECONDS, silence_limit=PONG_TIMEOUT,
                              first_backoff=FIRST_BACKOFF, max_backoff=MAX_BACKOFF,
                              poll_after_failures=POLL_AFTER_FAILURES,
                              poll_interval=self._exchange.config.poll_interval)
        self._stream = ReconnectingStream(
            venue="polymarket", connect=lambda: self._connect(self._exchange.config.ws_url),
            authenticate=self._authenticate, decode=self._decode, resync=self.refetch,
            ping=_ping, timing=timing, sleep=self._exchange._sleep,
        )
        return self._stream

    @property
    def stale_closes(self) -> int:
        return 0 if self._stream is None else self._stream.stale_closes

    def updates(self) -> AsyncIterator[OrderState]:
        return self.stream().updates()


def _settled(state: OrderState | None) -> bool:
    """Final, and every fill confirmed: nothing left to refetch."""
    return state is not None and state.is_final and all(f.final for f in state.fills)


async def _ping(ws: Any) -> None:
    """The user channel's keep-alive is a text ``PING``; its ``PONG`` is a frame."""
    await ws.send("PING")
