"""One error format: every command, core or plugin, answers a mistake or a failed network
call with one line on stderr (``error: ...``), never a click usage dump or a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from arbexec.cli import cli

from .commands import every_command

COMMANDS = every_command()
WALLET = "0x" + "11" * 32


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("POLYMARKET_", "KALSHI_", "ARBEXEC_")):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _clean_env(monkeypatch)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, prog_name="arbexec")


def assert_one_line_error(result: Result, code: int, *fragments: str) -> str:
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Usage:" not in result.output and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(("path", "command"), COMMANDS,
                         ids=[" ".join(p) for p, _ in COMMANDS])
def test_an_unknown_option_is_one_line_on_every_command(path: tuple[str, ...],
                                                        command: click.Command) -> None:
    result = invoke(*path, "--no-such-option")
    line = assert_one_line_error(result, 2, "--no-such-option")
    assert f"`arbexec {' '.join(path)} --help`" in line


def test_a_missing_option_and_a_bad_value_are_one_line() -> None:
    assert_one_line_error(invoke("order", "place", "--venue", "paper"), 2,
                          "Missing option '--market'", "`arbexec order place --help`")
    assert_one_line_error(invoke("polymarket", "build-order", "--token-id", "1", "--side",
                                 "BUY", "--price", "x", "--quantity", "1", "--tick-size",
                                 "0.01"), 2, "'x' is not a decimal number")
    assert_one_line_error(invoke("kalshi", "sign-request", "--path", "/x", "--timestamp",
                                 "1795348801111"), 2, "looks like milliseconds")


@pytest.mark.parametrize("args", [
    ("polymarket", "build-order", "--token-id", "1", "--side", "BUY", "--price", "0.5",
     "--quantity", "1", "--tick-size", "0.01"),
    ("polymarket", "sign-request", "--path", "/orders"),
    ("polymarket", "derive-api-key"),
    ("kalshi", "sign-request", "--path", "/portfolio/balance"),
    ("paper", "account", "--venue", "paper"),
    ("paper", "resolve", "--venue", "paper", "--market", "M", "--outcome", "YES"),
    ("paper", "account", "--venue", "nowhere", "--state-dir", "."),
], ids=lambda a: " ".join(a[:2]))
def test_plugin_commands_without_credentials_or_state_are_one_line(
        args: tuple[str, ...]) -> None:
    assert_one_line_error(invoke(*args), 2 if args[0] != "paper" else 1)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


def test_derive_api_key_without_network_says_what_failed_and_that_nothing_was_sent(
        closed_port: int) -> None:
    line = assert_one_line_error(
        invoke("polymarket", "derive-api-key", "--host", f"http://127.0.0.1:{closed_port}",
               env={"POLYMARKET_PRIVATE_KEY": WALLET}), 1)
    assert "connect to 127.0.0.1 failed" in line and "nothing was sent" in line
    assert "check the network" in line


def test_the_doctors_name_the_host_and_the_failed_step(closed_port: int,
                                                       tmp_path: Path) -> None:
    pem = tmp_path / "k.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    deployment = tmp_path / "deploy.toml"
    deployment.write_text(f"""
[venues.kalshi]
base_url = "http://127.0.0.1:{closed_port}/trade-api/v2"
api_key_id = "key-1"
private_key_path = "k.pem"
""")
    result = invoke("-c", str(deployment), "kalshi", "doctor")
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert "connect to 127.0.0.1 failed" in result.stdout and "nothing was sent" in (
        result.stdout)
    assert "Traceback" not in result.output
    poly = tmp_path / "poly.toml"
    poly.write_text(f"""
[venues.pm]
type = "polymarket"
host = "http://127.0.0.1:{closed_port}"
""")
    result = invoke("-c", str(poly), "polymarket", "doctor", env={
        "POLYMARKET_PRIVATE_KEY": WALLET, "POLYMARKET_API_KEY": "k",
        "POLYMARKET_API_SECRET": "c2VjcmV0", "POLYMARKET_API_PASSPHRASE": "p"})
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"checking local configuration: {poly} venue pm" in result.stdout
    assert "[error] connect to 127.0.0.1 failed" in result.stdout, result.stdout
    assert "nothing was sent" in result.stdout


def test_order_place_exits_non_zero_when_the_order_was_not_placed() -> None:
    assert invoke("halt", "--reason", "test").exit_code == 0
    denied = invoke("order", "place", "--venue", "paper", "--market", "PAPER-ELECTION",
                    "--outcome", "YES", "--side", "BUY", "--quantity", "1", "--price",
                    "0.55", "--tif", "ioc")
    assert denied.exit_code == 1 and "DENIED" in denied.stdout
    assert invoke("resume").exit_code == 0
    placed = invoke("order", "place", "--venue", "paper", "--market", "PAPER-ELECTION",
                    "--outcome", "YES", "--side", "BUY", "--quantity", "1", "--price",
                    "0.55", "--tif", "ioc")
    assert placed.exit_code == 0 and "FILLED" in placed.stdout


def test_an_unknown_order_needs_a_person() -> None:
    from arbexec.cli import _not_placed_exit
    from arbexec.exit_codes import ATTENTION, ERROR
    from arbexec.model import ExecutionResult, OrderStatus

    def result(status: OrderStatus) -> ExecutionResult:
        return ExecutionResult(request_id="r", idempotency_key="k", venue="paper",
                               market="M", status=status)

    assert _not_placed_exit(result(OrderStatus.UNKNOWN)) == ATTENTION
    assert _not_placed_exit(result(OrderStatus.REJECTED)) == ERROR
    assert _not_placed_exit(result(OrderStatus.OPEN)) == 0
