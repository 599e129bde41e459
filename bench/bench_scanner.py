"""Scanner figures: the edge ladder of one pair (both directions, every size level, both
venues' fee rules) by book depth, and one whole scan of many pairs on paper venues.

Run: .venv/bin/python bench/bench_scanner.py  (./dev bench scanner; --quick: smoke test)
Prints figures; asserts nothing about speed. It does check that every scan found the
crossed pairs, because a fast scan that saw nothing is not a result.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from arbexec_kalshi.fees import FeeSchedule
from arbexec_paper.exchange import PaperExchange
from report import Report, sized

from arbexec.catalog.pairfile import MarketRef, MatchedPair, PairStatus
from arbexec.exchange import ExchangeSettings
from arbexec.fees import polymarket_fee
from arbexec.model import Liquidity, OrderBook
from arbexec.scanner.edge import LegBook, pair_ladders
from arbexec.scanner.feed import BookFeed
from arbexec.scanner.scan import Scanner
from arbexec.scanner.settings import ScanSettings

KALSHI = FeeSchedule(fee_type="quadratic")


def kalshi(market: str, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
    return KALSHI.fee(price, quantity, liquidity)


def polymarket(market: str, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
    return polymarket_fee(quantity, price, Decimal("0.25"), Decimal(2))


def book(venue: str, best_ask: str, levels: int) -> OrderBook:
    tick = Decimal("0.001")
    ask = Decimal(best_ask)
    return OrderBook(venue=venue, market="M",
                     bids=[(ask - 2 * tick - i * tick, Decimal(50 + i)) for i in range(levels)],
                     asks=[(ask + i * tick, Decimal(40 + 3 * i)) for i in range(levels)])


def ladder_figures(report: Report, levels: int, runs: int) -> None:
    pair = MatchedPair(a=MarketRef(venue="k", market="M"), b=MarketRef(venue="p", market="M"),
                       status=PairStatus.ACCEPTED)
    a = LegBook(venue="k", market="M", book=book("k", "0.410", levels), fee=kalshi)
    b = LegBook(venue="p", market="M", book=book("p", "0.460", levels), fee=polymarket)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        ladders = pair_ladders(pair, a, b)
        samples.append((time.perf_counter() - started) * 1e6)
    assert len(ladders[0].levels) >= levels and ladders[0].best(Decimal("0.01")) is not None
    report.add(f"ladder, {levels} levels a side", "us per pair", samples)


def venue(name: str, markets: int, mid: str) -> PaperExchange:
    return PaperExchange(ExchangeSettings(name=name, options={
        "markets": {f"M{i}": {"mid": mid, "spread_ticks": 2, "volatility": 0.0,
                              "depth": [100, 200, 300, 400, 500]} for i in range(markets)},
        "step_seconds": 0, "flush_interval": 0, "fees": "kalshi" if name == "a" else
        "polymarket"}))


async def scan_figures(report: Report, pairs: int, scans: int) -> None:
    a, b = venue("a", pairs, "0.40"), venue("b", pairs, "0.55")
    matched = [MatchedPair(a=MarketRef(venue="a", market=f"M{i}"),
                           b=MarketRef(venue="b", market=f"M{i}"), status=PairStatus.ACCEPTED)
               for i in range(pairs)]
    scanner = Scanner(matched, BookFeed({"a": a, "b": b}, max_age=60), ScanSettings())
    samples = []
    for _ in range(scans):
        started = time.perf_counter()
        result = await scanner.scan_once()
        samples.append((time.perf_counter() - started) * 1000)
        assert len(result.opportunities) == pairs
    report.add(f"scan of {pairs} pairs (paper books)", "ms per scan", samples)
    report.add("per pair in that scan", "ms per pair", [s / pairs for s in samples])


def main() -> None:
    report = Report("scanner")
    runs = sized(300, 20)
    for levels in (5, 20, 50):
        ladder_figures(report, levels, runs)
    pairs = sized(200, 10)
    asyncio.run(scan_figures(report, pairs, sized(20, 3)))
    report.fact("pairs per scan", pairs)
    report.finish()


if __name__ == "__main__":
    main()
