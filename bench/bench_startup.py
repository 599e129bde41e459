"""Start-up and read commands against journal size: time and peak memory at 10k, 100k, 1M.

Run: ./dev bench startup   (or .venv/bin/python bench/bench_startup.py [--no-before])

For each size it builds a realistic journal quickly with bulk SQL through the journal's own
tables (orders over seven UTC days ending today, most final, 100 still open, fills, two
events per order, a few breaker moves), as schema 2; a copy is brought to the current
schema by opening it (the migration's time and memory are reported too). It then measures,
each in a child process, wall time and peak RSS (``os.wait4``'s ``ru_maxrss``) of:

- start-up alone, timed inside a process: open the runtime and ``Engine.start`` (recovery),
- ``arbexec run`` of a one-line request file on the paper venue (start-up plus one order),
- ``arbexec orders --limit 1``, ``arbexec status``, ``arbexec pnl``.

"Before" is the code this branch started from (``git archive`` of the merge base with
``main``, run with ``PYTHONPATH`` against its own schema-2 copy), measured in the same run,
so each "after" figure has its ratio (not in quick mode, unless ``--before``). It checks
the work too: every command exits 0, the paper order is journaled, ``arbexec journal
verify`` agrees, and ``pnl --json`` gives the same answer before and after. An empty journal
(0 rows) gives the floor every command pays whatever the journal holds (the interpreter,
imports, plugins). Quick mode builds 10k rows only and takes one sample.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import ROOT, Report, quick, sized

from arbexec.journal.schema import TABLES

#: Open orders rest on a venue the bench deployment does not configure, so start-up keeps
#: them (and their reservations) as they are and every run sees the same journal.
OPEN_VENUE = "polymarket"
OPEN_ORDERS = 100
DAYS = 7
MARKETS = [f"PAPER-M{n:02d}" for n in range(40)]
RUN_MARKET = "PAPER-FED-CUT"  # a paper market with a book, not in the built history

DEPLOY = """[journal]
path = "{journal}"
state_dir = "{state}"

[venues.paper]
type = "paper"
seed = 1

[[risk.rules]]
rule = "kill_switch"

[[risk.rules]]
rule = "max_exposure"
max_total = "100000000"
"""


# ---------------------------------------------------------------------------- the journal


def build_v2(path: Path, rows: int, seed: int = 7) -> None:
    """A schema-2 journal of ``rows`` orders with their fills and events, in bulk."""
    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    for statement in TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO meta VALUES('schema', '2'), ('written_by', 'bench')")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS - 1)
    step = (datetime.now(UTC) - timedelta(minutes=5) - start) / max(rows, 1)
    orders: list[tuple[Any, ...]] = []
    fills: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    open_at = set(rng.sample(range(rows // 2, rows), min(OPEN_ORDERS, rows // 2)))

    def flush() -> None:
        db.executemany("INSERT INTO orders(idempotency_key, request_id, venue, market, "
                       "outcome, side, quantity, limit_price, request, status, reason_code, "
                       "reason, identity, venue_order_id, filled_quantity, average_price, "
                       "fees, requested_at, acknowledged_at, executed_at, latency_ack_ms, "
                       "latency_final_ms, updated_at) "
                       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", orders)
        db.executemany("INSERT INTO fills VALUES(?,?,?,?,?,?,?,?,?)", fills)
        db.executemany("INSERT INTO events(at, kind, request_id, idempotency_key, data) "
                       "VALUES(?,?,?,?,?)", events)
        orders.clear()
        fills.clear()
        events.clear()

    db.execute("BEGIN")
    for n in range(rows):
        at = start + step * n
        when = at.isoformat()
        done = (at + timedelta(milliseconds=40)).isoformat()
        key = f"bench-{n:08d}"
        is_open = n in open_at
        venue = OPEN_VENUE if is_open else "paper"
        market = MARKETS[n % len(MARKETS)]
        side = "SELL" if rng.random() < 0.25 and not is_open else "BUY"
        outcome = "YES" if n % 3 else "NO"
        quantity = rng.choice((5, 10, 20, 50))
        price = f"0.{rng.randint(20, 80):02d}"
        roll = rng.random()
        status = ("OPEN" if is_open else "FILLED" if roll < 0.62 else
                  "CANCELLED" if roll < 0.87 else "DENIED" if roll < 0.95 else "REJECTED")
        filled = quantity if status == "FILLED" else (
            quantity // 2 if status == "CANCELLED" and roll < 0.7 else 0)
        if side == "SELL":
            filled = min(filled, 5)
        request = {"request_id": f"r-{n}", "idempotency_key": key, "venue": venue,
                   "market": market, "outcome": outcome, "side": side,
                   "quantity": str(quantity), "limit_price": price,
                   "time_in_force": "GTC" if is_open else "IOC", "post_only": False,
                   "requested_at": when, "tags": {"strategy": f"s{n % 5}"}}
        fee = "0.01" if filled else "0"
        final = status != "OPEN"
        orders.append((
            key, f"r-{n}", venue, market, outcome, side, str(quantity), price,
            json.dumps(request), status,
            "risk_denied" if status == "DENIED" else None,
            "exposure limit" if status == "DENIED" else None,
            None if status == "DENIED" else f"id-{key}",
            None if status == "DENIED" else f"v-{n}",
            str(filled), price if filled else None, fee, when,
            None if status == "DENIED" else when, done if final else None,
            None if status == "DENIED" else 12.5, 40.0 if final else None,
            done))
        if filled:
            parts = [filled] if filled < 10 or rng.random() < 0.8 else [filled // 2,
                                                                         filled - filled // 2]
            for i, part in enumerate(parts):
                fills.append((key, f"t-{n}-{i}", venue, str(part), price,
                              fee if i == 0 else "0", "TAKER", 1, done))
        if status != "DENIED":
            events.append((when, "order.sent", f"r-{n}", key, json.dumps(
                {"venue": venue, "market": market, "identity": f"id-{key}",
                 "outcome": outcome, "side": side, "quantity": str(quantity),
                 "limit_price": price})))
        events.append((done, f"order.{status.lower()}", f"r-{n}", key, json.dumps(
            {"venue": venue, "status": status, "filled_quantity": str(filled)})))
        if n % 50_000 == 25_000:
            events.append((done, "risk.breaker", None, None, json.dumps(
                {"venue": "paper", "from": "closed", "to": "open", "reason": "bench"})))
            events.append((done, "risk.breaker", None, None, json.dumps(
                {"venue": "paper", "from": "open", "to": "closed", "reason": "bench"})))
        if len(orders) >= 20_000:
            flush()
    flush()
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


# ---------------------------------------------------------------------------- children


def measure(argv: list[str], *, cwd: Path, pythonpath: str | None) -> tuple[float, float, str]:
    """Run one command under a small parent that reports the child's own peak RSS."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "t = time.perf_counter()\n"
               "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, "
               "stderr=subprocess.PIPE, text=True)\n"
               "wall = time.perf_counter() - t\n"
               "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
               "sys.stderr.write(p.stderr)\n"
               "sys.stdout.write(p.stdout)\n"
               "sys.stdout.write(f'\\n@@ {p.returncode} {wall} {rss}\\n')\n")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    body, _, tail = done.stdout.rpartition("\n@@ ")
    code, wall, rss = tail.split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} failed ({code}): {done.stderr[-3000:]}")
    return float(wall), int(rss) / 1024, body


