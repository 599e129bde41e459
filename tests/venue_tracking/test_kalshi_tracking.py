"""The engine follows Kalshi orders through the authenticated websocket.

Frames are the recorded ``user_orders`` / ``fill`` / ``market_positions`` frames of
``tests/kalshi/data/ws_frames.json`` replayed through a fake websocket; REST is the plugin's
fake venue (``arbexec_kalshi.testing.FakeKalshi``, the stand-in its cassettes were recorded
from) plugged in as the transport, so the venue can change while frames are lost. Its
deterministic order ids are the ones the recorded frames name.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from arbexec_kalshi.config import KalshiConfig
from arbexec_kalshi.exchange import KalshiExchange
from arbexec_kalshi.signing import Signer
from arbexec_kalshi.testing import FakeKalshi

from arbexec.engine import Engine
from arbexec.journal import Journal
from arbexec.model import OrderRequest, OrderStatus
from arbexec.testing.faults import FaultTransport, respond

D = Decimal
PLUGIN_DATA = Path(__file__).resolve().parent.parent / "kalshi" / "data"
RECORDED = json.loads((PLUGIN_DATA / "ws_frames.json").read_text())["connections"]
KEY = json.loads((PLUGIN_DATA / "kalshi_vectors.json").read_text())["test_keys"]["rsa_2048"]
TICKER = "KXHIGHNY-26NOV22-B57.5"
ORDER_A = "00000000-000a-11ce-0000-000000000001"  # the fake venue's first order id
ORDER_B = "00000000-000a-11ce-0000-000000000002"


def frames(connection: int, *keep: int) -> list[str]:
    """Recorded frames of one connection as sent on the wire (optionally only some)."""
    chosen = RECORDED[connection]
    picked = [chosen[i] for i in keep] if keep else chosen
    return [json.dumps(frame) for frame in picked]


def request(key: str, quantity: int, price: str) -> OrderRequest:
    """The requests of the recording (same keys, so the same client order ids)."""
    return OrderRequest(
        request_id=key, idempotency_key=key, venue="kalshi", market=TICKER, outcome="YES",
        side="BUY", quantity=D(quantity), limit_price=D(price),
        requested_at=datetime(2026, 11, 22, tzinfo=UTC),
    )


def maker_fill(fake: FakeKalshi, order_id: str, count: str) -> str:
    """Someone trades against our resting order at its price (while frames are lost)."""
    order = fake.orders[order_id]
    quantity = D(count)
    order.filled += quantity
    order.cost += order.yes_price * quantity
    fill_id = fake._next_id()
    fake.fills.append({
        "fill_id": fill_id, "trade_id": f"t-{len(fake.fills) + 1}", "order_id": order_id,
        "ticker": order.ticker, "outcome_side": "yes", "book_side": order.book_side,
        "count_fp": f"{quantity:.2f}", "yes_price_dollars": f"{order.yes_price:.4f}",
        "no_price_dollars": f"{1 - order.yes_price:.4f}", "is_taker": False,
        "fee_cost": "0.000000", "created_time": "2026-11-22T02:10:00.000Z", "ts": 1795313400,
    })
    return fill_id


@pytest.fixture
def fake() -> FakeKalshi:
    """The plugin tests' venue: YES asks at 0.42 (3) and 0.45 (4) from the NO bids."""
    venue = FakeKalshi(public_key_pem=KEY["public_key_pem"], key_id=KEY["key_id"])
    venue.add_market(TICKER, yes_bids={"0.4000": "10", "0.3500": "5"},
                     no_bids={"0.5500": "4", "0.5800": "3"})
    return venue


@pytest.fixture
def faults(fake: FakeKalshi) -> FaultTransport:
    """The stand-in behind the fault wrapper: a test injects refusals here."""
    return fake.transport()


@pytest.fixture
def kalshi_engine(
    faults: FaultTransport, make_engine: Callable[[Any], Awaitable[Engine]],
    sleep: Callable[[float], Awaitable[None]],
) -> Callable[[Any], Awaitable[Engine]]:
    async def build(connect: Any) -> Engine:
        exchange = KalshiExchange(
            config=KalshiConfig(), signer=Signer.from_pem(KEY["key_id"], KEY["private_key_pem"]),
            transport=faults, sleep=sleep, ws_connect=connect,
        )
        return await make_engine(exchange)

    return build


def fills_of(journal: Journal, key: str) -> list[tuple[str, Decimal, bool]]:
    return sorted((f.trade_id, f.quantity, f.final) for f in journal.fills(key))


def history(journal: Journal, key: str) -> list[tuple[str, str | None, Decimal | None]]:
    """(kind, status, filled quantity) of each journaled event of the order."""
    return [(e.kind, e.data.get("status"),
             None if e.data.get("filled_quantity") is None else D(e.data["filled_quantity"]))
            for _, e in journal.events(key=key)]


def status_of(journal: Journal, key: str) -> OrderStatus | None:
    row = journal.get(key)
    return None if row is None else row.status


def assert_consistent(journal: Journal, key: str) -> None:
    """Fills are unique by trade id and never add up past the order."""
    row = journal.get(key)
    assert row is not None
    fills = journal.fills(key)
    assert len({f.trade_id for f in fills}) == len(fills)
    assert sum((f.quantity for f in fills), D(0)) == row.filled_quantity <= row.quantity


#: What happens to B while the socket is down: contracts filled, whether the rest is
#: cancelled, and what the engine must end with.
WHILE_DOWN = {
    "rest_fills": ("3", False, OrderStatus.FILLED, D(10), None),
    "one_fills_then_cancelled": ("1", True, OrderStatus.CANCELLED, D(8), "cancelled_with_fills"),
}


