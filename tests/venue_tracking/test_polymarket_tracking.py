"""The engine follows Polymarket orders through the user channel.

Frames are the recorded user-channel frames of ``tests/polymarket/data/user_ws_frames.json``
replayed through a fake websocket. REST comes either from the plugin's recorded cassette
(``cassettes/polymarket/test_stream/``, replayed: the reconnect refetch of that recording)
or from the plugin's CLOB stand-in ``arbexec_polymarket.testing`` plugged in as the
transport, when the venue has to change between frames.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from arbexec_polymarket import testing as fake
from arbexec_polymarket.auth import ApiCredentials
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.credentials import Credentials
from arbexec_polymarket.exchange import PolymarketExchange
from arbexec_polymarket.signer import Signer

from arbexec.engine import Engine
from arbexec.journal import Journal
from arbexec.model import Fill, OrderRequest, OrderStatus, Outcome, Side
from arbexec.testing import recording
from arbexec.testing.faults import FaultTransport, respond

PLUGIN_TESTS = Path(__file__).resolve().parent.parent / "polymarket"
FRAMES: list[Any] = json.loads((PLUGIN_TESTS / "data" / "user_ws_frames.json").read_text())[
    "connections"
]
VECTORS = json.loads((PLUGIN_TESTS / "data" / "vectors.json").read_text())
_FIRST = VECTORS["vectors"][0]["inputs"]
API = ApiCredentials(
    api_key=_FIRST["api_key"], secret=_FIRST["api_secret"], passphrase=_FIRST["api_passphrase"]
)
CONDITION_ID = "0x" + "5e" * 32
ORDER_TIME_MS = 1_763_000_000_000  # orders are signed at a fixed time, as in the plugin tests
CLOCK = 1_763_000_000.0
#: The recording these tests replay through the engine (the plugin's own stream test).
PLUGIN_CASSETTES = recording.repository_root(PLUGIN_TESTS) / "cassettes" / "polymarket"


def resting(key: str, quantity: str = "10") -> OrderRequest:
    """A buy at 0.40 under a 0.52 ask: it rests."""
    return OrderRequest(
        request_id=key, idempotency_key=key, venue="polymarket", market=CONDITION_ID,
        outcome=Outcome.YES, side=Side.BUY, quantity=Decimal(quantity),
        limit_price=Decimal("0.40"), requested_at=datetime(2026, 11, 13, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    config = recording.vcr_config()
    config["filter_sensitive_data"] = {
        **config["filter_sensitive_data"],
        "<API_KEY>": API.api_key,
        "<API_SECRET>": API.secret,
        "<API_PASSPHRASE>": API.passphrase,
    }
    config["record_mode"] = "none"  # these tests replay the plugin's recording, never write
    return config


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(PLUGIN_CASSETTES / "test_stream")


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(signer=Signer.from_hex(VECTORS["test_key"]["private_key"]), api=API)


@pytest.fixture
def fake_clob(credentials: Credentials) -> Any:
    return fake.FakeClob(address=credentials.address, api_key=API.api_key,
                                     secret=API.secret, passphrase=API.passphrase)


@pytest.fixture
def make_venue(
    credentials: Credentials, sleep: Callable[[float], Awaitable[None]]
) -> Callable[..., PolymarketExchange]:
    """The exchange as the plugin tests build it, with a websocket connector."""

    def make(transport: httpx.AsyncBaseTransport, connect: Any, **options: Any
             ) -> PolymarketExchange:
        return PolymarketExchange(
            PolymarketConfig.from_options({"read_retries": 2, **options}), credentials,
            client=httpx.AsyncClient(transport=transport), clock=lambda: CLOCK,
            order_timestamp=lambda _request: ORDER_TIME_MS, sleep=sleep, ws_connect=connect,
        )

    return make


@pytest.fixture
def faults(fake_clob: Any) -> FaultTransport:
    """The CLOB stand-in behind the fault wrapper: a test injects refusals here."""
    return fake_clob.transport()


@pytest.fixture
def engine_on_fake(
    make_venue: Callable[..., PolymarketExchange], faults: FaultTransport,
    make_engine: Callable[[Any], Awaitable[Engine]],
) -> Callable[..., Awaitable[Engine]]:
    """An engine over the exchange with the CLOB stand-in as its transport."""

    async def build(connect: Any, **options: Any) -> Engine:
        return await make_engine(
            make_venue(faults, connect, **options))

    return build


def order_id_of(journal: Journal, key: str) -> Callable[[], str]:
    def order_id() -> str:
        row = journal.get(key)
        assert row is not None and row.venue_order_id, "the stream opened before the ack"
        return row.venue_order_id

    return order_id


def status_of(journal: Journal, key: str) -> OrderStatus | None:
    row = journal.get(key)
    return None if row is None else row.status


def fills_of(journal: Journal, key: str) -> list[tuple[str, Decimal, bool]]:
    return sorted((f.trade_id, f.quantity, f.final) for f in journal.fills(key))


def history(journal: Journal, key: str) -> list[tuple[str, str | None]]:
    return [(e.kind, e.data.get("status")) for _, e in journal.events(key=key)]


def assert_consistent(journal: Journal, key: str) -> None:
    """Fills are unique by trade id and never add up past the order."""
    row = journal.get(key)
    assert row is not None
    fills: list[Fill] = journal.fills(key)
    assert len({f.trade_id for f in fills}) == len(fills)
    assert sum((f.quantity for f in fills), Decimal(0)) == row.filled_quantity
    assert row.filled_quantity <= row.quantity


@pytest.mark.vcr("test_stream_events_reconnect_and_gap_refetch.yaml")
async def test_the_engine_follows_the_user_channel_through_a_reconnect(
    make_venue: Callable[..., PolymarketExchange], journal: Journal,
    make_engine: Callable[[Any], Awaitable[Engine]], connector: Any,
    until: Callable[..., Awaitable[None]],
) -> None:
    """The recorded session: placement and a MATCHED trade on the first connection, the
    socket drops, a reconnect is refused, and the next one's REST refetch (recorded) finds
    the order cancelled with its trade CONFIRMED."""
    down = asyncio.Event()  # holds the first socket open until the test lets it drop
    connect = connector(
        [(FRAMES[0] + [down], "drop"), "refuse", (FRAMES[2], "hang")],
        order_id=order_id_of(journal, "ws-order"),
    )
    engine = await make_engine(make_venue(httpx.AsyncHTTPTransport(), connect))

    result = await engine.submit(resting("ws-order"))
    assert result.status is OrderStatus.OPEN

    # the MATCHED trade on the stream: journaled at once, as a provisional fill
    await until(lambda: status_of(journal, "ws-order") is OrderStatus.PARTIALLY_FILLED,
                "the partial fill from the stream")
    assert fills_of(journal, "ws-order") == [("trade-0001", Decimal(4), False)]
    down.set()  # the socket drops; meanwhile the venue cancels and confirms the trade

    await until(lambda: status_of(journal, "ws-order") is OrderStatus.CANCELLED,
                "the cancel found by the refetch after the reconnect")
    row = journal.get("ws-order")
    assert row is not None and row.reason_code == "cancelled_with_fills"
    assert row.filled_quantity == Decimal(4) and row.average_price == Decimal("0.40")
    assert fills_of(journal, "ws-order") == [("trade-0001", Decimal(4), True)]
    assert_consistent(journal, "ws-order")
    assert history(journal, "ws-order") == [
        ("order.sent", None),
        ("order.state", "OPEN"),
        ("order.state", "PARTIALLY_FILLED"),
        ("order.state", "CANCELLED"),
    ]
    assert len(connect.urls) == 3 and all(u.endswith("/ws/user") for u in connect.urls)
    assert [json.loads(f)["type"] for f in connect.sent] == ["user", "user"]


async def test_a_trade_confirmed_after_the_cancel_makes_the_journaled_fill_final(
    engine_on_fake: Callable[..., Awaitable[Engine]], journal: Journal, connector: Any,
    until: Callable[..., Awaitable[None]],
) -> None:
    """One connection carries it all (recorded frames of both sessions): the MATCHED trade,
    another account's trade, the CANCELLATION, and only then the trade's CONFIRMED. The
    order is final at the cancel, but its fill is not until the confirmation."""
    connect = connector([(FRAMES[0] + FRAMES[2], "hang")],
                        order_id=order_id_of(journal, "pm-confirm"))
    engine = await engine_on_fake(connect)

    assert (await engine.submit(resting("pm-confirm"))).status is OrderStatus.OPEN
    await until(lambda: fills_of(journal, "pm-confirm") == [("trade-0001", Decimal(4), True)],
                "the confirmation of the trade")
    row = journal.get("pm-confirm")
    assert row is not None and row.status is OrderStatus.CANCELLED
    assert row.reason_code == "cancelled_with_fills" and row.filled_quantity == Decimal(4)
    assert_consistent(journal, "pm-confirm")  # trade-7777 (another account's) is not ours
    assert history(journal, "pm-confirm") == [
        ("order.sent", None),
        ("order.state", "OPEN"),
        ("order.state", "PARTIALLY_FILLED"),  # trade-0001 MATCHED: provisional
        ("order.state", "CANCELLED"),  # final status, fill still provisional
        ("order.state", "CANCELLED"),  # trade-0001 CONFIRMED: the fill is final
    ]
    assert len(connect.urls) == 1


async def test_fills_missed_while_the_stream_was_down_are_journaled_once(
    engine_on_fake: Callable[..., Awaitable[Engine]], fake_clob: Any, journal: Journal,
    connector: Any, until: Callable[..., Awaitable[None]], faults: FaultTransport,
) -> None:
    """The socket drops after a MATCHED trade; while it is down the trade is confirmed and
    the rest of the order fills. The plugin reconnects but its REST refetch is refused
    (503): the stream counts a failed connection, reconnects again and refetches. The
    engine never reopens the stream. Each trade is journaled once, the first one final."""
    down = asyncio.Event()
    connect = connector([(FRAMES[0] + [down], "drop"), ([], "hang")],
                        order_id=order_id_of(journal, "pm-gap"))
    engine = await engine_on_fake(connect, read_retries=0)

    assert (await engine.submit(resting("pm-gap"))).status is OrderStatus.OPEN
    await until(lambda: fills_of(journal, "pm-gap") == [("trade-0001", Decimal(4), False)],
                "the provisional fill from the stream")
    order_id = order_id_of(journal, "pm-gap")()
    # what happens on the venue while nobody listens
    fake.fill_resting_as_maker(fake_clob, order_id, "4", confirmed=True)
    fake.fill_resting_as_maker(fake_clob, order_id, "6", confirmed=True)
    fake_clob.orders[order_id].update(size_matched="10", status="MATCHED")
    faults.add(respond("GET", f"/data/order/{order_id}", 503, json={"error": "try again"}))
    down.set()

    await until(lambda: status_of(journal, "pm-gap") is OrderStatus.FILLED,
                "the fill found by the stream's second refetch")
    assert fills_of(journal, "pm-gap") == [
        ("trade-0001", Decimal(4), True), ("trade-0002", Decimal(6), True)]
    assert_consistent(journal, "pm-gap")
    row = journal.get("pm-gap")
    assert row is not None and row.filled_quantity == row.quantity == Decimal(10)
    assert history(journal, "pm-gap") == [
        ("order.sent", None),
        ("order.state", "OPEN"),
        ("order.state", "PARTIALLY_FILLED"),
        ("order.state", "FILLED"),
    ]
    assert list(journal.events(kinds=["stream.ended"])) == []  # the engine never reopened it
    # the first socket, the reconnect whose refetch failed, the one whose refetch worked
    assert len(connect.urls) == 3
    faults.assert_all_fired()
    assert faults.calls[f"GET /data/order/{order_id}"] == 2  # refused, then caught up


async def test_an_order_filled_at_once_keeps_listening_until_its_trade_is_confirmed(
    engine_on_fake: Callable[..., Awaitable[Engine]], fake_clob: Any, journal: Journal,
    connector: Any, until: Callable[..., Awaitable[None]],
) -> None:
    """A buy at the ask fills on arrival: FILLED at the acknowledgement, its trade only
    MATCHED. The engine opens the user channel for the confirmation; the socket drops,
    and the refetch after the reconnect finds the trade CONFIRMED."""
    down = asyncio.Event()
    connect = connector([([down], "drop")], order_id=order_id_of(journal, "pm-taker"))
    engine = await engine_on_fake(connect)
    marketable = OrderRequest(
        request_id="pm-taker", idempotency_key="pm-taker", venue="polymarket",
        market=CONDITION_ID, outcome=Outcome.YES, side=Side.BUY, quantity=Decimal(5),
        limit_price=Decimal("0.52"), requested_at=datetime(2026, 11, 13, tzinfo=UTC),
    )

    result = await engine.submit(marketable)
    assert result.status is OrderStatus.FILLED and result.filled_quantity == Decimal(5)
    assert fills_of(journal, "pm-taker") == [("trade-0001", Decimal(5), False)]
    await until(lambda: len(connect.urls) == 1, "the user channel opened for the trade")
    fake_clob.confirm_trades()  # on the venue, while the socket is about to drop
    down.set()

    await until(lambda: fills_of(journal, "pm-taker") == [("trade-0001", Decimal(5), True)],
                "the confirmation read after the reconnect")
    assert_consistent(journal, "pm-taker")
    row = journal.get("pm-taker")
    assert row is not None and row.status is OrderStatus.FILLED
    assert history(journal, "pm-taker") == [
        ("order.sent", None),
        ("order.state", "FILLED"),  # trade-0001 MATCHED
        ("order.state", "FILLED"),  # trade-0001 CONFIRMED
    ]
    assert not engine.live.any_settling  # nothing provisional is left to listen for
