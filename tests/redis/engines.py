"""Engine processes on one Redis: deployments, requests, and what each side recorded.

Each engine is a real ``arbexec run`` process with its own journal and paper venue, the
Redis source, the Redis sink and the shared ledger; the test reads back the journals (the
engine's record), the paper venues' order tables (the venue's record) and the results
stream (what producers see)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis

STREAM = "arbexec:requests"
RESULTS = "arbexec:results"


def deployment(root: Path, name: str, url: str, *, max_total: str = "1000000",
               claim_idle: float = 1.0, exit_when_idle: float = 1.5,
               extra_source: str = "", lease_seconds: float = 2.0, seed: int = 0) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "deployment.toml"
    config.write_text(f"""
[journal]
path = "journal.sqlite3"

[engine]
wait_budget = 0.5
max_in_flight = 64
unknown_grace = 1

[venues.paper]
type = "paper"
seed = {seed}
cash = "100000000"

[[risk.rules]]
rule = "max_exposure"
max_total = "{max_total}"

[source]
type = "redis"
url = "{url}"
consumer = "{name}"
claim_idle = {claim_idle}
exit_when_idle = {exit_when_idle}
block = 0.2
{extra_source}

[[sinks]]
type = "redis"
url = "{url}"

[ledger]
type = "redis"
url = "{url}"
engine = "{name}"
lease_seconds = {lease_seconds}
outage_wait = 30
halt_stale = 30
""", encoding="utf-8")
    return config


#: Every engine process a test started, stopped at its end (see conftest).
STARTED: list[subprocess.Popen[bytes]] = []


def stop_leftovers() -> None:
    """Kill what a failed test left running (an engine waits for Redis forever)."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def start_engine(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (config.parent / "engine.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "arbexec", "--config", str(config),
                                "run", "-q"], cwd=config.parent, stdout=log,
                               stderr=subprocess.STDOUT, env=env)
    STARTED.append(process)
    return process


def wait_all(processes: Iterable[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    for process in processes:
        process.wait(timeout=timeout)


def request_line(n: int, *, quantity: int = 1, price: str = "0.60",
                 market: str = "PAPER-ELECTION", venue: str = "paper") -> str:
    return json.dumps({"request_id": f"r{n:05d}", "venue": venue, "market": market,
                       "outcome": "YES", "side": "BUY", "quantity": str(quantity),
                       "limit_price": price, "time_in_force": "IOC"})


def publish(url: str, lines: Sequence[str]) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    ids = []
    for start in range(0, len(lines), 1000):
        pipe = client.pipeline(transaction=False)
        for line in lines[start:start + 1000]:
            pipe.xadd(STREAM, {"request": line})
        ids += pipe.execute()
    client.close()
    return ids


def journal_rows(config: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(f"file:{config.parent / 'journal.sqlite3'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM orders")]
    db.close()
    return rows


def journaled(config: Path) -> int:
    """How many orders the engine has journaled so far (0 before its journal exists)."""
    try:
        return len(journal_rows(config))
    except sqlite3.OperationalError:  # not created yet
        return 0


def venue_order_ids(config: Path) -> set[str]:
    [store] = (config.parent / "venues" / "paper").glob("paper-*.sqlite3")
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    ids = {r[0] for r in db.execute("SELECT id FROM orders")}
    db.close()
    return ids


def results(url: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(url, decode_responses=True)
    out = [json.loads(fields["data"])["result"]
           for _, fields in client.xrange(RESULTS) if fields["kind"] == "result"]
    client.close()
    return out


def filled_notional(rows: Iterable[dict[str, Any]]) -> Decimal:
    return sum((Decimal(r["filled_quantity"]) * Decimal(r["average_price"] or 0)
                for r in rows), Decimal(0))


def ledger_total(url: str) -> Decimal:
    client = redis.Redis.from_url(url, decode_responses=True)
    units = client.hget("{arbexec}:ledger:totals", "total") or "0"
    client.close()
    return Decimal(int(units)) / 1_000_000


def leftover_holds(url: str) -> dict[str, Any]:
    client = redis.Redis.from_url(url, decode_responses=True)
    holds = client.hgetall("{arbexec}:ledger:holds")
    client.close()
    return holds


def pending(url: str) -> int:
    client = redis.Redis.from_url(url, decode_responses=True)
    count = int(client.xpending(STREAM, "arbexec")["pending"])
    client.close()
    return count
