"""Catalogue sync: 20,000 Kalshi markets from a loopback stand-in, time and memory.

Run: .venv/bin/python bench/bench_markets_sync.py [--markets N] [--rounds N]

The stand-in (``arbexec_kalshi.testing.catalogue``) runs in a child process so the figures
are the syncing side's alone. Figures: the in-process sync (``sync_venue``: fetch, parse,
store, page by page) against fetching and parsing alone, at the premier tier's read budget
(so the code's cost shows), and once at the basic tier's (what the rate limit adds); the
whole ``arbexec markets sync`` command line (start-up included); the sync's peak traced
Python memory and the command's peak resident size; and the matcher over two venues of
near-duplicate markets. Checks that every market was stored exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from arbexec_kalshi import catalog as kalshi_catalog
from arbexec_kalshi.config import KalshiConfig
from arbexec_kalshi.exchange import KalshiExchange
from arbexec_kalshi.testing.catalogue import CatalogueServer, market_record, series_record
from report import Report, sized

from arbexec.catalog.matcher import propose
from arbexec.catalog.store import Catalog
from arbexec.catalog.sync import sync_venue

ROOT = Path(__file__).resolve().parent.parent


def _serve(count: int, pipe: Any) -> None:
    with CatalogueServer(count) as server:
        pipe.send(server.base_url)
        pipe.recv()  # until told to stop


def _exchange(base_url: str, tier: str = "premier") -> KalshiExchange:
    # the premier tier's read budget, so the figures are the code's and not the tier's wait
    return KalshiExchange(config=KalshiConfig.from_options({"base_url": base_url, "tier": tier}))


async def _fetch_only(base_url: str) -> int:
    exchange = _exchange(base_url)
    seen, cursor = 0, None
    try:
        while True:
            page = await exchange.list_markets(cursor)
            seen += len(page.markets)
            if page.cursor is None:
                return seen
            cursor = page.cursor
    finally:
        await exchange.aclose()


async def _sync(base_url: str, path: Path, tier: str = "premier") -> int:
    exchange = _exchange(base_url, tier)
    try:
        with Catalog.open(path) as catalog:
            result = await sync_venue(catalog, exchange)
    finally:
        await exchange.aclose()
    return result.total


def _stored(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT COUNT(*), COUNT(DISTINCT market) FROM markets").fetchone()
    return int(row[0]), int(row[1])


def _propose_seconds(count: int) -> tuple[float, int]:
    """The matcher over two venues of ``count`` markets each, the second a copy of the
    first under other ids: every title has near-duplicates, the matcher's worst case."""
    import attrs

    first = [kalshi_catalog.listing("kalshi", market_record(i), series_record("S"))
             for i in range(count)]
    second = [attrs.evolve(m, venue="copy", market=f"{m.market}-copy") for m in first]
    started = time.perf_counter()
    found = sum(1 for _ in propose(first, second))
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markets", type=int, default=sized(20_000, 2_000))
    parser.add_argument("--rounds", type=int, default=sized(3, 1))
    parser.add_argument("--propose", type=int, default=sized(5_000, 300),
                        help="markets per venue for the matcher figure")
    args = parser.parse_args()
    report = Report("markets_sync")
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(args.markets, child), daemon=True)
    server.start()
    base_url = parent.recv()
    fetch, synced, cli_times = [], [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                started = time.perf_counter()
                assert asyncio.run(_fetch_only(base_url)) == args.markets
                fetch.append(time.perf_counter() - started)
                path = Path(tmp) / f"round{n}.sqlite3"
                started = time.perf_counter()
                assert asyncio.run(_sync(base_url, path)) == args.markets
                synced.append(time.perf_counter() - started)
                assert _stored(path) == (args.markets, args.markets)
            started = time.perf_counter()
            assert asyncio.run(_sync(base_url, Path(tmp) / "basic.sqlite3", "basic")) == (
                args.markets)
            basic = time.perf_counter() - started
            tracemalloc.start()
            asyncio.run(_sync(base_url, Path(tmp) / "traced.sqlite3"))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            config = Path(tmp) / "deploy.toml"
            config.write_text(f'[journal]\npath = "{tmp}/cli/journal.sqlite3"\n\n'
                              f'[venues.kalshi]\ntype = "kalshi"\nbase_url = "{base_url}"\n'
                              'tier = "premier"\n')
            for _ in range(args.rounds):
                (Path(tmp) / "cli" / "markets.sqlite3").unlink(missing_ok=True)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "arbexec", "-c", str(config), "markets",
                                "sync", "--restart"], check=True, cwd=ROOT,
                               stdout=subprocess.DEVNULL)
                cli_times.append(time.perf_counter() - started)
            assert _stored(Path(tmp) / "cli" / "markets.sqlite3") == (args.markets,
                                                                        args.markets)
            rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    finally:
        parent.send("stop")
        server.join(timeout=10)
    matched, found = _propose_seconds(args.propose)
    assert found >= args.propose  # every market finds at least its copy
    per_k = 1000 / args.markets
    report.add("fetch and parse only", "s", fetch)
    report.add(f"sync {args.markets} markets", "s", synced, against="fetch and parse only",
               note="fetch, parse and store page by page (a ratio below 1 is the store's cost)")
    report.add("sync, per 1,000 markets", "ms", [s * 1000 * per_k for s in synced])
    report.add("sync at the basic tier's read budget", "s", [basic],
               note="200 tokens/s, 10 a call: the wait Kalshi's limit asks for included")
    report.add("arbexec markets sync (CLI)", "s", cli_times, note="start-up included")
    report.add("sync peak traced Python memory", "MiB", [peak / 2**20])
    report.add("CLI peak resident size", "MiB", [rss_kb / 1024],
               note="whole process: interpreter, httpx, plugins, SQLite")
    report.add(f"propose {args.propose} x {args.propose} markets", "s", [matched],
               note="two venues of near-duplicate titles: the matcher's worst case")
    report.fact("markets", args.markets)
    report.fact("proposals", found)
    report.fact("stored exactly once", True)
    report.finish()


if __name__ == "__main__":
    main()
