"""Exchange selection from market metadata, proxies, heartbeats (mock transport, no cassette)."""

from __future__ import annotations

import json
from datetime import UTC
from decimal import Decimal
from typing import Any

import httpx
import pytest
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.eip712 import ExchangeKind
from arbexec_polymarket.exchange import PolymarketExchange
from arbexec_polymarket.plugin import arbexec_exchanges

from arbexec import errors
from arbexec.exchange import ExchangeSettings

CONDITION = "0x" + "12" * 32
POSITION_YES = "619646588906256339388950894035861224813172963172113282703093611405881636096"
POSITION_NO = "619646588906256339388950894035861224813172963172113282703093611405881636097"


def venue_answering(version: str, neg_risk: bool, calls: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.host}{request.url.path}")
        path = request.url.path
        if request.url.host.startswith("gamma"):
            return httpx.Response(200, json=[{
                "conditionId": CONDITION,
                "clobTokenIds": json.dumps([POSITION_YES, POSITION_NO]),
                "outcomes": json.dumps(["Up", "Down"]),
                "orderMinSize": "5",
                "version": version,
            }])  # fmt: skip
        if path == "/tick-size":
            return httpx.Response(200, json={"minimum_tick_size": "0.001"})
        if path == "/neg-risk":
            return httpx.Response(200, json={"neg_risk": neg_risk})
        if path.startswith("/clob-markets/"):
            return httpx.Response(200, json={"t": [], "mts": 0.001, "nr": neg_risk})
        if path == "/v1/heartbeats":
            return httpx.Response(200, json={"heartbeat_id": "hb-9"})
        return httpx.Response(404, json={"error": "not found"})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("version", "neg_risk", "kind"),
    [
        ("v1", False, ExchangeKind.STANDARD),
        ("v1", True, ExchangeKind.NEG_RISK),
        ("v2", True, ExchangeKind.V3),  # position-id markets ignore neg-risk
        (None, False, ExchangeKind.STANDARD),
    ],
)
async def test_exchange_contract_follows_market_metadata(
    credentials: Any, version: str, neg_risk: bool, kind: ExchangeKind
) -> None:
    calls: list[str] = []
    client = httpx.AsyncClient(transport=venue_answering(version, neg_risk, calls))
    venue = PolymarketExchange(PolymarketConfig(), credentials, client=client)
    info = await venue.market_info(CONDITION)
    assert info.exchange is kind and info.neg_risk is neg_risk
    assert info.tick_size == Decimal("0.001") and info.outcomes == ("Up", "Down")
    assert info.fees is None
    await venue.market_info(CONDITION)  # cached
    assert sum(1 for c in calls if "gamma" in c) == 1
    await venue.aclose()


async def test_unknown_market_string_is_refused(credentials: Any) -> None:
    venue = PolymarketExchange(PolymarketConfig(), credentials)
    with pytest.raises(errors.InvalidOrder, match="neither a condition id"):
        await venue.market_info("will-it-rain")
    await venue.aclose()


async def test_calls_go_through_the_configured_socks5_proxy(credentials: Any) -> None:
    """A loopback SOCKS5 server sees the venue call (and refuses it): dropping the proxy
    from the client would send it elsewhere and fail this test."""
    import asyncio

    targets: list[tuple[str, int]] = []

    async def socks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readexactly(2)  # version, number of methods
        await reader.readexactly(head[1])
        writer.write(b"\x05\x00")  # no authentication
        _version, _command, _rsv, kind = await reader.readexactly(4)
        if kind == 3:  # a host name
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            host = ".".join(str(b) for b in await reader.readexactly(4))
        port = int.from_bytes(await reader.readexactly(2), "big")
        targets.append((host, port))
        writer.write(b"\x05\x01\x00\x01" + bytes(6))  # general failure
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(socks, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = PolymarketConfig.from_options(
        {"proxy_url": f"socks5://127.0.0.1:{port}", "read_retries": 0})
    venue = PolymarketExchange(config, credentials)
    try:
        with pytest.raises(errors.NetworkError):
            await venue.midpoint(CONDITION)
    finally:
        await venue.aclose()
        server.close()
        await server.wait_closed()
    assert targets == [("gamma-api.polymarket.com", 443)]


def test_plugin_offers_the_venue_and_factory_reads_settings(monkeypatch: Any) -> None:
    (spec,) = arbexec_exchanges()
    assert spec.name == "polymarket"
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", "0x" + "11" * 32)
    exchange = spec.factory(ExchangeSettings(name="pm", options={"chain_id": 80002}))
    assert exchange.name == "pm" and exchange.config.chain_id == 80002
    assert "11" * 32 not in repr(exchange)


def test_plugin_module_import_is_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, arbexec_polymarket.plugin as p; "
        "heavy = [m for m in ('coincurve', 'eth_account', 'httpx', 'Crypto', 'websockets') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_missing_credentials_refuse_the_order_without_crashing() -> None:
    from datetime import datetime

    from arbexec_polymarket.credentials import Credentials

    from arbexec.model import OrderRequest

    calls: list[str] = []
    client = httpx.AsyncClient(transport=venue_answering("v1", False, calls))
    venue = PolymarketExchange(PolymarketConfig(), Credentials(), client=client)
    request = OrderRequest(
        request_id="r", idempotency_key="k", venue="polymarket", market=CONDITION,
        outcome="YES", side="BUY", quantity="10", limit_price="0.5",
        requested_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    with pytest.raises(errors.AuthenticationError, match="POLYMARKET_PRIVATE_KEY"):
        await venue.prepare_order(request)
    assert not any(c.startswith("POST") for c in calls)
    await venue.aclose()