# ---------------------------------------------------------------------------- trees


def before_tree(folder: Path) -> str | None:
    """The code this branch started from, unpacked; its PYTHONPATH, or None."""
    try:
        base = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        archive = subprocess.run(["git", "archive", base], cwd=ROOT, check=True,
                                 capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    paths = [folder, *(p for p in (folder / "plugins").iterdir() if p.is_dir())]
    return os.pathsep.join(str(p) for p in paths)


def commands(folder: Path, n: int) -> dict[str, list[str]]:
    line = {"request_id": f"bench-run-{n}", "idempotency_key": f"bench-run-{n}",
            "venue": "paper", "market": RUN_MARKET, "outcome": "YES", "side": "BUY",
            "quantity": "5", "limit_price": "0.6", "time_in_force": "IOC"}
    request = folder / f"one-{n}.jsonl"
    request.write_text(json.dumps(line) + "\n")
    base = [sys.executable, "-m", "arbexec", "-c", str(folder / "deploy.toml")]
    return {"engine start, in process": [sys.executable, "-c", ENGINE_START,
                                         str(folder / "deploy.toml")],
            "run one request": [*base, "run", str(request)],
            "orders --limit 1": [*base, "orders", "--limit", "1"],
            "status": [*base, "status"],
            "pnl": [*base, "--json", "pnl"]}


#: Start-up alone, timed inside the process: open the runtime (journal, venues, policy) and
#: ``Engine.start`` (recovery), without the interpreter's and the imports' fixed cost.
ENGINE_START = """
import asyncio, sys, time
from pathlib import Path
from arbexec.app import open_runtime
from arbexec.config import load_deployment
from arbexec.plugins import PluginHost
deployment = load_deployment(Path(sys.argv[1]))
host = PluginHost.create()
async def start():
    t = time.perf_counter()
    runtime = open_runtime(deployment, host, quiet=True)
    await runtime.engine.start()
    took = time.perf_counter() - t
    await runtime.aclose()
    return took
print(f"ENGINE_START {asyncio.run(start())}")
"""


def deployment(folder: Path, journal: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy.toml").write_text(DEPLOY.format(journal=journal,
                                                      state=folder / "state"))


