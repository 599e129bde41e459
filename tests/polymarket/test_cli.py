"""`arbexec polymarket ...` commands against the golden vectors (click's CliRunner)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from arbexec_polymarket import cli as pm_cli
from arbexec_polymarket.cli import polymarket_group
from click.testing import CliRunner

VECTORS = json.loads((Path(__file__).parent / "data" / "vectors.json").read_text())
BY_ID = {v["id"]: v for v in VECTORS["vectors"]}
KEY = VECTORS["test_key"]["private_key"]
LIMIT_IDS = [
    "v2_buy_t001_eoa",
    "v2_buy_t01_proxy",
    "v2_sell_t00001_negrisk_safe",
    "v2_buy_t001_poly1271",
    "v2_buy_gtd_postonly_builder",
    "v2_buy_amoy",
    "v3_buy_position_id",
    "v2_market_buy_fak_t001",
    "v2_sell_t0001_negrisk_eoa",
]


def _env(inputs: dict[str, Any], with_api: bool = True) -> dict[str, str]:
    env = {"POLYMARKET_PRIVATE_KEY": KEY, "POLYMARKET_KEYSTORE": ""}
    if with_api:
        env.update(
            POLYMARKET_API_KEY=inputs["api_key"],
            POLYMARKET_API_SECRET=inputs["api_secret"],
            POLYMARKET_API_PASSPHRASE=inputs["api_passphrase"],
        )
    return env


def _build_args(inputs: dict[str, Any], size: str | None = None) -> list[str]:
    args = [
        "build-order",
        "--token-id", inputs.get("position_id") or inputs["token_id"],
        "--side", inputs["side"],
        "--price", str(inputs["price"]),
        "--tick-size", inputs["tick_size"],
        "--signature-type", str(inputs["signature_type"]),
        "--chain-id", str(inputs["chain_id"]),
        "--salt", str(inputs["salt"]),
        "--timestamp", str(inputs["timestamp"]),
        "--tif", {"FAK": "ioc"}.get(inputs.get("order_type", "GTC"),
                                    inputs.get("order_type", "GTC").lower()),
    ]  # fmt: skip
    if inputs.get("order_kind") == "market":
        args += ["--amount", str(inputs["amount"])]  # collateral: only the old spelling
    else:
        args += ["--quantity", size or str(inputs["size"])]
    if inputs.get("funder"):
        args += ["--funder", inputs["funder"]]
    if inputs["neg_risk"] and "position_id" not in inputs:
        args.append("--neg-risk")
    if "position_id" in inputs:
        args.append("--v3")
    if inputs.get("expiration"):
        args += ["--expiration", str(inputs["expiration"])]
    if inputs.get("post_only"):
        args.append("--post-only")
    if inputs.get("builder_code"):
        args += ["--builder-code", inputs["builder_code"]]
    return args


@pytest.mark.parametrize("vector_id", LIMIT_IDS)
def test_build_order_prints_the_exact_post_body_and_hash(vector_id: str) -> None:
    inputs, expected = BY_ID[vector_id]["inputs"], BY_ID[vector_id]["expected"]
    size = "33.33" if vector_id == "v2_sell_t0001_negrisk_eoa" else None  # see the vector tests
    result = CliRunner().invoke(polymarket_group, _build_args(inputs, size), env=_env(inputs))
    assert result.exit_code == 0, result.output
    body, hash_line = result.stdout.splitlines()
    assert body == expected["post_body"]
    assert hash_line == f"order_hash: {expected['order_hash']}"


def test_build_order_without_api_key_prints_the_order_object() -> None:
    inputs, expected = BY_ID["v2_buy_t001_eoa"]["inputs"], BY_ID["v2_buy_t001_eoa"]["expected"]
    result = CliRunner().invoke(
        polymarket_group, _build_args(inputs), env={**_env(inputs, False), "POLYMARKET_API_KEY": ""}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0]) == expected["order"]


def test_build_order_float_artifact_gives_the_exact_decimal_order() -> None:
    vector = BY_ID["v2_buy_t01_float_artifact"]
    result = CliRunner().invoke(
        polymarket_group, _build_args(vector["inputs"]), env=_env(vector["inputs"])
    )
    assert result.stdout.splitlines()[0] == vector["expected"]["decimal_variant"]["post_body"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--price", "0.575"], "not a multiple of the tick size"),
        (["--quantity", "10.137"], "more than 2 decimals"),
        (["--price", "abc"], "not a decimal number"),
        (["--tick-size", "0.02"], "not one Polymarket uses"),
        (["--signature-type", "7"], "signature type"),
        (["--signature-type", "2"], "needs the funder address"),
    ],
)
def test_user_mistakes_are_one_line(change: list[str], message: str) -> None:
    inputs = BY_ID["v2_buy_t001_eoa"]["inputs"]
    args = _build_args(inputs)
    flag = change[0]
    args[args.index(flag) + 1] = change[1]
    result = CliRunner().invoke(polymarket_group, args, env=_env(inputs))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(("extra", "message"), [
    (["--expiration", "1900000000"], "--expiration applies only to gtd orders"),
    (["--tif", "fok", "--post-only"], "--post-only cannot be used with fok/ioc"),
])
def test_the_official_clients_input_rules_are_refused(extra: list[str], message: str) -> None:
    inputs = BY_ID["v2_buy_t001_eoa"]["inputs"]
    args = _build_args(inputs) + extra
    if "fok" in extra:
        tif = args.index("--tif")
        del args[tif:tif + 2]
        args[args.index("--quantity") + 1] = "100"  # a cost in whole cents
    result = CliRunner().invoke(polymarket_group, args, env=_env(inputs))
    assert result.exit_code == 2 and message in result.output
    assert "order_hash" not in result.output


def test_missing_key_is_one_line() -> None:
    inputs = BY_ID["v2_buy_t001_eoa"]["inputs"]
    env = {**_env(inputs), "POLYMARKET_PRIVATE_KEY": ""}
    result = CliRunner().invoke(polymarket_group, _build_args(inputs), env=env)
    assert result.exit_code == 2 and "POLYMARKET_PRIVATE_KEY" in result.output


@pytest.mark.parametrize(
    "vector_id", ["l2_get_open_orders", "l2_delete_order", "l2_cancel_all", "l2_heartbeat"]
)
def test_sign_request_l2(vector_id: str) -> None:
    inputs, expected = BY_ID[vector_id]["inputs"], BY_ID[vector_id]["expected"]
    args = ["sign-request", "--method", inputs["method"], "--path", inputs["path"]]
    args += ["--timestamp", str(inputs["timestamp"]), "--json"]
    if "body" in inputs:
        args += ["--body", json.dumps(inputs["body"], separators=(",", ":"))]
    result = CliRunner().invoke(polymarket_group, args, env=_env(inputs))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == expected["l2_headers"]


def test_sign_request_l1() -> None:
    vector = BY_ID["l1_amoy_nonce7"]
    inputs = vector["inputs"]
    args = ["sign-request", "--level", "l1", "--nonce", "7", "--chain-id", "80002"]
    args += ["--timestamp", str(inputs["timestamp"]), "--json"]
    result = CliRunner().invoke(polymarket_group, args, env=_env(inputs, False))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == vector["expected"]["l1_headers"]


def test_derive_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = BY_ID["v2_buy_t001_eoa"]["inputs"]
    seen: list[str] = []

    def venue(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        assert request.headers["POLY_ADDRESS"] == VECTORS["test_key"]["address"]
        assert request.headers["POLY_SIGNATURE"].startswith("0x")
        if request.method == "POST":
            return httpx.Response(400, json={"error": "API key already exists"})
        return httpx.Response(200, json={"apiKey": "k-1", "secret": "c2VjcmV0", "passphrase": "pp"})

    monkeypatch.setattr(
        pm_cli, "client_factory", lambda: httpx.AsyncClient(transport=httpx.MockTransport(venue))
    )
    result = CliRunner().invoke(polymarket_group, ["derive-api-key", "--create"], env=_env(inputs))
    assert result.exit_code == 0, result.output
    assert seen == ["POST /auth/api-key", "GET /auth/derive-api-key"]
    assert result.output.splitlines() == [
        "POLYMARKET_API_KEY=k-1",
        "POLYMARKET_API_SECRET=c2VjcmV0",
        "POLYMARKET_API_PASSPHRASE=pp",
    ]


def test_doctor_offline_reports_fixes() -> None:
    inputs = BY_ID["v2_buy_t001_eoa"]["inputs"]
    result = CliRunner().invoke(polymarket_group, ["doctor", "--offline"], env=_env(inputs))
    assert result.exit_code == 0, result.output
    assert "[ok] wallet key loaded" in result.output
    env = {
        **_env(inputs, False),
        "POLYMARKET_API_KEY": "",
        "POLYMARKET_SIGNATURE_TYPE": "1",
        "POLYMARKET_PROXY_URL": "ftp://nope",
    }
    result = CliRunner().invoke(polymarket_group, ["doctor", "--offline"], env=env)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("[error]")]
    assert len(errors) == 3
    assert any("derive-api-key" in line for line in errors)
    assert any("POLYMARKET_FUNDER" in line for line in errors)
    assert any("socks5://" in line for line in errors)


def test_doctor_online_checks_clock_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    inputs = BY_ID["v2_buy_t001_eoa"]["inputs"]

    def venue(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/time":
            return httpx.Response(200, json=int(time.time()) - 300)
        return httpx.Response(200, json={"balance": "1000000", "allowances": {}})

    monkeypatch.setattr(
        pm_cli, "client_factory", lambda: httpx.AsyncClient(transport=httpx.MockTransport(venue))
    )
    result = CliRunner().invoke(polymarket_group, ["doctor"], env=_env(inputs))
    assert result.exit_code == 1
    assert "s off the venue's" in result.output and "NTP" in result.output
    assert "API key accepted" in result.output


def test_group_is_registered_on_the_core_cli() -> None:
    import click
    from arbexec_polymarket.plugin import arbexec_register_commands

    group = click.Group("arbexec")
    arbexec_register_commands(group)
    command = group.commands["polymarket"]
    assert (command.load() if hasattr(command, "load") else command) is polymarket_group


def test_old_spellings_still_build_the_same_order_and_name_the_new_ones() -> None:
    inputs, expected = BY_ID["v2_buy_t001_eoa"]["inputs"], BY_ID["v2_buy_t001_eoa"]["expected"]
    args = _build_args(inputs)
    args[args.index("--quantity")] = "--size"
    tif = args.index("--tif")
    args[tif:tif + 2] = ["--order-type", "GTC"]
    result = CliRunner().invoke(polymarket_group, args, env=_env(inputs))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == expected["post_body"]
    assert "warning: --size is deprecated; use --quantity" in result.stderr
    assert "warning: --order-type is deprecated; use --tif" in result.stderr


def test_a_fok_buy_by_quantity_spends_quantity_times_price() -> None:
    """--quantity is shares on every order type, as in the engine; the old --amount (the
    collateral of a market buy) gives the same order for the same cost."""
    vector = BY_ID["v2_market_buy_fak_t001"]
    inputs = vector["inputs"]
    quantity = Decimal(36)
    cost = quantity * Decimal(str(inputs["price"]))  # 19.80: whole cents
    args = _build_args(inputs)
    amount = args.index("--amount")
    args[amount + 1] = f"{cost:f}"
    by_amount = CliRunner().invoke(polymarket_group, args, env=_env(inputs))
    args[amount:amount + 2] = ["--quantity", f"{quantity:f}"]
    by_quantity = CliRunner().invoke(polymarket_group, args, env=_env(inputs))
    assert by_amount.exit_code == 0, by_amount.output
    assert by_quantity.exit_code == 0, by_quantity.output
    assert by_quantity.stdout == by_amount.stdout
    assert "--amount is deprecated" in by_amount.stderr


def test_sign_request_prints_header_lines_like_kalshi() -> None:
    vector = BY_ID["l2_get_open_orders"]
    inputs = vector["inputs"]
    args = ["sign-request", "--method", inputs["method"], "--path", inputs["path"],
            "--timestamp", str(inputs["timestamp"])]
    result = CliRunner().invoke(polymarket_group, args, env=_env(inputs))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{k}: {v}" for k, v in vector["expected"]["l2_headers"].items()]
