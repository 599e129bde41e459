"""SIGKILL the engine at every step of an order's and a pair's path, over many seeded runs;
after restart and reconciliation nothing is duplicated, nothing is lost, every order and
every pair is final, and the venues' positions are exactly what the journal says."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("driver.py")
FINAL_ORDERS = {"FILLED", "CANCELLED", "EXPIRED", "REJECTED", "DENIED"}
FINAL_PAIRS = {"HEDGED", "MISSED", "UNWOUND", "EXPOSED", "DENIED"}
KILL_POINTS = ["create.before", "create.after", "pair.saved", "state.recorded", "timer"]
SEEDS = range(24)


def setup(directory: Path, seed: int) -> list[str]:
    rng = random.Random(seed)
    market = 'spread_ticks = 2\ndepth = [60, 200, 300]\nvolatility = 0.0'
    (directory / "deploy.toml").write_text(f"""
[journal]
path = "journal.sqlite3"
[engine]
wait_budget = 0.3
unknown_grace = 0.3
poll_interval = 0.01
[venues.paper-a]
type = "paper"
seed = {seed}
latency_ms = [1, 6]
flush_interval = 0
step_seconds = 0
steps_per_order = 1
ambiguous_rate = {rng.choice([0, 0.1, 0.3])}
fees = "kalshi"
[venues.paper-a.markets.M]
mid = "0.40"
{market}
[venues.paper-b]
type = "paper"
seed = {seed + 1000}
latency_ms = [1, 6]
flush_interval = 0
step_seconds = 0
steps_per_order = 1
reject_rate = {rng.choice([0, 0.15, 0.3])}
ambiguous_rate = {rng.choice([0, 0.1])}
fees = "polymarket"
[venues.paper-b.markets.M]
mid = "0.55"
{market}
""")
    lines, pairs = [], []
    for i in range(rng.randint(3, 6)):
        pair_id = f"p{i}"
        pairs.append(pair_id)
        lines.append(json.dumps({"pair": {
            "pair_id": pair_id, "quantity": str(rng.randint(5, 120)),
            "legs": [{"venue": "paper-a", "market": "M", "outcome": "YES",
                      "limit_price": rng.choice(["0.41", "0.42"])},
                     {"venue": "paper-b", "market": "M", "outcome": "NO",
                      "limit_price": rng.choice(["0.46", "0.47"])}],
            "max_unwind_loss": rng.choice(["0", "0.5", "5"]),
            "sequencing": rng.choice(["concurrent", "thinner_first"]),
            "halt_on_exposed": False,
        }}))
        if rng.random() < 0.5:
            lines.append(json.dumps({
                "request_id": f"o{i}", "venue": rng.choice(["paper-a", "paper-b"]),
                "market": "M", "outcome": "YES", "side": "BUY",
                "quantity": str(rng.randint(1, 5)), "limit_price": "0.60",
                "time_in_force": "IOC"}))
    (directory / "requests.jsonl").write_text("\n".join(lines) + "\n")
    return pairs


def driver(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DRIVER), str(directory), *args],
                          capture_output=True, text=True, timeout=120)


def kill_spec(seed: int) -> str:
    rng = random.Random(seed * 7919)
    point = KILL_POINTS[seed % len(KILL_POINTS)]
    if point == "timer":
        return f"timer:{rng.uniform(0.02, 0.35):.3f}"
    return f"{point}:{rng.randint(1, 8)}"


def check(directory: Path, seed: int) -> list[str]:
    """Run, kill, restart, and return every invariant that does not hold."""
    pairs = setup(directory, seed)
    spec = kill_spec(seed)
    first = driver(directory, "run", spec)
    problems = []
    if first.returncode not in (0, -9):
        return [f"seed {seed} ({spec}): first run failed: {first.stderr[-2000:]}"]
    second = driver(directory, "run")
    if second.returncode != 0:
        return [f"seed {seed} ({spec}): restart failed: {second.stderr[-2000:]}"]
    seen = driver(directory, "inspect")
    if seen.returncode != 0:
        return [f"seed {seed}: inspect failed: {seen.stderr[-2000:]}"]
    venues = json.loads(seen.stdout)
    db = sqlite3.connect(directory / "journal.sqlite3")
    orders = db.execute("SELECT idempotency_key, status, identity, venue, market, outcome, "
                        "side, filled_quantity, reason_code FROM orders").fetchall()
    saved = dict(db.execute("SELECT pair_id, state FROM pairs").fetchall())
    db.close()
    where = f"seed {seed} ({spec})"
    for pair_id in pairs:
        if saved.get(pair_id) not in FINAL_PAIRS:
            problems.append(f"{where}: pair {pair_id} is {saved.get(pair_id)}")
    open_orders = [k for k, s, *_ in orders if s not in FINAL_ORDERS]
    if open_orders:
        problems.append(f"{where}: orders not final: {open_orders}")
    sent = {}
    net: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for _key, status, identity, venue, market, outcome, side, filled, _ in orders:
        if identity and status != "DENIED":
            sent[identity] = (venue, status)
        sign = 1 if side == "BUY" else -1
        net[(venue, f"{market}:{outcome}")] += sign * Decimal(filled)
    for name, record in venues.items():
        at_venue = set(record["orders"])
        unknown = at_venue - set(sent)
        if unknown:
            problems.append(f"{where}: {name} holds orders the journal lacks: {unknown}")
        lost = {i for i, (v, s) in sent.items() if v == name and s != "REJECTED"} - at_venue
        if lost:
            problems.append(f"{where}: journal orders {name} never got: {lost}")
        if record["open"]:
            problems.append(f"{where}: {name} still has open orders {record['open']}")
        want = {k: v for (venue, k), v in net.items() if venue == name and v}
        got = {k: Decimal(v) for k, v in record["positions"].items()}
        if want != got:
            problems.append(f"{where}: {name} positions {got} but the journal says {want}")
    for pair_id, state in saved.items():
        legs = [o for o in orders if o[0].startswith(f"{pair_id}:")]
        a = sum((Decimal(o[7]) * (1 if o[6] == "BUY" else -1) for o in legs
                 if o[3] == "paper-a"), Decimal(0))
        b = sum((Decimal(o[7]) * (1 if o[6] == "BUY" else -1) for o in legs
                 if o[3] == "paper-b"), Decimal(0))
        balanced = a == b
        if (state == "EXPOSED") == balanced:
            problems.append(f"{where}: pair {pair_id} is {state} with legs {a} and {b}")
    return problems


@pytest.mark.slow
def test_sigkill_at_every_step_of_orders_and_pairs_over_seeded_runs(tmp_path: Path) -> None:
    def one(seed: int) -> list[str]:
        directory = tmp_path / f"run-{seed}"
        directory.mkdir()
        return check(directory, seed)

    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = [p for found in pool.map(one, SEEDS) for p in found]
    assert not problems, "\n".join(problems)
