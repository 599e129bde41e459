"""Two paper venues whose books leave room for an arbitrage, and an engine over both.

``paper-a`` trades market M around 0.40 (YES asks 0.41 x100, 0.42 x200, 0.43 x300; bids
0.39 x100, ...); ``paper-b`` around 0.55 (YES bids 0.54 x100, 0.53 x200, 0.52 x300, so NO
asks 0.46 x100, 0.47 x200, 0.48 x300). Buying YES on a at 0.41 and NO on b at 0.46 locks in
0.13 per contract before fees. Neither market moves on its own (volatility 0, no time steps).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from arbexec_paper.exchange import PaperExchange

from arbexec.arbitrage import ArbitrageSettings, PairExecutor, PairRequest, pair_from_mapping
from arbexec.engine import Engine, EngineSettings, PolicyLike
from arbexec.exchange import ExchangeSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.sinks.hub import SinkHub

MARKET_A = {"mid": "0.40", "spread_ticks": 2, "depth": [100, 200, 300], "volatility": 0.0}
MARKET_B = {"mid": "0.55", "spread_ticks": 2, "depth": [100, 200, 300], "volatility": 0.0}


def paper(name: str, market: dict[str, Any], state_dir: str | None = None,
          **options: Any) -> PaperExchange:
    options.setdefault("step_seconds", 0)
    options.setdefault("flush_interval", 0)
    return PaperExchange(ExchangeSettings(name=name, state_dir=state_dir, options={
        "markets": {"M": dict(market)}, **options}))


@pytest.fixture
def venue_a() -> PaperExchange:
    return paper("paper-a", MARKET_A, fees="kalshi")


@pytest.fixture
def venue_b() -> PaperExchange:
    return paper("paper-b", MARKET_B, fees="polymarket")


def make_engine(journal: Journal, *venues: PaperExchange, policy: PolicyLike | None = None,
                **settings: Any) -> Engine:
    values: dict[str, Any] = {"wait_budget": 0.5, "unknown_grace": 0.5,
                              "poll_interval": 0.005}
    values.update(settings)
    engine = Engine(journal=journal, venues={v.name: v for v in venues},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]),
                    settings=EngineSettings(**values))
    if policy is not None:
        engine.policy = policy
    return engine


@pytest.fixture
async def engine(journal: Journal, venue_a: PaperExchange,
                 venue_b: PaperExchange) -> AsyncIterator[Engine]:
    e = make_engine(journal, venue_a, venue_b)
    await e.start()
    yield e
    await e.aclose()


@pytest.fixture
def executor(engine: Engine) -> PairExecutor:
    return PairExecutor(engine, ArbitrageSettings(leg_timeout=2.0))


def pair(pair_id: str = "arb-1", quantity: Any = 10, a_price: str = "0.41",
         b_price: str = "0.46", **extra: Any) -> PairRequest:
    data: dict[str, Any] = {
        "pair_id": pair_id, "quantity": str(quantity),
        "legs": [{"venue": "paper-a", "market": "M", "outcome": "YES", "limit_price": a_price},
                 {"venue": "paper-b", "market": "M", "outcome": "NO", "limit_price": b_price}],
        "max_unwind_loss": "0.50",
    }
    data.update(extra)
    return pair_from_mapping(data)


@pytest.fixture
def make_pair() -> Callable[..., PairRequest]:
    return pair


@pytest.fixture
def engine_factory() -> Callable[..., Engine]:
    return make_engine


@pytest.fixture
def paper_factory() -> Callable[..., PaperExchange]:
    return paper
