"""The venue tools read the deployment (``-c``) and the ``.env`` beside it, as the engine
does; relative paths in a venue table are relative to the deployment file's folder."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from arbexec.cli import cli
from arbexec.config import load_deployment

WALLET = "0x" + "22" * 32
FUNDER = "0x" + "ab" * 20


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run from a folder that is not the deployment's, with no venue variables set; the
    variables a ``.env`` adds are gone after the test."""
    for name in list(os.environ):
        if name.startswith(("POLYMARKET_", "KALSHI_", "ARBEXEC_")):
            monkeypatch.delenv(name)
    saved = dict(os.environ)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield cwd
    os.environ.clear()
    os.environ.update(saved)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="arbexec")


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    folder = tmp_path / "desk"
    (folder / "keys").mkdir(parents=True)
    return folder


def _ed25519_pem(path: Path) -> ed25519.Ed25519PrivateKey:
    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return key


def _kalshi_desk(desk: Path) -> tuple[Path, ed25519.Ed25519PrivateKey]:
    key = _ed25519_pem(desk / "keys" / "kalshi.pem")
    (desk / ".env").write_text("KALSHI_KEY=key-from-dotenv\n")
    deployment = desk / "deploy.toml"
    deployment.write_text("""
[venues.kalshi]
api_key_id = "${KALSHI_KEY}"
private_key_path = "keys/kalshi.pem"
""")
    return deployment, key


def test_a_relative_venue_path_is_relative_to_the_deployment_folder(desk: Path) -> None:
    deployment, _ = _kalshi_desk(desk)
    entry = load_deployment(deployment).venues[0]
    assert entry.options["private_key_path"] == str(desk / "keys" / "kalshi.pem")


def test_kalshi_sign_request_signs_with_the_deployments_key_and_dotenv(desk: Path) -> None:
    deployment, key = _kalshi_desk(desk)
    result = invoke("-c", str(deployment), "kalshi", "sign-request", "--path",
                    "/portfolio/balance", "--timestamp", "1795348801", "--json")
    assert result.exit_code == 0, result.output
    headers = json.loads(result.stdout)
    assert headers["KALSHI-ACCESS-KEY"] == "key-from-dotenv"
    key.public_key().verify(base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"]),
                            b"1795348801000GET/trade-api/v2/portfolio/balance")


def test_kalshi_doctor_offline_checks_the_deployments_key(desk: Path) -> None:
    deployment, _ = _kalshi_desk(desk)
    result = invoke("-c", str(deployment), "kalshi", "doctor", "--offline")
    assert result.exit_code == 0, result.output
    assert "[ok  ] private key: ed25519 key loaded" in result.stdout
    assert str(desk / "keys" / "kalshi.pem") in result.stdout


def _polymarket_desk(desk: Path, host: str = "https://clob.polymarket.com") -> Path:
    (desk / ".env").write_text(f"POLYMARKET_PRIVATE_KEY={WALLET}\n"
                               "POLYMARKET_API_KEY=k-1\nPOLYMARKET_API_SECRET=c2VjcmV0\n"
                               "POLYMARKET_API_PASSPHRASE=pp\n")
    deployment = desk / "deploy.toml"
    deployment.write_text(f"""
[venues.pm]
type = "polymarket"
signature_type = "POLY_GNOSIS_SAFE"
funder = "{FUNDER}"
host = "{host}"
""")
    return deployment


def test_polymarket_build_order_signs_with_the_deployments_signature_type_and_funder(
        desk: Path) -> None:
    deployment = _polymarket_desk(desk)
    result = invoke("-c", str(deployment), "polymarket", "build-order", "--token-id", "1",
                    "--side", "BUY", "--price", "0.5", "--quantity", "10", "--tick-size",
                    "0.01", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)["body"]
    assert body["order"]["signatureType"] == 2
    assert body["order"]["maker"].lower() == FUNDER
    assert body["owner"] == "k-1"  # the API key from the .env beside the deployment
    for name in [n for n in os.environ if n.startswith("POLYMARKET_")]:
        del os.environ[name]  # what the deployment's .env set in this process
    without = invoke("polymarket", "build-order", "--token-id", "1", "--side", "BUY",
                     "--price", "0.5", "--quantity", "10", "--tick-size", "0.01")
    assert without.exit_code == 2 and "no wallet key" in without.stderr


def test_polymarket_doctor_and_sign_request_read_the_deployment(desk: Path) -> None:
    deployment = _polymarket_desk(desk)
    doctor = invoke("-c", str(deployment), "polymarket", "doctor", "--offline")
    assert doctor.exit_code == 0, doctor.output
    assert f"signature type POLY_GNOSIS_SAFE; maker {FUNDER}" in doctor.stdout.lower(
        ).replace("poly_gnosis_safe", "POLY_GNOSIS_SAFE")
    signed = invoke("-c", str(deployment), "polymarket", "sign-request", "--path", "/orders",
                    "--timestamp", "1760000000", "--json")
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.stdout)["POLY_API_KEY"] == "k-1"


def test_derive_api_key_asks_the_deployments_host(desk: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    deployment = _polymarket_desk(desk, host=f"http://127.0.0.1:{port}")
    result = invoke("-c", str(deployment), "polymarket", "derive-api-key")
    assert result.exit_code == 1
    assert "connect to 127.0.0.1 failed" in result.stderr


def test_a_deployment_with_two_venues_of_a_type_asks_which(desk: Path) -> None:
    _ed25519_pem(desk / "keys" / "kalshi.pem")
    deployment = desk / "two.toml"
    deployment.write_text("""
[venues.kalshi-a]
type = "kalshi"
api_key_id = "a"
private_key_path = "keys/kalshi.pem"

[venues.kalshi-b]
type = "kalshi"
api_key_id = "b"
private_key_path = "keys/kalshi.pem"
""")
    ask = invoke("-c", str(deployment), "kalshi", "sign-request", "--path", "/x")
    assert ask.exit_code == 2 and "pick one with --venue" in ask.stderr
    picked = invoke("-c", str(deployment), "kalshi", "sign-request", "--path", "/x",
                    "--venue", "kalshi-b", "--json")
    assert picked.exit_code == 0, picked.output
    assert json.loads(picked.stdout)["KALSHI-ACCESS-KEY"] == "b"
    wrong = invoke("-c", str(deployment), "kalshi", "sign-request", "--path", "/x",
                   "--venue", "nowhere")
    assert wrong.exit_code == 2 and "no venue named 'nowhere'" in wrong.stderr
