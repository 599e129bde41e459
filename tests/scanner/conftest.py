"""Two paper venues whose books are crossed for one matched pair, and helpers to scan them.

``paper-a`` (Kalshi's fee rule) trades M around 0.40: YES asks 0.41 x100, 0.42 x200,
0.43 x300. ``paper-b`` (Polymarket's fee rule, rate 0.02) trades M around 0.55: YES bids
0.54 x100, 0.53 x200, 0.52 x300, so NO asks 0.46, 0.47, 0.48. YES on a and NO on b cost
0.87 at the first level: 13 cents per contract before fees. Nothing moves on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arbexec_paper.exchange import PaperExchange

from arbexec.catalog.pairfile import MarketRef, MatchedPair, PairStatus, save_pairs
from arbexec.engine import Engine, EngineSettings
from arbexec.exchange import ExchangeSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.sinks.hub import SinkHub

MARKET_A = {"mid": "0.40", "spread_ticks": 2, "depth": [100, 200, 300], "volatility": 0.0}
MARKET_B = {"mid": "0.55", "spread_ticks": 2, "depth": [100, 200, 300], "volatility": 0.0}

PAIR = MatchedPair(a=MarketRef(venue="paper-a", market="M", title="Will it happen?"),
                   b=MarketRef(venue="paper-b", market="M", title="Will it happen (b)?"),
                   status=PairStatus.ACCEPTED, score=0.97)

def _venue(name: str, mid: str, fees: str) -> str:
    return (f'[venues.{name}]\ntype = "paper"\nstep_seconds = 0\nflush_interval = 0\n'
            f'fees = "{fees}"\n[venues.{name}.markets.M]\nmid = "{mid}"\n'
            "depth = [100, 200, 300]\nvolatility = 0.0\n")


DEPLOY = ('[journal]\npath = "journal.sqlite3"\n[engine]\nwait_budget = 0.5\n'
          '[scan]\nmax_unwind_loss = "1"\n'
          + _venue("paper-a", "0.40", "kalshi") + _venue("paper-b", "0.55", "polymarket"))


def paper(name: str, market: dict[str, Any], **options: Any) -> PaperExchange:
    options.setdefault("step_seconds", 0)
    options.setdefault("flush_interval", 0)
    return PaperExchange(ExchangeSettings(name=name, options={
        "markets": {"M": dict(market)}, **options}))


def make_engine(journal: Journal, *venues: PaperExchange) -> Engine:
    return Engine(journal=journal, venues={v.name: v for v in venues},
                  halt=JournalHaltFlag(journal), hub=SinkHub([]),
                  settings=EngineSettings(wait_budget=0.5, unknown_grace=0.5,
                                          poll_interval=0.005))


def write_deployment(folder: Path, *pairs: MatchedPair) -> None:
    (folder / "deploy.toml").write_text(DEPLOY)
    save_pairs(folder / "pairs.toml", list(pairs) or [PAIR])
