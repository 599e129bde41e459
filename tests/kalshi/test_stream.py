"""watch_orders(): recorded websocket frames through a fake connection; REST refetches
after a sequence gap and after a reconnect come from cassettes/kalshi/test_stream/."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from arbexec_kalshi.stream import OrderStream
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from arbexec.model import OrderRequest, OrderStatus
from arbexec.testing.requests import order_request

D = Decimal
TICKER = "KXHIGHNY-26NOV22-B57.5"
FRAMES = json.loads((Path(__file__).parent / "data" / "ws_frames.json").read_text())


def request(key: str, quantity: int, price: str) -> OrderRequest:
    return order_request(key, venue="kalshi", market=TICKER, quantity=quantity,
                         limit_price=price)


class FakeSocket:
    """Replays recorded frames; records what the client sends."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.frames = [json.dumps(f) for f in frames]
        self.sent: list[dict[str, Any]] = []

    async def __aenter__(self) -> FakeSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def __aiter__(self) -> Any:
        return self._iterate()

    async def _iterate(self) -> Any:
        for frame in self.frames:
            yield frame


class Connector:
    def __init__(self, connections: list[list[dict[str, Any]]], before: Any = None) -> None:
        self.connections = list(connections)
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.sockets: list[FakeSocket] = []
        self.before = before or {}

    def __call__(self, url: str, headers: dict[str, str]) -> FakeSocket:
        index = len(self.calls)
        self.calls.append((url, headers))
        if index in self.before:
            self.before[index]()
        if not self.connections:
            raise OSError("no more recorded connections")
        socket = FakeSocket(self.connections.pop(0))
        self.sockets.append(socket)
        return socket


@pytest.mark.vcr
async def test_frames_gap_and_reconnect_refetch(
    venue: Any, fake: Any, recording: bool, rsa_key: dict[str, Any]
) -> None:
    a = await venue.create_order(await venue.prepare_order(request("ws-a", 5, "0.30")))
    b = await venue.create_order(await venue.prepare_order(request("ws-b", 10, "0.45")))
    assert a.venue_order_id == "00000000-000a-11ce-0000-000000000001"
    assert b.venue_order_id == "00000000-000a-11ce-0000-000000000002"
    assert b.status is OrderStatus.PARTIALLY_FILLED
    if recording:  # what happened on the venue while its frames were lost
        fake.orders[a.venue_order_id].cancelled = True

    def fill_b_while_disconnected() -> None:
        if recording:  # the market trades through the rest of B's resting order
            fake.fill_resting(b.venue_order_id, D(10) - fake.orders[b.venue_order_id].filled)

    connector = Connector(FRAMES["connections"], before={1: fill_b_while_disconnected})
    stream = OrderStream(venue, connect=connector)
    updates = []
    iterator = stream.updates()
    async for state in iterator:
        updates.append(state)
        if len(updates) == 4:
            break
    await iterator.aclose()  # type: ignore[attr-defined]

    assert [(u.venue_order_id[-1], u.status) for u in updates] == [
        ("1", OrderStatus.OPEN),  # user_order frame
        ("2", OrderStatus.PARTIALLY_FILLED),  # fill frame -> REST read of the order
        ("1", OrderStatus.CANCELLED),  # seq gap on user_orders -> REST refetch
        ("2", OrderStatus.FILLED),  # reconnect -> REST refetch
    ]
    assert len(updates[1].fills) == 2 and updates[1].fees == D("0.1205")
    final = updates[3]  # the refetch carries every fill, consistent with the total
    assert sum(f.quantity for f in final.fills) == final.filled_quantity == D(10)
    # authenticated upgrade: signed GET of the websocket path, on every connect
    public = serialization.load_pem_public_key(rsa_key["public_key_pem"].encode())
    for url, headers in connector.calls:
        assert url == "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
        message = f"{headers['KALSHI-ACCESS-TIMESTAMP']}GET/trade-api/ws/v2".encode()
        public.verify(  # type: ignore[union-attr,call-arg]
            base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"]),
            message,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),  # type: ignore[arg-type]
            hashes.SHA256(),  # type: ignore[arg-type]
        )
    assert len(connector.calls) == 2
    for socket in connector.sockets:
        assert socket.sent[0]["cmd"] == "subscribe"
        assert socket.sent[0]["params"]["channels"] == ["user_orders", "fill", "market_positions"]


async def test_polling_fallback_when_the_socket_fails(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    state = await exchange.create_order(await exchange.prepare_order(request("poll-a", 5, "0.3")))

    def refuse(url: str, headers: dict[str, str]) -> Any:
        raise OSError("connection refused")

    stream = OrderStream(exchange, connect=refuse, poll_after_failures=2)
    iterator = stream.updates()
    first = await iterator.__anext__()
    assert first.venue_order_id == state.venue_order_id and first.status is OrderStatus.OPEN
    fake.orders[state.venue_order_id].cancelled = True
    second = await iterator.__anext__()
    assert second.status is OrderStatus.CANCELLED
    await iterator.aclose()


async def test_terminal_channel_error_resubscribes(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    state = await exchange.create_order(await exchange.prepare_order(request("term-a", 5, "0.3")))
    connector = Connector(
        [
            [{"id": 1, "type": "error", "msg": {"code": 25, "msg": "buffer overflow"}}],
            [],
        ],
        before={1: lambda: setattr(fake.orders[state.venue_order_id], "cancelled", True)},
    )
    stream = OrderStream(exchange, connect=connector)
    stream.latest.news(state)  # followed
    iterator = stream.updates()
    update = await iterator.__anext__()
    assert update.status is OrderStatus.CANCELLED and len(connector.calls) == 2
    await iterator.aclose()


async def test_watch_orders_is_wired(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    assert exchange.watch_orders() is not None