@pytest.mark.parametrize("while_down", list(WHILE_DOWN))
async def test_the_engine_follows_recorded_frames_through_a_gap_and_a_reconnect(
    kalshi_engine: Callable[[Any], Awaitable[Engine]], fake: FakeKalshi, journal: Journal,
    connector: Any, until: Callable[..., Awaitable[None]], while_down: str,
) -> None:
    """The recorded session. A rests; B crosses for 7 of 10 and rests. On the first
    connection a ``fill`` frame makes the plugin read B (its two fills), and ``user_orders``
    jumps from seq 1 to 3: the lost seq 2 was A's cancel, found by the refetch. The socket
    closes; while it is down more of B fills (and the rest may be cancelled); the
    reconnect's refetch finds B final with every fill, each journaled once."""
    count, cancel, final, filled, reason = WHILE_DOWN[while_down]
    opened, closing = asyncio.Event(), asyncio.Event()
    connect = connector([([opened, *frames(0), closing], "close"), (frames(1), "hang")])
    engine = await kalshi_engine(connect)

    a = await engine.submit(request("ws-a", 5, "0.30"))
    b = await engine.submit(request("ws-b", 10, "0.45"))
    assert (a.status, a.venue_order_id) == (OrderStatus.OPEN, ORDER_A)
    assert (b.status, b.venue_order_id, b.filled_quantity) == (
        OrderStatus.PARTIALLY_FILLED, ORDER_B, D(7))
    fake.orders[ORDER_A].cancelled = True  # elsewhere; its frame (seq 2) never arrives
    opened.set()

    await until(lambda: status_of(journal, "ws-a") is OrderStatus.CANCELLED,
                "A's cancel, found by the refetch after the sequence gap")
    row_a = journal.get("ws-a")
    assert row_a is not None and row_a.reason_code == "cancelled" and not journal.fills("ws-a")
    assert fills_of(journal, "ws-b") == [  # the fill frame: B read over REST, with its fills
        ("00000000-000a-11ce-0000-000000000003", D(3), True),
        ("00000000-000a-11ce-0000-000000000004", D(4), True),
    ]
    missed = maker_fill(fake, ORDER_B, count)  # while the socket is down
    fake.orders[ORDER_B].cancelled = cancel
    closing.set()

    await until(lambda: status_of(journal, "ws-b") is final,
                "B's final state, found by the refetch after the reconnect")
    assert fills_of(journal, "ws-b") == [
        ("00000000-000a-11ce-0000-000000000003", D(3), True),
        ("00000000-000a-11ce-0000-000000000004", D(4), True),
        (missed, D(count), True),
    ]
    assert_consistent(journal, "ws-b")
    row_b = journal.get("ws-b")
    assert row_b is not None and row_b.filled_quantity == filled
    assert row_b.reason_code == reason
    assert history(journal, "ws-a") == [
        ("order.sent", None, None),
        ("order.state", "OPEN", D(0)),
        ("order.state", "CANCELLED", D(0)),
    ]
    assert history(journal, "ws-b") == [
        ("order.sent", None, None),
        ("order.state", "PARTIALLY_FILLED", D(7)),  # the create answer: 7 filled, no fills
        ("order.state", "PARTIALLY_FILLED", D(7)),  # the fill frame: its two fills
        ("order.state", final.value, filled),
    ]
    # the plugin reconnected on its own: the engine's stream never failed
    assert list(journal.events(kinds=["stream.ended"])) == []
    assert len(connect.urls) == 2
    assert all("KALSHI-ACCESS-SIGNATURE" in headers for headers in connect.headers)
    subscribed = [json.loads(text)["params"]["channels"] for text in connect.sent]
    assert subscribed == [["user_orders", "fill", "market_positions"]] * 2


async def test_a_fill_lost_with_the_frames_is_caught_up_once_by_the_stream(
    kalshi_engine: Callable[[Any], Awaitable[Engine]], fake: FakeKalshi, journal: Journal,
    connector: Any, until: Callable[..., Awaitable[None]], faults: FaultTransport,
) -> None:
    """A rests; its ``user_orders`` frame arrives, then the next frame jumps the sequence.
    Meanwhile A filled. The plugin's refetch after the gap is refused (503 on every try),
    so the stream drops the socket, reconnects and refetches again (the engine never
    reopens it): one fill row, FILLED, nothing doubled."""
    gap = asyncio.Event()
    connect = connector([
        ([*frames(0, 0, 1, 2, 3), gap, *frames(0, 6)], "hang"),  # seq 1, then seq 3
        (frames(1), "hang"),
    ])
    engine = await kalshi_engine(connect)

    assert (await engine.submit(request("ws-a", 5, "0.30"))).status is OrderStatus.OPEN
    await until(lambda: len(connect.sent) == 1, "the subscription")
    missed = maker_fill(fake, ORDER_A, "5")
    faults.add(respond(  # every read attempt of the open-orders list
        "GET", "/trade-api/v2/portfolio/orders", 503,
        json={"error": {"code": "service_unavailable"}}, times=4))
    gap.set()

    await until(lambda: status_of(journal, "ws-a") is OrderStatus.FILLED,
                "the fill found by the stream's refetch after its reconnect")
    assert fills_of(journal, "ws-a") == [(missed, D(5), True)]
    assert_consistent(journal, "ws-a")
    assert history(journal, "ws-a") == [
        ("order.sent", None, None),
        ("order.state", "OPEN", D(0)),
        ("order.state", "FILLED", D(5)),
    ]
    assert list(journal.events(kinds=["stream.ended"])) == []
    assert len(connect.urls) == 2  # the first socket, then the stream's own reconnect
    faults.assert_all_fired()  # the plugin did try to refetch
