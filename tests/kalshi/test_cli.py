"""``arbexec kalshi sign-request`` and ``doctor``."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from arbexec_kalshi.cli import kalshi
from arbexec_kalshi.doctor import diagnose
from click.testing import CliRunner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from arbexec.cli import cli


@pytest.fixture
def ed_env(ed_key: dict[str, Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    pem = tmp_path / "ed.pem"
    pem.write_text(ed_key["private_key_pem"])
    monkeypatch.setenv("KALSHI_API_KEY_ID", ed_key["key_id"])
    monkeypatch.setenv("KALSHI_PRIVATE_KEY_PATH", str(pem))
    monkeypatch.delenv("KALSHI_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("KALSHI_PRIVATE_KEY_PASSPHRASE", raising=False)
    return pem


def test_sign_request_matches_the_ed25519_vectors(ed_env: Any, ed_key: dict[str, Any]) -> None:
    runner = CliRunner()
    for vector in ed_key["deterministic_vectors"]:
        result = runner.invoke(
            kalshi,
            [
                "sign-request",
                "--method",
                vector["method"],
                "--path",
                vector["url"],
                "--timestamp",
                str(Decimal(vector["timestamp_ms"]) / 1000),
            ],
        )
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0] == f"# signed message: {vector['string_to_sign']}"
        assert f"KALSHI-ACCESS-SIGNATURE: {vector['signature_b64']}" in lines
        assert f"KALSHI-ACCESS-TIMESTAMP: {vector['timestamp_ms']}" in lines


def test_sign_request_prefixes_api_paths_and_drops_the_query(
    ed_env: Any, ed_key: dict[str, Any]
) -> None:
    result = CliRunner().invoke(
        kalshi,
        [
            "sign-request",
            "--method",
            "get",
            "--path",
            "/portfolio/orders?limit=5",
            "--timestamp",
            "1795348801.111",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    headers = json.loads(result.stdout)
    assert headers["KALSHI-ACCESS-TIMESTAMP"] == "1795348801111"
    public = serialization.load_pem_private_key(
        ed_key["private_key_pem"].encode(), password=None
    ).public_key()
    signature = base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"])
    # the signed message is exactly: timestamp, upper-case method, prefixed path, no query
    public.verify(signature, b"1795348801111GET/trade-api/v2/portfolio/orders")  # type: ignore[union-attr,call-arg]
    for wrong in (
        b"1795348801111GET/portfolio/orders",
        b"1795348801111GET/trade-api/v2/portfolio/orders?limit=5",
        b"1795348801111get/trade-api/v2/portfolio/orders",
    ):
        with pytest.raises(InvalidSignature):
            public.verify(signature, wrong)  # type: ignore[union-attr,call-arg]


def test_sign_request_with_rsa_key_verifies(
    rsa_key: dict[str, Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KALSHI_PRIVATE_KEY_PATH", raising=False)
    monkeypatch.setenv("KALSHI_PRIVATE_KEY", rsa_key["private_key_pem"])
    result = CliRunner().invoke(
        kalshi,
        [
            "sign-request",
            "POST",
            "/trade-api/v2/portfolio/events/orders",
            "--timestamp",
            "0.007",
            "--key-id",
            rsa_key["key_id"],
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    headers = json.loads(result.stdout)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    public = serialization.load_pem_public_key(rsa_key["public_key_pem"].encode())
    public.verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"]),
        b"7POST/trade-api/v2/portfolio/events/orders",
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),  # type: ignore[arg-type]
        hashes.SHA256(),  # type: ignore[arg-type]
    )


def test_user_mistakes_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY", "KALSHI_PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()  # through `arbexec`, as a person runs it: the root prints errors
    result = runner.invoke(cli, ["kalshi", "sign-request", "--path", "/portfolio/balance"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: no Kalshi key")
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    result = runner.invoke(cli, ["kalshi", "sign-request", "--path", "/x", "--timestamp",
                                    "1795348801111"])
    assert result.exit_code == 2 and "looks like milliseconds" in result.output
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    result = runner.invoke(
        cli,
        ["kalshi", "sign-request", "--path", "/x", "--key-id", "k", "--private-key-path", str(bad)],
    )
    assert result.exit_code == 2 and "could not be read" in result.output
    result = runner.invoke(
        cli,
        ["kalshi", "sign-request", "--path", "/x", "--key-id", "k", "--private-key-path",
         str(tmp_path / "n")],
    )
    assert result.exit_code == 2 and "no such file" in result.output


def test_group_is_registered_by_the_plugin_hook() -> None:
    import click
    from arbexec_kalshi import plugin

    group = click.Group()
    plugin.arbexec_register_commands(group)
    command = group.commands["kalshi"]
    real = command.load() if hasattr(command, "load") else command
    assert set(real.commands) == {"sign-request", "doctor"}  # type: ignore[attr-defined]
    (spec,) = plugin.arbexec_exchanges()
    assert spec.name == "kalshi"


def _env(rsa_key: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "KALSHI_API_KEY_ID": rsa_key["key_id"],
        "KALSHI_PRIVATE_KEY": rsa_key["private_key_pem"],
        **extra,
    }


async def test_doctor_all_good(fake: Any, rsa_key: dict[str, Any]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        response = fake(request)
        response.headers["Date"] = "Sun, 22 Nov 2026 00:00:00 GMT"
        return response

    findings = await diagnose(
        environ=_env(rsa_key), transport=httpx.MockTransport(handler), clock=lambda: 1795305601.0
    )
    assert [(f.check, f.ok) for f in findings] == [
        ("private key", True),
        ("clock skew", True),
        ("key id", True),
        ("environment", True),
        ("balance", True),
    ]
    assert "$1000.0000 available" in findings[-1].detail


async def test_doctor_finds_skew_wrong_environment_and_wrong_key(
    fake: Any, rsa_key: dict[str, Any], ed_key: dict[str, Any]
) -> None:
    def demo_only(request: httpx.Request) -> httpx.Response:
        if request.url.host == "external-api.kalshi.com" and "portfolio" in request.url.path:
            return httpx.Response(
                401, json={"error": {"code": "authentication_error", "details": "NOT_FOUND"}}
            )
        response = fake(request)
        response.headers["Date"] = "Sun, 22 Nov 2026 00:00:00 GMT"
        return response

    findings = await diagnose(
        environ=_env(rsa_key), transport=httpx.MockTransport(demo_only), clock=lambda: 1795305700.0
    )
    by_check = {f.check: f for f in findings}
    assert not by_check["clock skew"].ok and "NTP" in (by_check["clock skew"].fix or "")
    assert not by_check["environment"].ok
    assert "KALSHI_ENV=demo" in (by_check["environment"].fix or "")

    wrong_key = {**_env(rsa_key), "KALSHI_PRIVATE_KEY": ed_key["private_key_pem"]}
    findings = await diagnose(environ=wrong_key, transport=httpx.MockTransport(fake))
    assert not findings[-1].ok and "does not match" in (findings[-1].fix or "")
    assert (await diagnose(environ={}))[0].check == "credentials"


def test_the_old_positional_form_still_signs_and_names_the_options(ed_env: Any) -> None:
    old = CliRunner().invoke(kalshi, ["sign-request", "GET", "/portfolio/balance",
                                      "--timestamp", "1795348801", "--json"])
    new = CliRunner().invoke(kalshi, ["sign-request", "--method", "GET", "--path",
                                      "/portfolio/balance", "--timestamp", "1795348801",
                                      "--json"])
    assert old.exit_code == 0 and new.exit_code == 0, old.output
    assert "use --method GET --path /portfolio/balance" in old.stderr
    assert json.loads(old.stdout)["KALSHI-ACCESS-TIMESTAMP"] == "1795348801000"
    assert json.loads(old.stdout)["KALSHI-ACCESS-TIMESTAMP"] == json.loads(
        new.stdout)["KALSHI-ACCESS-TIMESTAMP"]
