"""Secrets sweep over the command line: a deployment with both venues (real-looking secrets:
the Polymarket wallet key and API key, secret and passphrase; a Kalshi key id and an RSA key
generated here) and the paper venue, every command that runs without the internet, against
a loopback "proxy" that answers every request 502 with a body echoing the request headers.
Logging is at DEBUG into a file; a jsonl sink is configured. stdout, stderr, the log, the
journal and the sink file are searched for every secret as is, hex, base64 and url-safe
base64, and for every auth header value the proxy saw.

``sign-request`` prints auth headers by design (that is what it is for): its output may
hold the values of the headers it was asked for (the API key and passphrase, the Kalshi
key id), never the wallet key, the API secret or the RSA key. ``build-order`` prints the
body exactly as posted, whose ``owner`` is the API key (the venue's format).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from arbexec.cli import cli

from .venues import POLY_API_KEY, POLY_API_SECRET, POLY_KEY, POLY_PASSPHRASE, encodings

AUTH = ("poly_api_key", "poly_passphrase", "poly_signature",
        "kalshi-access-key", "kalshi-access-signature", "authorization")


class EchoProxy(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        EchoProxy.seen.append(headers)
        body = json.dumps({"error": "bad gateway: " + "; ".join(f"{k}={v}" for k, v in
                                                                  headers.items()),
                           "request_headers": headers}).encode()
        self.send_response(502)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    EchoProxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _deployment(tmp: Path, url: str) -> Path:
    ws = url.replace("http://", "ws://") + "/ws"
    path = tmp / "deploy.toml"
    path.write_text(f"""
[journal]
path = "{tmp}/journal.sqlite"

[engine]
wait_budget = 0.2
unknown_grace = 0.0
background_tracking = false

[venues.polymarket]
type = "polymarket"
host = "{url}"
gamma_host = "{url}"
data_host = "{url}"
ws_url = "{ws}"
stream = false
read_retries = 0

[venues.kalshi]
type = "kalshi"
base_url = "{url}/trade-api/v2"
websocket_url = "{ws}"

[venues.paper]
type = "paper"

[[sinks]]
type = "jsonl"
path = "{tmp}/events.jsonl"

