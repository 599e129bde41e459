"""No key id, key material, signature or credential value in any Kalshi cassette, and
none in reprs or error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from arbexec.testing.recording import find_secrets_in_text, secret_values

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "kalshi"
AUTH_HEADERS = ("kalshi-access-key", "kalshi-access-signature", "kalshi-access-timestamp")
# a base64 run as long as an Ed25519 (88 chars) or RSA-2048 (344 chars) signature
SIGNATURE_LIKE = re.compile(r"[A-Za-z0-9+/]{80,}={0,2}")


def _cassettes() -> list[Path]:
    return sorted(CASSETTES.rglob("*.yaml"))


def test_there_are_cassettes_to_scan() -> None:
    assert len(_cassettes()) >= 20


@pytest.mark.parametrize("path", _cassettes(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cassette_holds_no_secret(path: Path, vectors: dict[str, Any]) -> None:
    text = path.read_text()
    keys = vectors["test_keys"]
    secrets = [keys["rsa_2048"]["key_id"], "PRIVATE KEY", *secret_values()]
    for pem in (keys["rsa_2048"]["private_key_pem"], keys["ed25519"]["private_key_pem"]):
        secrets.extend(line for line in pem.splitlines() if len(line) > 40)
    assert find_secrets_in_text(text, secrets) == []
    assert not SIGNATURE_LIKE.search(text), "a signature-like base64 value was recorded"
    for interaction in yaml.safe_load(text)["interactions"]:
        headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
        for name in AUTH_HEADERS:
            if name in headers:
                assert headers[name] == ["REDACTED"], (path.name, name)
        assert "cookie" not in headers or headers["cookie"] == ["REDACTED"]
        assert "set-cookie" not in {k.lower() for k in interaction["response"]["headers"]}
        assert interaction["request"]["uri"].startswith("https://external-api.kalshi.com/")


def test_errors_and_reprs_hold_no_credentials(rsa_key: dict[str, Any]) -> None:
    from arbexec_kalshi.credentials import load_credentials

    creds = load_credentials(
        {"api_key_id": rsa_key["key_id"], "private_key": rsa_key["private_key_pem"]}, environ={}
    )
    assert creds is not None
    text = repr(creds) + repr(creds.signer())
    assert rsa_key["key_id"] not in text and "PRIVATE" not in text
