"""Daily realised loss limit, fees included: past it, no new risk until the next day.

The day starts at midnight in the configured timezone. The rule adds up what the engine
reports in ``observe`` (each outcome's ``realised_pnl``, an increment already net of its
fees; ``OrderOutcome.fees`` is not subtracted again) and also
reads the engine's own figure, ``ctx.daily_realised_pnl`` (which survives restarts); the
worse of the two counts. Once the limit is reached the rule stays tripped for the rest of
the day even if later fills recover the loss, across a restart too (it replays its own
``risk.daily_loss`` events from the journal). While tripped, a sell that only closes
contracts held still passes (it reduces risk); a sell beyond the position opens the
opposite outcome and is new risk, refused like a buy. A sell beyond the position is
refused at any time (``sell_exceeds_position``) unless tagged ``allow_open``.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from attrs import frozen

from arbexec.events import Event
from arbexec.model import OrderRequest
from arbexec.risk.base import Need, OrderOutcome, RiskContext, Verdict
from arbexec.risk.rules.common import (
    BUY,
    ZERO,
    EventQueue,
    ParamRule,
    flush,
    refuse_opening,
    split_sell,
)
from arbexec.risk.rules.params import ParameterError, money, zone

EVENT_KIND = "risk.daily_loss"
ACTIVE, HALTED = "active", "halted"
#: How far back a restart looks for this rule's events: a trading day in any timezone
#: (at most 25 hours, on a daylight-saving change) started within the last two days.
RESTORE_WINDOW = 2 * 24 * 3600.0


@frozen(kw_only=True)
class DailyLossParams:
    max_loss: Decimal | None = money("largest realised loss in one day, fees included, in dollars")
    timezone: ZoneInfo = zone("timezone whose midnight starts a new day", "UTC")

    def __attrs_post_init__(self) -> None:
        if self.max_loss is None:
            raise ParameterError("max_loss", "is required (a loss in dollars, e.g. 250)")


class DailyLossLimit(EventQueue, ParamRule[DailyLossParams]):
    """Halts risk-increasing orders for the rest of the day once the day's realised loss,
    fees included, reaches a limit."""

    name = "daily_loss"
    Params = DailyLossParams
    __slots__ = ("_day_end", "_day_start", "_halted", "_max", "_pending", "_pnl", "_zone")

    def __init__(self, params: DailyLossParams) -> None:
        super().__init__(params)
        self._max: Decimal = params.max_loss  # type: ignore[assignment]
        self._zone = params.timezone
        self._day_start: datetime | None = None
        self._day_end: datetime | None = None
        self._pnl = ZERO
        self._halted = False
        self._pending: list[Event] = []

    def needs_for(self, params: DailyLossParams) -> frozenset[Need]:
        return frozenset({Need.POSITIONS})

    def day_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """Start and end of the trading day holding ``now``, in the configured timezone."""
        day = now.astimezone(self._zone).date()
        start = datetime.combine(day, time(0), tzinfo=self._zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self._zone)
        return start, end

    @property
    def day_pnl(self) -> Decimal:
        """Realised P&L net of fees observed so far in the current day."""
        return self._pnl

    def _today(self, now: datetime) -> bool:
        return self._day_start is not None and self._day_start <= now < self._day_end  # type: ignore[operator]

    def _roll(self, now: datetime, events: list[Event]) -> None:
        if self._today(now):
            return
        was_halted = self._halted
        self._day_start, self._day_end = self.day_bounds(now)
        self._pnl = ZERO
        self._halted = False
        if was_halted:
            events.append(self._event(ACTIVE, "a new trading day began", now))

    def restore_state(self, read: Callable[..., Sequence[Event]]) -> None:
        """A day tripped before a restart stays tripped in this process, even when later
        fills won the loss back (the engine's daily figure alone would let orders through):
        the newest of this rule's transitions decides, for the day it names."""
        events = sorted(read((EVENT_KIND,), within=RESTORE_WINDOW), key=lambda e: e.at)
        if not events:
            return
        last = events[-1].data
        try:
            day = date.fromisoformat(str(last.get("day")))
            loss = Decimal(str(last.get("loss")))
        except (ValueError, InvalidOperation):
            return  # an event this rule did not write: nothing to restore from it
        if last.get("to") != HALTED or last.get("timezone") != self._zone.key:
            return
        self._day_start, self._day_end = self.day_bounds(
            datetime.combine(day, time(12), tzinfo=self._zone))
        self._pnl = min(self._pnl, -loss)
        self._halted = True

    def _event(self, to: str, reason: str, now: datetime) -> Event:
        return Event(
            kind=EVENT_KIND,
            at=now,
            data={
                "from": HALTED if to == ACTIVE else ACTIVE,
                "to": to,
                "reason": reason,
                "loss": str(-self._pnl),
                "limit": str(self._max),
                "day": self._day_start.date().isoformat() if self._day_start else None,
                "timezone": self._zone.key,
            },
        )

    def preview(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        """The verdict ``check`` would give, without tripping the rule."""
        allowed = self._ok
        if request.side is not BUY:
            split = split_sell(request, ctx, self.name)
            refused = refuse_opening(self, request, split)
            if refused is not None:
                return refused
            allowed = Verdict(rule=self.name, allowed=True, claims=(split.claim,))
            if split.opening <= ZERO:  # closes held contracts only: reduces risk
                return allowed
        today = self._today(ctx.now)
        own = self._pnl if today else ZERO
        pnl = min(own, ctx.daily_realised_pnl)
        if (self._halted and today) or -pnl >= self._max:
            return self.deny(
                "daily_loss_limit",
                f"realised loss today is {-pnl} (fees included), at or above the daily limit "
                f"of {self._max}; no new risk until midnight {self._zone.key}",
                limit=self._max, actual=-pnl,
            )
        return allowed

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        verdict = self.preview(request, ctx)
        if verdict.code == "daily_loss_limit" and not (self._halted and self._today(ctx.now)):
            self._roll(ctx.now, self._pending)
            self._pnl = min(self._pnl, ctx.daily_realised_pnl)
            self._halted = True
            self._pending.append(
                self._event(HALTED, "the engine's realised loss today reached the limit", ctx.now)
            )
        return verdict

    def observe(self, outcome: OrderOutcome, now: datetime) -> list[Event]:
        events: list[Event] = []
        self._roll(now, events)
        self._pnl += outcome.realised_pnl
        if not self._halted and -self._pnl >= self._max:
            self._halted = True
            events.append(self._event(HALTED, "realised loss today reached the limit", now))
        return flush(self._pending, events)
