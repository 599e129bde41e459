"""Secrets sweep: a session with real-looking secrets for both venues, through every fault of
the fault table and through error bodies that echo the request headers (on the order POST
and on the lookup), with logging at DEBUG, a jsonl sink and the journal on disk. Then every
output is searched for every secret in the forms it could leak in (as is, hex, base64 and
url-safe base64): stdout and stderr, the log, the journal file, the sink file.

The secrets are the throwaway test credentials of the plugin tests plus what is derived
from them on the wire: every request's signature and auth header values, read from the
requests the fault transport saw.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import httpx
import pytest

from arbexec.engine import Engine, EngineSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.sinks.builtin import JsonlSink
from arbexec.sinks.hub import SinkHub
from arbexec.testing import faults as f

from .faultcases import CASES
from .venues import (
    KALSHI_RSA,
    POLY_API_KEY,
    POLY_API_SECRET,
    POLY_KEY,
    POLY_PASSPHRASE,
    Wired,
    encodings,
    kalshi,
    polymarket,
)

AUTH_HEADERS = ("poly_api_key", "poly_passphrase", "poly_signature", "kalshi-access-key",
                "kalshi-access-signature", "authorization")
SETTINGS = EngineSettings(wait_budget=0.1, poll_interval=0.01, poll_max_interval=0.02,
                          unknown_grace=0.0, background_tracking=False)


def echo_headers(status: int) -> f.Fault:
    """A proxy error page that quotes the request it got, headers included."""
    def reply(request: httpx.Request) -> httpx.Response:
        lines = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        body = json.dumps({"error": f"bad gateway; request was:\n{lines}",
                           "headers": dict(request.headers)})
        return httpx.Response(status, content=body.encode(),
                              headers={"content-type": "application/json"}, request=request)

    return f.answer(None, None, reply, times=None)


def _static_secrets() -> set[str]:
    pem_body = "".join(line for line in KALSHI_RSA["private_key_pem"].splitlines()
                       if line and not line.startswith("-----"))
    key_hex = POLY_KEY[2:] if POLY_KEY.startswith("0x") else POLY_KEY
    values = {POLY_KEY, key_hex, POLY_API_KEY, POLY_API_SECRET, POLY_PASSPHRASE,
              KALSHI_RSA["key_id"], pem_body, *(pem_body[i:i + 64]
                                                for i in range(0, len(pem_body), 64))}
    forms: set[str] = set()
    for value in values:
        forms |= encodings(value)
    return forms


def _wire_secrets(wired: Wired) -> set[str]:
    assert wired.transport is not None
    forms: set[str] = set()
    for request in wired.transport.requests:
        for name in AUTH_HEADERS:
            value = request.headers.get(name)
            if value:
                forms |= encodings(value)
    return forms


#: The faults whose text reaches a reason; ``ARBEXEC_RELIABILITY_LONG=1`` runs all of them.
BOUNDED = {"refused", "timeout-after", "5xx", "429", "html", "other-order"}


def _sessions() -> list[tuple[str, str, list[f.Fault] | None, bool]]:
    """(venue, label, faults on the order POST or None for ``echo everywhere``, slow)."""
    everything = os.environ.get("ARBEXEC_RELIABILITY_LONG") == "1"
    out: list[tuple[str, str, list[f.Fault] | None, bool]] = []
    for venue in ("polymarket", "kalshi"):
        for case in CASES:
            if everything or case.id in BOUNDED:
                out.append((venue, case.id, None if case.make is None else [], case.slow))
        out.append((venue, "echo-400", None, False))
        out.append((venue, "echo-502", None, False))
        out.append((venue, "echo-lookup", None, False))
    return out


async def _session(venue: str, label: str, tmp: Path) -> tuple[Wired, list[Path]]:
    build = polymarket if venue == "polymarket" else kalshi
    method, path = build("probe", []).order_post
    faults: list[f.Fault]
    case = next((c for c in CASES if c.id == label), None)
    if case is not None:
        faults = case.make(method, path) if case.make is not None else []
    elif label == "echo-lookup":
        faults = [f.read_timeout(method, path),
                  f.Fault(name="echo", method="GET", action=echo_headers(502).action,
                          times=None)]
    else:
        fault = echo_headers(int(label.split("-")[1]))
        fault.method, fault.path = method, path
        faults = [fault]
    wired = build(f"secret-{label}", faults, slow=bool(case and case.slow))
    journal_path = tmp / "journal.sqlite"
    sink_path = tmp / "events.jsonl"
    journal = Journal.open(journal_path)
    engine = Engine(journal=journal, venues={venue: wired.exchange},
                    halt=JournalHaltFlag(journal), hub=SinkHub([JsonlSink("s", sink_path)]),
                    settings=SETTINGS)
    try:
        await engine.start()
        await engine.submit(wired.request)
        await engine.reconcile()
        for row in journal.query():
            print(row.to_result())
    finally:
        await engine.aclose()
        journal.close()
    return wired, [p for p in tmp.iterdir() if p.is_file()]


@pytest.mark.parametrize(("venue", "label"),
                         [(v, lab) for v, lab, _f, _s in _sessions()],
                         ids=[f"{v}-{lab}" for v, lab, _f, _s in _sessions()])
async def test_no_secret_reaches_any_output(venue: str, label: str, tmp_path: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    log_path = tmp_path / "debug.log"
    handler = logging.FileHandler(log_path)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        wired, files = await _session(venue, label, tmp_path)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    out, err = capfd.readouterr()
    secrets = _static_secrets() | _wire_secrets(wired)
    outputs = {"stdout": out, "stderr": err}
    for path in files:
        outputs[path.name] = path.read_bytes().decode("utf-8", "replace")
    assert "journal.sqlite" in outputs and "debug.log" in outputs
    leaks = sorted({(where, secret[:12]) for where, text in outputs.items()
                    for secret in secrets if secret.lower() in text.lower()})
    assert leaks == [], f"secrets leaked: {leaks}"
