"""The venues of the reliability tests, each wired so a fault can be injected on its order
POST and every request is counted at the transport.

Polymarket and Kalshi are their plugins' stand-ins (``FakeClob``, ``FakeKalshi``) behind the
shared ``FaultTransport``; the paper venue is driven by its switches (it speaks no HTTP).
Credentials are throwaway test values; ``SECRETS`` lists every one of them, for the sweep.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from attrs import define, field

from arbexec.exchange import Exchange, ExchangeSettings
from arbexec.model import OrderRequest, Outcome, Side
from arbexec.testing.faults import Fault, FaultTransport

HERE = Path(__file__).parent
TESTS = HERE.parent

POLY_DATA = json.loads((TESTS / "polymarket" / "data" / "vectors.json").read_text())
POLY_KEY = POLY_DATA["test_key"]["private_key"]
_FIRST = POLY_DATA["vectors"][0]["inputs"]
POLY_API_KEY = _FIRST["api_key"]
POLY_API_SECRET = _FIRST["api_secret"]
POLY_PASSPHRASE = _FIRST["api_passphrase"]

KALSHI_DATA = json.loads((TESTS / "kalshi" / "data" / "kalshi_vectors.json").read_text())
KALSHI_RSA = KALSHI_DATA["test_keys"]["rsa_2048"]
KALSHI_TICKER = "KXHIGHNY-26NOV22-B57.5"


@define
class SlowTransport(httpx.AsyncBaseTransport):
    """Delivers every request after a short pause: a slow venue that still answers."""

    inner: httpx.AsyncBaseTransport
    delay: float = 0.05

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self.delay)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@define
class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the requests that reach the stand-in (under the fault transport)."""

    inner: httpx.AsyncBaseTransport
    seen: list[httpx.Request] = field(factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@define
class Wired:
    """One venue under test: the exchange, its order request, and how its sends are seen."""

    exchange: Exchange
    request: OrderRequest
    transport: FaultTransport | None  # None for the paper venue
    order_post: tuple[str, str]  # (method, path) of the order POST
    venue_state: Callable[[], Any]  # the stand-in itself, for the post-run checks
    reached: CountingTransport | None = None

    def _is_post(self, request: httpx.Request) -> bool:
        method, path = self.order_post
        return request.method == method and request.url.path == path

    def attempts(self) -> int:
        """Order POSTs the adapter made (at the fault transport)."""
        if self.transport is None:
            return int(getattr(self.exchange, "creates", 0))
        return sum(map(self._is_post, self.transport.requests))

    def delivered(self) -> int:
        """Order POSTs that reached the venue (paper: orders the venue holds)."""
        if self.reached is None:
            return len(getattr(self.exchange, "_orders", {}))
        return sum(map(self._is_post, self.reached.seen))


def order_request(venue: str, market: str, key: str, price: str = "0.40") -> OrderRequest:
    return OrderRequest(request_id=f"req-{key}", idempotency_key=key, venue=venue,
                        market=market, outcome=Outcome.YES, side=Side.BUY,
                        quantity=Decimal("10"), limit_price=Decimal(price))


def polymarket(key: str, faults: list[Fault], *, slow: bool = False) -> Wired:
    from arbexec_polymarket import testing as fake
    from arbexec_polymarket.auth import ApiCredentials
    from arbexec_polymarket.config import PolymarketConfig
    from arbexec_polymarket.credentials import Credentials
    from arbexec_polymarket.exchange import PolymarketExchange
    from arbexec_polymarket.signer import Signer

    api = ApiCredentials(api_key=POLY_API_KEY, secret=POLY_API_SECRET,
                         passphrase=POLY_PASSPHRASE)
    credentials = Credentials(signer=Signer.from_hex(POLY_KEY), api=api)
    clob = fake.FakeClob(address=credentials.address, api_key=api.api_key, secret=api.secret,
                         passphrase=api.passphrase)
    reached = CountingTransport(httpx.MockTransport(clob.handle))
    inner: httpx.AsyncBaseTransport = reached
    if slow:
        inner = SlowTransport(inner)
    injected = FaultTransport(inner, *faults)
    client = httpx.AsyncClient(transport=injected)

    async def no_sleep(_seconds: float) -> None:
        await asyncio.sleep(0)

    options = {"read_retries": 1, "heartbeats": False, "stream": False}
    exchange = PolymarketExchange(PolymarketConfig.from_options(options), credentials,
                                  client=client, sleep=no_sleep)
    request = order_request("polymarket", fake.CONDITION_ID, key)
    return Wired(exchange=exchange, request=request, transport=injected,
                 order_post=("POST", "/order"), venue_state=lambda: clob, reached=reached)


def kalshi(key: str, faults: list[Fault], *, slow: bool = False) -> Wired:
    from arbexec_kalshi.config import KalshiConfig
    from arbexec_kalshi.exchange import KalshiExchange
    from arbexec_kalshi.signing import Signer
    from arbexec_kalshi.testing import FakeKalshi

    venue = FakeKalshi(public_key_pem=KALSHI_RSA["public_key_pem"], key_id=KALSHI_RSA["key_id"])
    venue.add_market(KALSHI_TICKER, yes_bids={"0.4000": "10", "0.3500": "5"},
                     no_bids={"0.5500": "4", "0.5800": "3"}, exchange_index=1)
    reached = CountingTransport(httpx.MockTransport(venue))
    inner: httpx.AsyncBaseTransport = reached
    if slow:
        inner = SlowTransport(inner)
    injected = FaultTransport(inner, *faults)
    signer = Signer.from_pem(KALSHI_RSA["key_id"], KALSHI_RSA["private_key_pem"])

    async def no_sleep(_seconds: float) -> None:
        await asyncio.sleep(0)

    exchange = KalshiExchange(config=KalshiConfig(), signer=signer, transport=injected,
                              sleep=no_sleep)
    request = order_request("kalshi", KALSHI_TICKER, key, price="0.45")
    return Wired(exchange=exchange, request=request, transport=injected,
                 order_post=("POST", "/trade-api/v2/portfolio/events/orders"),
                 venue_state=lambda: venue, reached=reached)


def paper(key: str, state_dir: Path, **switches: Any) -> Wired:
    from arbexec_paper.exchange import PaperExchange

    options: dict[str, Any] = {
        "step_seconds": 0,
        "markets": {"M": {"mid": "0.50", "spread_ticks": 2, "depth": [100, 200, 300],
                          "volatility": 0.0}},
    }
    exchange = PaperExchange(ExchangeSettings(name="paper", options=options,
                                              state_dir=str(state_dir)))
    for name, value in switches.items():
        setattr(exchange.switches, name, value)
    creates = 0
    original = exchange.create_order

    async def counted(order: Any) -> Any:
        nonlocal creates
        creates += 1
        exchange.creates = creates  # type: ignore[attr-defined]
        return await original(order)

    exchange.create_order = counted  # type: ignore[method-assign]
    request = order_request("paper", "M", key, price="0.51")
    return Wired(exchange=exchange, request=request, transport=None,
                 order_post=("create_order", ""), venue_state=lambda: exchange)


def encodings(secret: str | bytes) -> set[str]:
    """A secret and the forms it could leak in: as is, hex, base64 and url-safe base64
    (with and without padding)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    forms = {raw.hex(), raw.hex().upper()}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms |= {text, text.rstrip("=")}
    if isinstance(secret, str):
        forms.add(secret)
    return {form for form in forms if len(form) >= 12}
