"""What the adapter needs to know about a market: its grids, status and fee schedule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from arbexec.api import MarketRules, optional_datetime
from arbexec_kalshi.fees import FeeSchedule
from arbexec_kalshi.grid import PriceGrid, SizeGrid

TRADABLE_STATUSES = frozenset({"active", "open"})


@frozen(kw_only=True)
class MarketInfo:
    ticker: str
    event_ticker: str | None
    series_ticker: str | None
    status: str
    price_grid: PriceGrid
    size_grid: SizeGrid
    fees: FeeSchedule
    close_time: Any = None
    #: the exchange shard the market lives on (routes cancels and decreases), if published
    exchange_index: int | None = None

    @property
    def tradable(self) -> bool:
        return self.status in TRADABLE_STATUSES

    @property
    def rules(self) -> MarketRules:
        return MarketRules(
            market=self.ticker,
            tick_size=self.price_grid.tick_size,
            quantity_step=self.size_grid.step,
            min_quantity=self.size_grid.step,
            min_price=self.price_grid.min_price,
            max_price=self.price_grid.max_price,
            event=self.event_ticker,
            closes_at=self.close_time,
        )


def series_of(ticker: str) -> str:
    """Kalshi tickers start with their series ticker (``KXHIGHNY-26NOV22-B57.5``)."""
    return ticker.split("-", 1)[0]


def market_info(
    market: Mapping[str, Any],
    event: Mapping[str, Any] | None,
    series: Mapping[str, Any] | None,
) -> MarketInfo:
    event = event or {}
    series = series or {}
    ticker = str(market["ticker"])
    series_ticker = event.get("series_ticker") or series.get("ticker") or series_of(ticker)
    return MarketInfo(
        ticker=ticker,
        event_ticker=market.get("event_ticker") or event.get("event_ticker"),
        series_ticker=series_ticker,
        status=str(market.get("status") or "unknown"),
        price_grid=PriceGrid.from_market(market),
        size_grid=SizeGrid(bool(market.get("fractional_trading_enabled", False))),
        fees=FeeSchedule.from_records({"ticker": series_ticker, **series}, event, market),
        close_time=optional_datetime(market.get("close_time") or None),
        exchange_index=_shard(market.get("exchange_index")),
    )


def _shard(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
