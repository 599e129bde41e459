"""Arbitrage figures: a concurrent pair's wall time against its slower leg, and against
the thinner-leg-first sequence, on two paper venues with added latency.

Run: .venv/bin/python bench/bench_arbitrage.py [--pairs N] [--latency-a MS] [--latency-b MS]
Reports through bench/report.py; asserts nothing about speed. It does check that every
pair ended HEDGED, because a fast pair that did not trade is not a result.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from arbexec_paper.exchange import PaperExchange
from report import Report, sized

from arbexec.arbitrage import PairExecutor, PairState, pair_from_mapping
from arbexec.engine import Engine, EngineSettings
from arbexec.exchange import ExchangeSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest
from arbexec.sinks.hub import SinkHub


def venue(name: str, mid: str, latency_ms: int) -> PaperExchange:
    return PaperExchange(ExchangeSettings(name=name, options={
        "markets": {"M": {"mid": mid, "spread_ticks": 2, "depth": [100000],
                          "volatility": 0.0}},
        "step_seconds": 0, "latency_ms": latency_ms, "cash": "10000000",
    }))


def pair(i: int, sequencing: str) -> Any:
    return pair_from_mapping({
        "pair_id": f"{sequencing}-{i}", "quantity": "5", "sequencing": sequencing,
        "max_unwind_loss": "1.00",
        "legs": [{"venue": "a", "market": "M", "outcome": "YES", "limit_price": "0.41"},
                 {"venue": "b", "market": "M", "outcome": "NO", "limit_price": "0.46"}],
    })


def leg(i: int, name: str) -> OrderRequest:
    return OrderRequest(request_id=f"single-{name}-{i}", idempotency_key=f"single-{name}-{i}",
                        venue=name, market="M", outcome="YES" if name == "a" else "NO",
                        side="BUY", quantity=5, limit_price="0.41" if name == "a" else "0.46",
                        time_in_force="IOC")


async def measure(pairs: int, latency_a: int, latency_b: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal.open(Path(tmp) / "journal.sqlite3")
        venues = {"a": venue("a", "0.40", latency_a), "b": venue("b", "0.55", latency_b)}
        engine = Engine(journal=journal, venues=venues, halt=JournalHaltFlag(journal),
                        hub=SinkHub([]), settings=EngineSettings(wait_budget=1.0))
        await engine.start()
        executor = PairExecutor(engine)
        figures: dict[str, list[float]] = {"both books (concurrent)": [],
                                           "leg a alone": [], "leg b alone": [],
                                           "concurrent pair": [], "thinner-first pair": [],
                                           "concurrent legs (slower)": []}
        for i in range(pairs):
            start = time.perf_counter()
            await asyncio.gather(venues["a"].fetch_order_book("M"),
                                 venues["b"].fetch_order_book("M"))
            figures["both books (concurrent)"].append((time.perf_counter() - start) * 1000)
            for name in ("a", "b"):
                start = time.perf_counter()
                await engine.submit(leg(i, name))
                figures[f"leg {name} alone"].append((time.perf_counter() - start) * 1000)
            for sequencing, label in (("concurrent", "concurrent pair"),
                                      ("thinner_first", "thinner-first pair")):
                start = time.perf_counter()
                result = await executor.execute(pair(i, sequencing))
                figures[label].append((time.perf_counter() - start) * 1000)
                if result.state is not PairState.HEDGED:
                    raise SystemExit(f"pair {result.pair_id} ended {result.state}: "
                                     f"{result.reason}")
                if sequencing == "concurrent":
                    figures["concurrent legs (slower)"].append(
                        max(leg.latency_ms or 0.0 for leg in result.legs))
        await engine.aclose()
        journal.close()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=sized(30, 5))
    parser.add_argument("--latency-a", type=int, default=40)
    parser.add_argument("--latency-b", type=int, default=60)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.pairs, args.latency_a, args.latency_b))
    report = Report("arbitrage")
    report.fact("pairs", args.pairs)
    report.fact("latency a / b (ms)", f"{args.latency_a} / {args.latency_b}")
    report.fact("every pair", "HEDGED")
    against = {"concurrent legs (slower)": "leg b alone",
               "thinner-first pair": "concurrent pair"}
    for label, values in figures.items():
        report.add(label, "ms", values, against=against.get(label))
    report.finish()


if __name__ == "__main__":
    main()
