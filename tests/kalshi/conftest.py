"""Fixtures for the Kalshi plugin tests: vectors, throwaway keys, a fake venue, and the
checking transport every exchange under test talks through (signatures verified, requests
and answers validated against the official SDK's models, faults injected)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(Path(__file__).parent))  # kalshi_sdk_models, kalshi_venue_checks


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return json.loads((DATA / "kalshi_vectors.json").read_text())


@pytest.fixture(scope="session")
def rsa_key(vectors: dict[str, Any]) -> dict[str, Any]:
    return vectors["test_keys"]["rsa_2048"]


@pytest.fixture(scope="session")
def ed_key(vectors: dict[str, Any]) -> dict[str, Any]:
    return vectors["test_keys"]["ed25519"]


TICKER = "KXHIGHNY-26NOV22-B57.5"
SUBPENNY = "KXSUB-26DEC31-T5"


@pytest.fixture
def fake(rsa_key: dict[str, Any]) -> Any:
    """A fake Kalshi account that verifies RSA-PSS signatures with the test public key."""
    from arbexec_kalshi.testing import FakeKalshi

    venue = FakeKalshi(public_key_pem=rsa_key["public_key_pem"], key_id=rsa_key["key_id"])
    venue.add_market(
        TICKER,
        yes_bids={"0.4000": "10", "0.3500": "5"},
        no_bids={"0.5500": "4", "0.5800": "3"},
        exchange_index=1,  # not shard 0: an unrouted cancel would miss it, as on Kalshi
    )
    venue.add_market(SUBPENNY, structure="tapered_deci_cent", fractional=True)
    return venue


@pytest.fixture
def make_exchange(rsa_key: dict[str, Any]) -> Any:
    """Build a KalshiExchange over an httpx transport (wrapped in the checking transport,
    exposed as ``exchange.checks``), with instant sleeps. Any SDK-model violation seen
    fails the test at teardown."""
    from arbexec_kalshi.config import KalshiConfig
    from arbexec_kalshi.exchange import KalshiExchange
    from arbexec_kalshi.signing import Signer
    from kalshi_venue_checks import CheckedTransport

    sleeps: list[float] = []
    checked: list[CheckedTransport] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def build(transport: Any = None, *, clock: Any = None, **config: Any) -> KalshiExchange:
        kwargs = {} if clock is None else {"clock": clock}
        signer = Signer.from_pem(rsa_key["key_id"], rsa_key["private_key_pem"], **kwargs)
        checks = CheckedTransport(
            transport if transport is not None else httpx.AsyncHTTPTransport(),
            rsa_key["public_key_pem"],
            rsa_key["key_id"],
        )
        checked.append(checks)
        exchange = KalshiExchange(
            config=KalshiConfig(**config), signer=signer, transport=checks, sleep=no_sleep
        )
        exchange.sleeps = sleeps  # type: ignore[attr-defined]
        exchange.checks = checks  # type: ignore[attr-defined]
        return exchange

    yield build
    violations = [v for c in checked for v in c.violations]
    assert violations == [], "exchanges Kalshi's SDK models refuse:\n" + "\n".join(violations)


@pytest.fixture
def recording(request: pytest.FixtureRequest) -> bool:
    """True when pytest-recording writes cassettes (``--record-mode`` other than none)."""
    return (request.config.getoption("--record-mode", default="none") or "none") != "none"


@pytest.fixture
async def venue(fake: Any, make_exchange: Any, recording: bool) -> Any:
    """An exchange on the production host. Recording: served by the fake venue through a
    MockTransport (vcrpy writes what it answers); replay: the real transport, which vcrpy
    answers from the cassette, so nothing reaches the network."""
    exchange = make_exchange(httpx.MockTransport(fake) if recording else None)
    yield exchange
    await exchange.aclose()


