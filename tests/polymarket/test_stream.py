"""User channel: recorded frames replayed through a fake socket, REST gap refetch from a
cassette (cassettes/polymarket/test_stream/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from arbexec_polymarket.exchange import PolymarketExchange
from arbexec_polymarket.stream import UserStream

from arbexec.model import OrderRequest, OrderStatus, Outcome, Side

FRAMES = json.loads((Path(__file__).parent / "data" / "user_ws_frames.json").read_text())
CONDITION_ID = "0x" + "5e" * 32


class FakeSocket:
    def __init__(self, frames: list[str], sent: list[str]) -> None:
        self._frames = frames
        self.sent = sent

    async def __aenter__(self) -> FakeSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, text: str) -> None:
        self.sent.append(text)

    def __aiter__(self) -> Any:
        return self._replay()

    async def _replay(self) -> Any:
        for frame in self._frames:
            yield frame
        raise ConnectionResetError("socket dropped")


def fake_connect(connections: list[Any], order_id: str, sent: list[str]) -> Callable[[str], Any]:
    queue = list(connections)
    urls: list[str] = []

    def connect(url: str) -> FakeSocket:
        urls.append(url)
        script = queue.pop(0) if queue else "refuse"
        if script == "refuse":
            raise ConnectionRefusedError("no route")
        return FakeSocket([f.replace("{ORDER_ID}", order_id) for f in script], sent)

    connect.urls = urls  # type: ignore[attr-defined]
    return connect


def resting(key: str) -> OrderRequest:
    return OrderRequest(
        request_id=key,
        idempotency_key=key,
        venue="polymarket",
        market=CONDITION_ID,
        outcome=Outcome.YES,
        side=Side.BUY,
        quantity=Decimal("10"),
        limit_price=Decimal("0.40"),
        requested_at=datetime(2026, 11, 13, tzinfo=UTC),
    )


@pytest.mark.vcr
async def test_stream_events_reconnect_and_gap_refetch(
    make_venue: Callable[..., PolymarketExchange], fake_clob: Any
) -> None:
    venue = make_venue()
    try:
        state = await venue.create_order(await venue.prepare_order(resting("ws-order")))
        order_id = state.venue_order_id
        sent: list[str] = []
        connect = fake_connect(FRAMES["connections"], order_id, sent)
        stream = UserStream(venue, connect=connect)
        updates = stream.updates()

        placed = await anext(updates)
        assert placed.status is OrderStatus.OPEN and placed.venue_order_id == order_id
        assert placed.market == CONDITION_ID and placed.outcome is Outcome.YES

        partial = await anext(updates)
        assert partial.status is OrderStatus.PARTIALLY_FILLED
        assert partial.filled_quantity == Decimal("4")
        assert [(f.trade_id, f.final) for f in partial.fills] == [("trade-0001", False)]

        # While the socket is down the order is cancelled and its trade confirmed.
        from arbexec_polymarket import testing as fc

        fc.fill_resting_as_maker(fake_clob, order_id, "4", confirmed=True)
        fake_clob._cancel([order_id])

        refetched = await anext(updates)  # REST, right after the reconnect
        assert refetched.status is OrderStatus.CANCELLED
        assert refetched.filled_quantity == Decimal("4")
        assert [f.final for f in refetched.fills] == [True]

        await updates.aclose()
        auth = json.loads(sent[0])
        assert auth["type"] == "user"
        assert set(auth["auth"]) == {"apiKey", "secret", "passphrase"}
        assert len(connect.urls) == 3  # type: ignore[attr-defined]
        assert all(u.endswith("/ws/user") for u in connect.urls)  # type: ignore[attr-defined]
    finally:
        await venue.aclose()


async def test_stream_frames_alone_give_cancel_with_final_fill(
    make_venue: Callable[..., PolymarketExchange],
) -> None:
    """Frames of the third connection fold into CANCELLED with a confirmed fill."""
    venue = make_venue()
    order_id = "0x" + "ab" * 32
    venue._remember(order_id, CONDITION_ID, Outcome.YES)
    stream = UserStream(venue, connect=lambda url: None)
    frames = [f.replace("{ORDER_ID}", order_id) for f in FRAMES["connections"][0]]
    frames += [f.replace("{ORDER_ID}", order_id) for f in FRAMES["connections"][2]]
    states = []
    for frame in frames:
        for event in stream.decode(frame):
            for changed in stream.apply(event):
                state = stream._emit(changed)
                if state is not None:
                    states.append(state)
    assert [s.status for s in states] == [
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,  # the trade
        OrderStatus.CANCELLED,
        OrderStatus.CANCELLED,  # its trade is now CONFIRMED
    ]
    assert states[-1].fills[0].final and states[-1].filled_quantity == Decimal("4")
    await venue.aclose()


@pytest.mark.vcr
async def test_polling_fallback_when_the_socket_never_connects(
    make_venue: Callable[..., PolymarketExchange], fake_clob: Any
) -> None:
    venue = make_venue()
    try:
        state = await venue.create_order(await venue.prepare_order(resting("poll-order")))
        from arbexec_polymarket import testing as fc

        fc.fill_resting_as_maker(fake_clob, state.venue_order_id, "2.5", confirmed=False)
        stream = UserStream(venue, connect=fake_connect([], state.venue_order_id, []))
        updates = stream.updates()
        polled = await anext(updates)
        await updates.aclose()
        assert polled.venue_order_id == state.venue_order_id
        assert polled.status is OrderStatus.PARTIALLY_FILLED
        assert polled.filled_quantity == Decimal("2.5")
    finally:
        await venue.aclose()


def test_watch_orders_needs_api_credentials(make_venue: Callable[..., Any]) -> None:
    venue = make_venue(stream=False)
    assert venue.watch_orders() is None
