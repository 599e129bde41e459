"""Crash drills against the Kalshi and Polymarket stand-ins served on loopback, slow
(answers wait up to 30 ms) and unreliable (a share of order POSTs is acted on and the
answer dropped): the engine is SIGKILLed mid-run, restarted, killed again; the stand-in
keeps its state across the kills, as a venue does.
After every restart (a reconcile, past the grace):

* ``PRAGMA integrity_check`` is ``ok``;
* no key has two venue orders (the venue's client_order_id / order hash is the journal
  identity);
* every venue order is a journal order, and no acknowledged journal order is missing;
* nothing is PENDING or UNKNOWN;
* journal and venue agree per order (filled quantity) and in total (the position).

Bounded by default (2 rounds of 24 requests per venue); ``ARBEXEC_CRASH_ROUNDS`` and
``ARBEXEC_CRASH_REQUESTS`` scale it for a nightly run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROUNDS = int(os.environ.get("ARBEXEC_CRASH_ROUNDS", "2"))
REQUESTS = int(os.environ.get("ARBEXEC_CRASH_REQUESTS", "24"))
ACKNOWLEDGED = {"OPEN", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "EXPIRED"}


@pytest.fixture(params=["kalshi", "polymarket"])
def venue(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def standin(tmp_path: Path, venue: str) -> Iterator[str]:
    port_file = tmp_path / "port"
    server = subprocess.Popen([sys.executable, str(HERE / "standin_server.py"), venue,
                               str(port_file), "5", "0.25", "30"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not port_file.exists() or not port_file.read_text():
        assert server.poll() is None and time.monotonic() < deadline, "stand-in did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port_file.read_text()}"
    server.kill()
    server.wait()


def _driver(venue: str, tmp: Path, url: str, *args: str) -> int:
    done = subprocess.run([sys.executable, str(HERE / "venue_driver.py"), venue, str(tmp), url,
                           *args], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr[-2000:]
    return done.returncode


def _journal(tmp: Path) -> dict[str, tuple[str, str | None, Decimal]]:
    db = sqlite3.connect(f"file:{tmp / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {k: (s, i, Decimal(q or 0)) for k, s, i, q in db.execute(
            "SELECT idempotency_key, status, identity, filled_quantity FROM orders")}
    finally:
        db.close()


def _venue(url: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{url}/__state", timeout=10) as answer:
        return list(json.loads(answer.read()))


def _check(tmp: Path, url: str) -> Counter[str]:
    rows = _journal(tmp)
    orders = _venue(url)
    per_identity = Counter(o["identity"] for o in orders)
    assert not [i for i, n in per_identity.items() if n > 1], "a key with two venue orders"
    identities = {i for _s, i, _q in rows.values() if i}
    assert set(per_identity) <= identities, "a venue order the journal does not know"
    held = {o["identity"]: Decimal(o["filled"]) for o in orders}
    for key, (status, identity, filled) in rows.items():
        assert status not in ("PENDING", "UNKNOWN"), (key, status)
        if status in ACKNOWLEDGED:
            assert identity in held, f"{key} {status} vanished at the venue"
        if identity in held:
            assert filled == held[identity], (key, status, filled, held[identity])
        else:
            assert filled == 0, (key, status)
    assert sum(q for _s, _i, q in rows.values()) == sum(held.values())  # the position
    return Counter(s for s, _i, _q in rows.values())


def test_standin_crash_drill(tmp_path: Path, venue: str, standin: str) -> None:
    rng = random.Random(17)
    kills = 0
    for _round in range(ROUNDS):
        code = _driver(venue, tmp_path, standin, "run", str(REQUESTS),
                       f"{rng.uniform(0.2, 0.8):.2f}")
        kills += code == -signal.SIGKILL
        _driver(venue, tmp_path, standin, "reconcile")
        _check(tmp_path, standin)
    assert _driver(venue, tmp_path, standin, "run", str(REQUESTS)) == 0
    _driver(venue, tmp_path, standin, "reconcile")
    statuses = _check(tmp_path, standin)
    assert sum(statuses.values()) == REQUESTS and kills >= 1
    print(f"{venue} stand-in: {kills} SIGKILLs in {ROUNDS} rounds, {REQUESTS} requests, "
          f"final {dict(statuses)}")

