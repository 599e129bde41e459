"""The user websocket channel as a stream of ``OrderState`` updates.

After connecting, the first frame authenticates with the API key (the venue's user channel
takes the raw credentials, not an HMAC). ``order`` events update an order's size and status,
``trade`` events its fills (provisional until the trade is CONFIRMED). When the socket
drops, it reconnects with exponential backoff and then refetches every tracked order over
REST, so nothing that happened during the gap is missed. After repeated connection failures
it polls over REST until the socket comes back.

Keep-alive: ``PING`` every ``PING_SECONDS``; the venue answers ``PONG``. A socket from
which nothing (no ``PONG``, no event) has been heard for ``PONG_TIMEOUT`` seconds is
half-dead: it is closed and the stream reconnects (and refetches), instead of waiting on
it forever (official SDK defaults: ping every 10 s, reconnect after 30 s without a pong).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from arbexec import api as errors
from arbexec.api import OrderState, loads_exact
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


def _fingerprint(state: OrderState | None) -> Any:
    """What makes an update worth emitting (not its timestamp)."""
    if state is None:
        return None
    return (
        state.status,
        state.filled_quantity,
        state.quantity,
        tuple((f.trade_id, f.quantity, f.price, f.final) for f in state.fills),
    )


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
        self._last: dict[str, OrderState] = {}
        self.sent: list[str] = []
        self._heard = 0.0
        self.stale_closes = 0

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
        if _fingerprint(self._last.get(order_id)) == _fingerprint(state):
            return None
        self._last[order_id] = state
        return state

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
        ids = {*self._exchange._known, *self._orders}
        changed = []
        for order_id in sorted(ids):
            previous = self._last.get(order_id)
            if previous is not None and previous.is_final and all(f.final for f in previous.fills):
                continue
            try:
                state = await self._exchange.fetch_order(order_id)
            except errors.OrderNotFound:
                continue
            if _fingerprint(self._last.get(order_id)) != _fingerprint(state):
                self._last[order_id] = state
                changed.append(state)
        return changed

    # ------------------------------------------------------------------ loop

    async def _pinger(self, ws: Any) -> None:
        """PING on a schedule; close the socket once nothing was heard for PONG_TIMEOUT."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(PING_SECONDS)
            if loop.time() - self._heard > PONG_TIMEOUT:
                self.stale_closes += 1
                with contextlib.suppress(Exception):
                    await ws.close()
                return
            await ws.send("PING")

    async def updates(self) -> AsyncIterator[OrderState]:
        backoff = FIRST_BACKOFF
        failures = 0
        connected_before = False
        sleep = self._exchange._sleep
        while True:
            try:
                async with self._connect(self._exchange.config.ws_url) as ws:
                    frame = self.auth_frame()
                    await ws.send(frame)
                    self.sent.append(frame)
                    if connected_before or failures:
                        for state in await self.refetch():
                            yield state
                    connected_before, failures, backoff = True, 0, FIRST_BACKOFF
                    self._heard = asyncio.get_running_loop().time()
                    pinger = asyncio.create_task(self._pinger(ws))
                    try:
                        async for message in ws:
                            self._heard = asyncio.get_running_loop().time()
                            for event in self.decode(message):
                                for order_id in self.apply(event):
                                    try:
                                        update = self._emit(order_id)
                                    except errors.ExchangeError as exc:
                                        # one unreadable event: skip it; REST refetches
                                        # after the next reconnect set the record straight
                                        log.warning("polymarket user channel: %s", exc)
                                        continue
                                    if update is not None:
                                        yield update
                    finally:
                        pinger.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await pinger
            except (OSError, TimeoutError, ConnectionError):
                failures += 1
            except Exception as exc:  # websockets.ConnectionClosed and protocol errors
                if type(exc).__module__.split(".")[0] != "websockets":
                    raise
                failures += 1
            else:
                failures += 0 if connected_before else 1
            if failures >= POLL_AFTER_FAILURES:
                for state in await self.refetch():
                    yield state
                await sleep(self._exchange.config.poll_interval)
            else:
                await sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