def label(rows: int) -> str:
    if rows < 1000:
        return f"{rows} rows"
    return f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}M"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", action=argparse.BooleanOptionalAction, default=not quick(),
                        help="Also measure the base with main (default: yes, except in "
                             "quick mode).")
    parser.add_argument("--sizes", default=None, help="Comma-separated row counts.")
    parser.add_argument("--samples", type=int, default=sized(3, 1))
    parser.add_argument("--before-samples", type=int, default=1)
    args = parser.parse_args()
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes else
             [10_000] if quick() else [0, 10_000, 100_000, 1_000_000])
    report = Report("startup")
    with tempfile.TemporaryDirectory(prefix="arbexec-bench-startup-") as tmp:
        work = Path(os.environ.get("ARBEXEC_BENCH_KEEP") or tmp)
        old_path = None
        if args.before:
            (work / "before").mkdir()
            old_path = before_tree(work / "before")
        report.fact("before", "merge base with main, same run" if old_path else "not measured")
        for rows in sizes:
            size = label(rows)
            built = time.perf_counter()
            v2 = work / f"v2-{size}.sqlite3"
            build_v2(v2, rows)
            report.fact(f"{size}: build seconds", round(time.perf_counter() - built, 1))
            report.fact(f"{size}: journal MB", round(v2.stat().st_size / 2**20))
            new_dir, old_dir = work / f"after-{size}", work / f"before-{size}"
            deployment(new_dir, new_dir / "journal.sqlite3")
            shutil.copy(v2, new_dir / "journal.sqlite3")
            wall, rss, _ = measure([sys.executable, "-c", "import sys; from arbexec.journal "
                                    "import Journal; Journal.open(sys.argv[1]).close()",
                                    str(new_dir / "journal.sqlite3")], cwd=new_dir,
                                   pythonpath=None)
            report.add(f"{size}: migrate to the current schema (once)", "s", [wall])
            report.add(f"{size}: migrate to the current schema (once), peak RSS", "MB", [rss])
            if old_path:
                deployment(old_dir, old_dir / "journal.sqlite3")
                shutil.copy(v2, old_dir / "journal.sqlite3")
            v2.unlink()
            answers: dict[str, str] = {}
            for tree, folder, pythonpath, samples in (
                    ("before", old_dir, old_path, args.before_samples),
                    ("after", new_dir, None, args.samples)):
                if tree == "before" and not old_path:
                    continue
                times: dict[str, list[float]] = {}
                memory: dict[str, list[float]] = {}
                for n in range(samples):
                    for name, argv in commands(folder, n).items():
                        wall, rss, out = measure(argv, cwd=folder, pythonpath=pythonpath)
                        if name.startswith("engine start"):
                            wall = float(out.split("ENGINE_START ")[1].split()[0])
                        times.setdefault(name, []).append(wall)
                        memory.setdefault(name, []).append(rss)
                        if name == "pnl" and n == 0:  # both trees: one paper order so far
                            answers[tree] = out
                for name in times:
                    against = f"{size} {name} (before)" if tree == "after" and old_path \
                        else None
                    report.add(f"{size} {name} ({tree})", "s", times[name], against=against)
                    report.add(f"{size} {name} ({tree}), peak RSS", "MB", memory[name],
                               against=None if against is None else f"{against}, peak RSS")
            check_after(report, size, new_dir, answers)
    report.finish()


def check_after(report: Report, size: str, folder: Path, answers: dict[str, str]) -> None:
    """The work was done right: the order is journaled, summaries agree, pnl unchanged."""
    verify = subprocess.run([sys.executable, "-m", "arbexec", "-c",
                             str(folder / "deploy.toml"), "journal", "verify"],
                            capture_output=True, text=True, check=False)
    if verify.returncode != 0:
        raise RuntimeError(f"journal verify disagrees at {size}: {verify.stdout[-2000:]}")
    db = sqlite3.connect(folder / "journal.sqlite3")
    runs = db.execute("SELECT COUNT(*) FROM orders WHERE idempotency_key LIKE 'bench-run-%'"
                      ).fetchone()[0]
    db.close()
    if runs < 1:
        raise RuntimeError(f"the paper order of `arbexec run` is not in the journal ({size})")
    report.fact(f"{size}: journal verify", "agrees")
    if "before" in answers:
        same = _history(answers["before"]) == _history(answers["after"])
        if not same:
            for tree, text in answers.items():
                (folder.parent / f"pnl-{tree}-{size}.json").write_text(text)
            raise RuntimeError(f"`arbexec pnl` differs before and after at {size} "
                               f"(both answers in {folder.parent})")
        report.fact(f"{size}: pnl before == after", same)


def _history(pnl: str) -> Any:
    """``pnl --json`` without the market the measured ``run`` traded in (the paper venue's
    book moves, so its fill price differs between runs), money rounded (``_rounded``)."""
    report = json.loads(pnl)
    return _rounded({key: [row for row in report[key] if row["market"] != RUN_MARKET]
                     for key in ("realised", "open_positions")})


def _rounded(value: Any) -> Any:
    """Money to 1e-12: the old report rounded its running sums at 28 significant digits
    (so their last digit depended on the order of addition); the summaries add exactly."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value).quantize(Decimal("1e-12"))
        except ArithmeticError:
            return value
    return value


if __name__ == "__main__":
    main()