[[sinks]]
type = "stdout"
format = "table"
""")
    return path


REQUESTS = "\n".join(json.dumps(r) for r in [
    {"request_id": "p1", "venue": "polymarket", "market": "0x" + "5e" * 32, "outcome": "YES",
     "side": "BUY", "quantity": 10, "limit_price": "0.40"},
    {"request_id": "k1", "venue": "kalshi", "market": "KXHIGHNY-26NOV22-B57.5",
     "outcome": "YES", "side": "BUY", "quantity": 10, "limit_price": "0.45"},
    {"request_id": "x1", "venue": "paper", "market": "PAPER-ELECTION", "outcome": "YES",
     "side": "BUY", "quantity": 10, "limit_price": "0.55"},
]) + "\n"

ORDER = ["order", "place", "--outcome", "yes", "--side", "buy", "--quantity", "10"]
#: (command line, secrets it may print by design)
COMMANDS: list[tuple[list[str], str]] = [
    (["config", "check"], ""),
    (["config", "show-default"], ""),
    (["plugins"], ""),
    (["run", "-"], ""),
    ([*ORDER, "--venue", "polymarket", "--market", "0x" + "5e" * 32, "--price", "0.40"], ""),
    ([*ORDER, "--venue", "kalshi", "--market", "KXHIGHNY-26NOV22-B57.5", "--price", "0.45"],
     ""),
    ([*ORDER, "--venue", "paper", "--market", "PAPER-ELECTION", "--price", "0.55"], ""),
    (["orders"], ""),
    (["audit"], ""),
    (["audit", "--events"], ""),
    (["reconcile"], ""),
    (["balance"], ""),
    (["positions"], ""),
    (["polymarket", "sign-request", "--level", "l1"], ""),
    (["polymarket", "sign-request", "--level", "l2", "--method", "POST", "--path", "/order",
      "--body", "{}"], "poly-api"),
    (["polymarket", "build-order", "--token-id", "1", "--side", "buy", "--price", "0.5",
      "--size", "10", "--tick-size", "0.01"], "poly-owner"),
    (["polymarket", "doctor", "--offline"], ""),
    (["kalshi", "sign-request", "GET", "/trade-api/v2/portfolio/balance"], "kalshi-key-id"),
]


def test_no_secret_leaks_from_any_command(tmp_path: Path, proxy: str) -> None:
    pem = _rsa_pem()
    key_file = tmp_path / "kalshi.pem"
    key_file.write_text(pem)
    key_id = str(uuid.uuid4())
    env = {"POLYMARKET_PRIVATE_KEY": POLY_KEY, "POLYMARKET_API_KEY": POLY_API_KEY,
           "POLYMARKET_API_SECRET": POLY_API_SECRET,
           "POLYMARKET_API_PASSPHRASE": POLY_PASSPHRASE,
           "KALSHI_API_KEY_ID": key_id, "KALSHI_PRIVATE_KEY_PATH": str(key_file),
           "KALSHI_BASE_URL": f"{proxy}/trade-api/v2", "ARBEXEC_CONFIG": None}
    deploy = _deployment(tmp_path, proxy)
    log_path = tmp_path / "debug.log"
    handler = logging.FileHandler(log_path)
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    outputs: dict[str, str] = {}
    ran: list[str] = []
    try:
        for args, allowed in COMMANDS:
            runner = CliRunner()
            result = runner.invoke(cli, ["--config", str(deploy), *args], env=env,
                                   input=REQUESTS if args[0] == "run" else None)
            name = " ".join(args[:3])
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                name, result.output, result.exception)
            assert "Traceback" not in result.output, (name, result.output)
            outputs[f"{name} (output)"] = result.output
            outputs[f"{name} (allowed)"] = allowed
            ran.append(name)
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        handler.close()
    pem_body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    key_hex = POLY_KEY[2:] if POLY_KEY.startswith("0x") else POLY_KEY
    always = {POLY_KEY, key_hex, POLY_API_SECRET, pem_body,
              *(pem_body[i:i + 64] for i in range(0, len(pem_body), 64))}
    by_design = {"poly-api": {POLY_API_KEY, POLY_PASSPHRASE}, "poly-owner": {POLY_API_KEY},
                 "kalshi-key-id": {key_id}}
    wire = {v for headers in EchoProxy.seen for k, v in headers.items() if k in AUTH}
    assert any("kalshi-access-signature" in h for h in EchoProxy.seen)
    assert any("poly_api_key" in h for h in EchoProxy.seen)
    secrets = {s for s in always for s in encodings(s)}
    headers_and_ids = {form for s in (wire | {POLY_API_KEY, POLY_PASSPHRASE, key_id})
                       for form in encodings(s)}
    files = {p.name: p.read_bytes().decode("utf-8", "replace")
             for p in tmp_path.iterdir() if p.is_file() and p.suffix != ".pem"
             and p.name != "deploy.toml"}
    assert {"journal.sqlite", "events.jsonl", "debug.log"} <= set(files)
    leaks: set[tuple[str, str]] = set()
    for where, text in [*((k, v) for k, v in outputs.items() if k.endswith("(output)")),
                        *files.items()]:
        low = text.lower()
        allowed_forms: set[str] = set()
        if where.endswith("(output)"):
            label = outputs[where.replace("(output)", "(allowed)")]
            allowed_forms = {form for s in by_design.get(label, ()) for form in encodings(s)}
        for secret in secrets | (headers_and_ids - allowed_forms):
            if secret.lower() in low:
                leaks.add((where, secret[:10]))
    assert sorted(leaks) == [], f"secrets leaked: {sorted(leaks)}"
    assert len(ran) == len(COMMANDS)
