"""The stand-in venues bench_venue_requests.py serves on loopback, and their accounts.

The Kalshi stand-in verifies RSA-PSS signatures and matches orders (arbexec_kalshi.testing);
the Polymarket stand-in checks L2 HMAC headers and recovers order signers
(arbexec_polymarket.testing). Both run in the server process (bench/loopback.py), so their
work is not counted as client CPU.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KALSHI_TICKER = "KXBENCH-26DEC31-T50"
POLY_KEY = "0xac0974bec39a17e36ba4a84b4d1d1ec6b0b1fd7ed6b9e4b8f6e7b2b1b0b1b2b3"  # test key
POLY_API = {"api_key": "00000000-0000-4000-8000-000000000001",
            "secret": "dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZmdoaWo=",
            "passphrase": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"}


def kalshi_key() -> dict[str, Any]:
    """The public RSA-2048 test key of the Kalshi vectors (key id, both PEMs)."""
    vectors = json.loads((ROOT / "tests" / "kalshi" / "data" / "kalshi_vectors.json")
                         .read_text())
    key: dict[str, Any] = vectors["test_keys"]["rsa_2048"]
    return key


def canned() -> Any:
    """A small JSON answer to every request: the bare cost of one HTTP exchange."""
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"order":{"order_id":"x","status":"resting"}}',
                              headers={"content-type": "application/json"})

    return answer


def kalshi() -> Any:
    from arbexec_kalshi.testing import FakeKalshi

    key = kalshi_key()
    venue = FakeKalshi(public_key_pem=key["public_key_pem"], key_id=key["key_id"],
                       balance_cents=10**12)
    venue.add_market(KALSHI_TICKER, yes_bids={"0.4000": "10"}, no_bids={"0.5500": "10"})
    return venue


def polymarket() -> Any:
    from arbexec_polymarket.signer import Signer
    from arbexec_polymarket.testing import FakeClob

    return FakeClob(address=Signer.from_hex(POLY_KEY).address, **POLY_API).handle
