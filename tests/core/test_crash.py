"""SIGKILL the engine with requests in flight; the journal stays consistent and a restart
finishes the job without sending anything twice."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

FINAL = {"FILLED", "CANCELLED", "EXPIRED", "REJECTED", "DENIED"}
IN_FLIGHT = {"PENDING", "UNKNOWN", "OPEN", "PARTIALLY_FILLED"}
MARKETS = ["PAPER-ELECTION", "PAPER-FED-CUT", "PAPER-BTC-100K", "PAPER-RAIN-NYC"]


def setup(tmp_path: Path, seed: int, count: int) -> None:
    (tmp_path / "deploy.toml").write_text(f"""
[journal]
path = "journal.sqlite3"
[engine]
wait_budget = 0.2
max_in_flight = 16
unknown_grace = 0  # reconcile after the kill runs past the grace (it counts from the send)
[venues.paper]
type = "paper"
seed = {seed}
latency_ms = [2, 25]
flush_interval = 0
cash = "1000000"
[[sinks]]
type = "jsonl"
path = "events.jsonl"
""")
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        lines.append(json.dumps({
            "request_id": f"c{i}", "venue": "paper", "market": rng.choice(MARKETS),
            "outcome": rng.choice(["YES", "NO"]), "side": "BUY",
            "quantity": str(rng.randint(1, 4)), "limit_price": "0.95",
            "time_in_force": rng.choice(["IOC", "IOC", "GTC"]),
        }))
    (tmp_path / "requests.jsonl").write_text("\n".join(lines) + "\n")


def arbexec(tmp_path: Path, *args: str, wait: bool = True) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "arbexec", "-c", "deploy.toml", *args],
                               cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    if wait:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    return process


def journal_rows(tmp_path: Path) -> dict[str, tuple[str, str | None]]:
    path = tmp_path / "journal.sqlite3"
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {k: (s, i) for k, s, i in db.execute(
            "SELECT idempotency_key, status, identity FROM orders")}
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def venue_orders(tmp_path: Path) -> set[str]:
    [store] = (tmp_path / "venues" / "paper").glob("*.sqlite3")
    db = sqlite3.connect(store)
    try:
        return {row[0] for row in db.execute("SELECT id FROM orders")}
    finally:
        db.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_sigkill_in_flight_then_restart_loses_and_doubles_nothing(tmp_path: Path,
                                                                  seed: int) -> None:
    count = 120
    setup(tmp_path, seed, count)
    engine = arbexec(tmp_path, "run", "requests.jsonl", wait=False)
    target = random.Random(seed).randint(15, 60)
    deadline = time.monotonic() + 60
    while len(journal_rows(tmp_path)) < target and time.monotonic() < deadline:
        time.sleep(0.005)
    engine.send_signal(signal.SIGKILL)
    engine.wait()

    after_kill = journal_rows(tmp_path)
    assert after_kill, "the engine was killed before it journaled anything"
    statuses = collections.Counter(s for s, _ in after_kill.values())
    assert statuses["PENDING"] + statuses["UNKNOWN"] > 0, statuses  # killed mid-flight
    assert {s for s, _ in after_kill.values()} <= FINAL | IN_FLIGHT
    # Everything the venue has is in the journal (write-ahead: intent before send).
    identities = {i for _, i in after_kill.values() if i}
    assert venue_orders(tmp_path) <= identities

    arbexec(tmp_path, "reconcile")
    reconciled = journal_rows(tmp_path)
    assert not {k for k, (s, _) in reconciled.items() if s in ("PENDING", "UNKNOWN")}

    arbexec(tmp_path, "run", "requests.jsonl")  # the whole file again: old keys dedupe
    final = journal_rows(tmp_path)
    assert len(final) == count  # every request accounted for, each key once
    at_venue = venue_orders(tmp_path)
    sent = {i for s, i in final.values() if i and s != "DENIED"}
    assert at_venue <= sent  # nothing at the venue the journal does not know
    never_received = {k for k, (s, i) in final.items() if s == "REJECTED" and i not in at_venue}
    assert len(at_venue) == len(sent) - len(never_received)  # one venue order per sent key
    assert os.path.getsize(tmp_path / "events.jsonl") > 0
