"""Fixtures for the paper venue tests: a manual clock and a venue factory."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from arbexec_paper.clock import ManualClock
from arbexec_paper.exchange import PaperExchange

from arbexec.exchange import ExchangeSettings
from arbexec.model import OrderRequest

#: One market with a simple, known book: bids 0.49/0.48/0.47, asks 0.51/0.52/0.53,
#: 100/200/300 contracts per level, and no random moves unless a test asks for them.
SIMPLE_MARKET = {"mid": "0.50", "spread_ticks": 2, "depth": [100, 200, 300], "volatility": 0.0}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def make_venue(clock: ManualClock) -> AsyncIterator[Callable[..., PaperExchange]]:
    made: list[PaperExchange] = []

    def make(name: str = "paper", state_dir: str | None = None, upstream: Any = None,
             read_only: bool = False, **options: Any) -> PaperExchange:
        options.setdefault("step_seconds", 0)
        if "markets" not in options and "snapshot" not in options and "shadow" not in options:
            options["markets"] = {"M": dict(SIMPLE_MARKET)}
        venue = PaperExchange(ExchangeSettings(name=name, options=options, state_dir=state_dir,
                                               read_only=read_only),
                              clock=clock, upstream=upstream)
        made.append(venue)
        return venue

    yield make
    for venue in made:
        await venue.aclose()


_counter = itertools.count()


def order(market: str = "M", outcome: str = "YES", side: str = "BUY", quantity: Any = 10,
          price: Any = "0.50", **extra: Any) -> OrderRequest:
    n = next(_counter)
    extra.setdefault("idempotency_key", f"key-{n}")
    return OrderRequest(request_id=f"req-{n}", venue="paper", market=market,
                        outcome=outcome, side=side, quantity=quantity, limit_price=price,
                        **extra)


@pytest.fixture
def request_for() -> Callable[..., OrderRequest]:
    """Build an ``OrderRequest`` with fresh ids: ``request_for(side="SELL", price="0.6")``."""
    return order


async def send(venue: PaperExchange, request: OrderRequest) -> Any:
    return await venue.create_order(await venue.prepare_order(request))


@pytest.fixture
def submit() -> Callable[..., Any]:
    """``await submit(venue, request)``: prepare then create, as the engine does."""
    return send


def at(clock: ManualClock, seconds: float) -> datetime:
    return datetime.fromtimestamp(clock.now + seconds, tz=UTC)


@pytest.fixture
def later(clock: ManualClock) -> Callable[[float], datetime]:
    """``later(30)``: the datetime 30 seconds after the manual clock's now."""
    return lambda seconds: at(clock, seconds)
