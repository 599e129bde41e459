"""When trading is allowed: weekly trading windows, and not too close to a market's close."""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from attrs import frozen

from arbexec.model import OrderRequest, utc_datetime
from arbexec.risk.base import Need, RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.params import WEEKDAYS, ParameterError, seconds, time_of_day, weekdays, zone

MIDNIGHT = time(0)


@frozen(kw_only=True)
class TradingWindowParams:
    days: frozenset[int] = weekdays("days trading may start, e.g. ['mon', 'tue'] (default: all)")
    start: time = time_of_day("local time the window opens, 'HH:MM'", MIDNIGHT)
    end: time = time_of_day(
        "local time the window closes, 'HH:MM' (before start: the window runs past midnight; "
        "equal to start: the whole day)", MIDNIGHT,
    )
    timezone: ZoneInfo = zone("timezone of days, start and end", "UTC")

    def __attrs_post_init__(self) -> None:
        if not self.days:
            raise ParameterError("days", "must name at least one day")


class TradingWindow(ParamRule[TradingWindowParams]):
    """Refuses orders outside the configured days and hours."""

    name = "trading_window"
    Params = TradingWindowParams
    __slots__ = ("_days", "_end", "_start", "_zone")

    def __init__(self, params: TradingWindowParams) -> None:
        super().__init__(params)
        self._days, self._start, self._end = params.days, params.start, params.end
        self._zone = params.timezone

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self._zone)
        clock, day = local.time(), local.weekday()
        start, end = self._start, self._end
        if start == end:
            return day in self._days
        if start < end:
            return day in self._days and start <= clock < end
        # runs past midnight: the evening of a listed day, or the morning after it
        return (day in self._days and clock >= start) or (
            (day - 1) % 7 in self._days and clock < end
        )

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        if self.is_open(ctx.now):
            return self._ok
        local = ctx.now.astimezone(self._zone)
        return self.deny(
            "outside_trading_window",
            f"{local:%a %H:%M} {self._zone.key} is outside the trading window "
            f"{self._start:%H:%M}-{self._end:%H:%M} on "
            f"{','.join(WEEKDAYS[d] for d in sorted(self._days))}",
            actual=local.isoformat(timespec="minutes"),
            limit=f"{self._start:%H:%M}-{self._end:%H:%M}",
        )


@frozen(kw_only=True)
class MarketCloseParams:
    min_seconds_before_close: timedelta | None = seconds(
        "no new orders this many seconds (or fewer) before the market closes"
    )

    def __attrs_post_init__(self) -> None:
        if self.min_seconds_before_close is None:
            raise ParameterError("min_seconds_before_close", "is required (seconds, e.g. 300)")


class MarketClose(ParamRule[MarketCloseParams]):
    """Refuses new orders on a market about to close (or closed), from its market rules."""

    name = "market_close"
    Params = MarketCloseParams
    __slots__ = ("_bound",)

    def __init__(self, params: MarketCloseParams) -> None:
        super().__init__(params)
        self._bound: timedelta = params.min_seconds_before_close  # type: ignore[assignment]

    def needs_for(self, params: MarketCloseParams) -> frozenset[Need]:
        return frozenset({Need.MARKET_RULES})

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        rules = ctx.market_rules
        if rules is None:
            return self.deny(
                "market_rules_unavailable",
                f"the closing time of {request.market} on {request.venue} is not known",
            )
        closes_at = rules.closes_at
        if closes_at is None:
            return self._ok
        if not isinstance(closes_at, datetime):
            closes_at = utc_datetime(closes_at)
        left = closes_at - ctx.now
        if left <= timedelta(0):
            return self.deny(
                "market_closed", f"market {request.market} closed at {closes_at.isoformat()}",
                closes_at=closes_at.isoformat(), actual=left.total_seconds(),
            )
        if left <= self._bound:
            return self.deny(
                "market_closing",
                f"market {request.market} closes in {left.total_seconds():g}s, within "
                f"{self._bound.total_seconds():g}s of its close",
                limit=self._bound.total_seconds(), actual=left.total_seconds(),
                closes_at=closes_at.isoformat(),
            )
        return self._ok
