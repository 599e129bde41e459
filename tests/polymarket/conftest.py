"""Shared fixtures of the Polymarket plugin tests.

Recorded-HTTP tests build the exchange with ``venue``: in replay (record mode ``none``, the
default) its client has the ordinary transport, which the cassette answers; only when
re-recording does the transport become the loopback ``FakeClob`` (see the cassette
README). Around it sit, in every run, a ``FaultTransport`` (``make_venue(faults=[...])``:
injected faults reach the adapter on replay too) and, outermost, a ``VerifyingTransport``
that fails the test on any request whose HMAC or order signature the venue would refuse
(cassettes hold no signatures, so replay alone could not tell). Credentials are the
public throwaway test key of the golden vectors and fake API
values; the cassettes hold neither.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
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

from arbexec.testing import recording
from arbexec.testing.faults import Fault, FaultTransport

HERE = Path(__file__).parent
DATA = HERE / "data"
VECTORS: dict[str, Any] = json.loads((DATA / "vectors.json").read_text())
TEST_KEY = VECTORS["test_key"]["private_key"]
_FIRST = VECTORS["vectors"][0]["inputs"]
API = ApiCredentials(
    api_key=_FIRST["api_key"], secret=_FIRST["api_secret"], passphrase=_FIRST["api_passphrase"]
)
#: Orders in recorded tests are signed at this fixed time (milliseconds), so hashes repeat.
ORDER_TIME_MS = 1_763_000_000_000
CLOCK = 1_763_000_000.0


@pytest.fixture(scope="session")
def vector_file() -> dict[str, Any]:
    return VECTORS


@pytest.fixture(scope="session")
def vectors(vector_file: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in vector_file["vectors"]}


def _scrub_order_signatures(request: Any) -> Any:
    """Order signatures in posted bodies never reach a cassette."""
    body = request.body
    if not body:
        return request
    try:
        payload = json.loads(body)
    except ValueError:
        return request
    items = payload if isinstance(payload, list) else [payload]
    changed = False
    for item in items:
        order = item.get("order") if isinstance(item, dict) else None
        if isinstance(order, dict) and "signature" in order:
            order["signature"] = recording.REDACTED
            changed = True
    if changed:
        request.body = json.dumps(payload, separators=(",", ":")).encode()
    return request


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    config = recording.vcr_config()
    config["filter_sensitive_data"] = {
        **config["filter_sensitive_data"],
        "<API_KEY>": API.api_key,
        "<API_SECRET>": API.secret,
        "<API_PASSPHRASE>": API.passphrase,
    }
    config["before_record_request"] = _scrub_order_signatures
    config.pop("record_mode", None)  # --record-mode decides; its default is "none"
    return config


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(recording.cassette_dir_for(Path(str(request.path))))


@pytest.fixture
def api() -> ApiCredentials:
    """The fake API credentials of the test account."""
    return API


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(signer=Signer.from_hex(TEST_KEY), api=API)


@pytest.fixture
def fake_clob(credentials: Credentials) -> Any:
    return fake.FakeClob(
        address=credentials.address,
        api_key=API.api_key,
        secret=API.secret,
        passphrase=API.passphrase,
    )


def verifier(credentials: Credentials) -> fake.RequestVerifier:
    return fake.RequestVerifier(address=credentials.address, api_key=API.api_key,
                                secret=API.secret, passphrase=API.passphrase)


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the adapter asked for (tests never really sleep)."""
    return []


@pytest.fixture
def make_venue(
    request: pytest.FixtureRequest, fake_clob: Any, credentials: Credentials, sleeps: list[float]
) -> Callable[..., PolymarketExchange]:
    """A factory of exchanges wired for recorded HTTP (see the module docstring).

    ``faults``: injected into every run (replay included); the exchange's ``faults``
    attribute is the ``FaultTransport`` (its ``calls``, ``requests`` and ``fired``)."""
    record_mode = request.getfixturevalue("record_mode")

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def make(
        transport_wrapper: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]
        | None = None,
        *,
        faults: tuple[Fault, ...] | list[Fault] = (),
        **options: Any,
    ) -> PolymarketExchange:
        inner: httpx.AsyncBaseTransport = (
            httpx.MockTransport(fake_clob.handle)
            if record_mode != "none"
            else httpx.AsyncHTTPTransport()
        )
        if transport_wrapper:
            inner = transport_wrapper(inner)
        injected = FaultTransport(inner, *faults)
        transport = fake.VerifyingTransport(injected, verifier(credentials))
        client = httpx.AsyncClient(transport=transport)
        config = PolymarketConfig.from_options({"read_retries": 2, **options})
        exchange = PolymarketExchange(
            config,
            credentials,
            client=client,
            clock=lambda: CLOCK,
            order_timestamp=lambda _request: ORDER_TIME_MS,
            sleep=no_sleep,
        )
        exchange.faults = injected  # type: ignore[attr-defined]
        return exchange

    return make


@pytest.fixture
async def venue(make_venue: Callable[..., PolymarketExchange]) -> AsyncIterator[PolymarketExchange]:
    exchange = make_venue()
    yield exchange
    await exchange.aclose()
