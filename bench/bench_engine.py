"""Engine figures: `arbexec run` throughput on the paper venue with the journal on, the
engine's own overhead per order (venue time excluded), and `arbexec --help` start-up time.

Run: ./dev bench engine   (or .venv/bin/python bench/bench_engine.py [--requests N])
Reports through bench/report.py; asserts nothing about speed. It does check that every
request is accounted for in the journal, because a fast run that loses requests is not a
result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from report import Report, sized

from arbexec.app import open_runtime
from arbexec.config import parse_deployment
from arbexec.engine import Engine, EngineSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest
from arbexec.plugins import PluginHost
from arbexec.runner import run_source
from arbexec.sinks.hub import SinkHub
from arbexec.sources.jsonl import JsonlSource
from arbexec.testing.scripted_venue import ScriptedVenue

ROOT = Path(__file__).resolve().parent.parent
MARKETS = ["PAPER-ELECTION", "PAPER-FED-CUT", "PAPER-BTC-100K", "PAPER-RAIN-NYC",
           "PAPER-WORLD-CUP"]


def write_requests(path: Path, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w") as out:
        for i in range(count):
            outcome = rng.choice(["YES", "NO"])
            out.write(json.dumps({
                "request_id": f"b{i}", "venue": "paper", "market": rng.choice(MARKETS),
                "outcome": outcome, "side": "BUY", "quantity": str(rng.randint(1, 5)),
                "limit_price": "0.95", "time_in_force": "IOC",
            }) + "\n")


#: The built-in default policy's rules, with limits wide enough that a long run is not
#: simply denied once exposure accumulates (denials would be cheaper than orders).
BENCH_POLICY = [
    {"rule": "kill_switch"},
    {"rule": "circuit_breaker", "consecutive_failures": 5, "cooldown_seconds": 30},
    {"rule": "order_size", "max_quantity": 500, "max_notional": "250"},
    {"rule": "price_sanity", "check_grid": True, "band": "0.99"},
    {"rule": "max_exposure", "max_total": "100000000", "max_per_market": "100000000"},
]


def throughput(count: int, *, with_policy: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        requests = base / "requests.jsonl"
        write_requests(requests, count)
        deployment = parse_deployment(
            {"journal": {"path": "journal.sqlite3"},
             "engine": {"wait_budget": 0.0, "max_in_flight": 256},
             "venues": {"paper": {"type": "paper", "seed": 3, "cash": "1000000000",
                                  "replenish": "1"}},
             "risk": {"rules": BENCH_POLICY if with_policy else []},
             "sinks": []},
            source="bench", base_dir=base)
        host = PluginHost.create()
        runtime = open_runtime(deployment, host, quiet=True)
        source = JsonlSource(name="jsonl", path=str(requests))
        started = time.perf_counter()
        summary = asyncio.run(run_source(runtime, source))
        wall = time.perf_counter() - started
        journal = Journal.open(base / "journal.sqlite3")
        counts = journal.counts_by_status()
        journal.close()
        accounted = sum(counts.values())
        if accounted != count or summary.total != count:
            raise SystemExit(f"requests lost: {count} sent, {accounted} in the journal, "
                             f"{summary.total} reported")
        return {"requests": count, "wall_seconds": wall, "per_second": count / wall,
                "statuses": counts}  # type: ignore[dict-item]


async def engine_overhead(count: int) -> list[float]:
    """Time each submit() on an instant venue, minus the time spent inside the venue."""
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal.open(Path(tmp) / "j.sqlite3")
        journal.lock_for_engine()  # as `arbexec run` does (checkpoints move off the path)
        inside: list[float] = []
        venue = _TimedVenue(ScriptedVenue(), inside)
        engine = Engine(journal=journal, venues={"scripted": venue},
                        halt=JournalHaltFlag(journal), hub=SinkHub([]),
                        settings=EngineSettings(wait_budget=0.0))
        await engine.start()
        samples = []
        for i in range(count):
            request = OrderRequest(request_id=f"o{i}", idempotency_key=f"o{i}",
                                   venue="scripted", market="M", outcome="YES", side="BUY",
                                   quantity=Decimal(1), limit_price=Decimal("0.5"))
            t = time.perf_counter()
            await engine.submit(request)
            samples.append(time.perf_counter() - t - inside[-1])
        await engine.aclose()
        journal.close()
    return [sample * 1e6 for sample in samples]


class _TimedVenue:
    """Delegates to a venue and records the time spent inside create_order."""

    def __init__(self, venue: ScriptedVenue, inside: list[float]) -> None:
        self._venue = venue
        self._inside = inside

    def __getattr__(self, name: str) -> object:
        return getattr(self._venue, name)

    async def create_order(self, order):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return await self._venue.create_order(order)
        finally:
            self._inside.append(time.perf_counter() - t)


def help_time(runs: int = 21) -> tuple[list[float], str]:
    exe = Path(sys.executable).parent / "arbexec"
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(exe), "--help"], capture_output=True, check=True)
        timings.append(time.perf_counter() - t)
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from arbexec.cli import main\n"
         "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
         "heavy = [m for m in ('eth_account', 'cryptography', 'coincurve', 'httpx', 'sqlite3',"
         " 'arbexec.engine') if m in sys.modules]\nprint('HEAVY', heavy)"],
        capture_output=True, text=True, check=True)
    heavy = probe.stdout.strip().splitlines()[-1]
    return [t * 1e3 for t in timings], heavy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=sized(20_000, 1_000))
    parser.add_argument("--overhead-orders", type=int, default=sized(5_000, 500))
    parser.add_argument("--repeats", type=int, default=sized(3, 1))
    args = parser.parse_args()
    report = Report("engine")
    for with_policy in (False, True):
        label = "default rules" if with_policy else "kill switch only"
        runs = [throughput(args.requests, with_policy=with_policy)
                for _ in range(args.repeats)]
        report.add(f"arbexec run, paper venue, journal on, {label}", "requests/s",
                   [run["per_second"] for run in runs], higher_is_better=True,
                   note=f"{args.requests} requests per run, all accounted for")
        report.fact(f"statuses ({label})", runs[-1]["statuses"])
    report.add("engine overhead per order (venue excluded, journal on)", "us",
               asyncio.run(engine_overhead(args.overhead_orders)))
    timings, heavy = help_time(sized(21, 5))
    report.add("arbexec --help", "ms", timings)
    report.fact("heavy modules imported by --help", heavy)
    report.finish()


if __name__ == "__main__":
    main()
