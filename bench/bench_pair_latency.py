"""A concurrent pair in the time of its slower leg: wall time with streamed books against
the old fresh read of both books, in the same run.

Two paper venues delay every call by a fixed latency (40 / 60 ms by default); the paper
venue streams its own books (``latest_book``). Each round times, through the engine with
the journal on: the slower leg sent alone, a concurrent pair with ``max_book_age = 0``
(every book read before the legs: the behaviour before streamed books) and a concurrent
pair with the default bound (books from the stream). Correctness: every pair HEDGED, and
the streamed pairs made no book read at all.

Run: .venv/bin/python bench/bench_pair_latency.py [--pairs N] [--latency-a MS] [--latency-b MS]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_arbitrage import leg, venue
from report import Report, sized

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairState, pair_from_mapping
from arbexec.config import DEFAULT_MAX_BOOK_AGE
from arbexec.engine import Engine, EngineSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.sinks.hub import SinkHub


def pair(pair_id: str) -> Any:
    return pair_from_mapping({
        "pair_id": pair_id, "quantity": "5", "sequencing": "concurrent",
        "max_unwind_loss": "1.00",
        "legs": [{"venue": "a", "market": "M", "outcome": "YES", "limit_price": "0.41"},
                 {"venue": "b", "market": "M", "outcome": "NO", "limit_price": "0.46"}],
    })


def count_reads(exchange: Any, reads: list[str]) -> None:
    read = exchange.fetch_order_book

    async def counted(market: str) -> Any:
        reads.append(market)
        return await read(market)

    exchange.fetch_order_book = counted


async def measure(pairs: int, latency_a: int, latency_b: int) -> tuple[dict[str, list[float]],
                                                                        int]:
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal.open(Path(tmp) / "journal.sqlite3")
        venues = {"a": venue("a", "0.40", latency_a), "b": venue("b", "0.55", latency_b)}
        reads: list[str] = []
        engine = Engine(journal=journal, venues=venues, halt=JournalHaltFlag(journal),
                        hub=SinkHub([]), settings=EngineSettings(wait_budget=1.0))
        await engine.start()
        read_first = PairExecutor(engine, ArbitrageSettings(max_book_age=0))
        streamed = PairExecutor(engine, ArbitrageSettings(max_book_age=DEFAULT_MAX_BOOK_AGE))
        for exchange in venues.values():
            await exchange.fetch_order_book("M")  # the venues' streams know the market
            count_reads(exchange, reads)
        figures: dict[str, list[float]] = {"slower leg alone": [],
                                           "pair, books read first (max_book_age 0)": [],
                                           "pair, streamed books": [],
                                           "over slower leg, books read first": [],
                                           "over slower leg, streamed books": []}
        streamed_reads = 0
        for i in range(pairs):
            start = time.perf_counter()
            await engine.submit(leg(i, "b"))
            slower = (time.perf_counter() - start) * 1000
            figures["slower leg alone"].append(slower)
            for label, executor, over in (
                    ("pair, books read first (max_book_age 0)", read_first,
                     "over slower leg, books read first"),
                    ("pair, streamed books", streamed, "over slower leg, streamed books")):
                before = len(reads)
                start = time.perf_counter()
                result = await executor.execute(pair(f"{label[:12]}-{i}"))
                wall = (time.perf_counter() - start) * 1000
                if result.state is not PairState.HEDGED:
                    raise SystemExit(f"pair {result.pair_id} ended {result.state}: "
                                     f"{result.reason}")
                if executor is streamed:
                    streamed_reads += len(reads) - before
                figures[label].append(wall)
                figures[over].append(wall - slower)
        await engine.aclose()
        journal.close()
        return figures, streamed_reads


def default_policy() -> Any:
    """The built-in deployment's rules (price bands need the book: the engine reads it too)."""
    from arbexec.config import load_deployment
    from arbexec.plugins import PluginHost
    from arbexec.risk.policy import load_policy

    return load_policy(list(load_deployment(None).risk_rules),
                       available=PluginHost.create().risk_rules(), source="built-in default")


async def measure_with_policy(pairs: int, latency_a: int, latency_b: int, bound: float
                              ) -> tuple[list[float], list[float], int]:
    """Pairs under the default policy, with one staleness bound for every reader of a book
    (the engine's risk context and the pair's edge check): walls, over-slower-leg, book reads.
    The default policy's balance rule still reads the balance before each order (one round
    trip that no stream carries today)."""
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal.open(Path(tmp) / "journal.sqlite3")
        venues = {"a": venue("a", "0.40", latency_a), "b": venue("b", "0.55", latency_b)}
        reads: list[str] = []
        engine = Engine(journal=journal, venues=venues, halt=JournalHaltFlag(journal),
                        hub=SinkHub([]), settings=EngineSettings(wait_budget=1.0,
                                                                 max_book_age=bound))
        engine.policy = default_policy()
        await engine.start()
        executor = PairExecutor(engine, ArbitrageSettings(max_book_age=bound))
        for exchange in venues.values():
            await exchange.fetch_order_book("M")
            count_reads(exchange, reads)
        walls: list[float] = []
        over: list[float] = []
        for i in range(pairs):
            start = time.perf_counter()
            await engine.submit(leg(i, "b"))
            slower = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            result = await executor.execute(pair(f"policy-{i}"))
            wall = (time.perf_counter() - start) * 1000
            if result.state is not PairState.HEDGED:
                raise SystemExit(f"pair {result.pair_id} ended {result.state}: {result.reason}")
            walls.append(wall)
            over.append(wall - slower)
        await engine.aclose()
        journal.close()
        return walls, over, len(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=sized(40, 8))
    parser.add_argument("--latency-a", type=int, default=40)
    parser.add_argument("--latency-b", type=int, default=60)
    args = parser.parse_args()
    figures, streamed_reads = asyncio.run(measure(args.pairs, args.latency_a, args.latency_b))
    if streamed_reads:
        raise SystemExit(f"pairs on streamed books read {streamed_reads} books")
    report = Report("pair_latency")
    report.fact("latency a / b (ms)", f"{args.latency_a} / {args.latency_b}")
    report.fact("pairs per figure", args.pairs)
    report.fact("book reads by streamed pairs", streamed_reads)
    report.add("slower leg alone", "ms", figures["slower leg alone"])
    old = "pair, books read first (max_book_age 0)"
    report.add(old, "ms", figures[old], against="slower leg alone")
    report.add("pair, streamed books", "ms", figures["pair, streamed books"], against=old)
    report.add("over slower leg, books read first", "ms",
               figures["over slower leg, books read first"])
    report.add("over slower leg, streamed books", "ms",
               figures["over slower leg, streamed books"],
               note="goal: within 5 ms of the slower leg")
    read_walls, read_over, _ = asyncio.run(
        measure_with_policy(args.pairs, args.latency_a, args.latency_b, 0.0))
    walls, over, policy_reads = asyncio.run(
        measure_with_policy(args.pairs, args.latency_a, args.latency_b, DEFAULT_MAX_BOOK_AGE))
    if policy_reads:
        raise SystemExit(f"pairs under the default policy read {policy_reads} books")
    read_label = "default policy: pair, books read first"
    report.add(read_label, "ms", read_walls)
    report.add("default policy: pair, streamed books", "ms", walls, against=read_label)
    report.add("default policy: over slower leg, books read first", "ms", read_over)
    report.add("default policy: over slower leg, streamed books", "ms", over,
               note="goal: within 5 ms of the slower leg")
    report.finish()


if __name__ == "__main__":
    main()
