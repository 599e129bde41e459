"""Order rate per venue, per second and per minute.

The engine's venue health counts the orders sent; besides, each admitted order claims a
``rate:`` window slot that the ledger grants atomically with the decision and keeps
counted for the window's length (even after the order ended), so a burst admitted at once
cannot pass the rate. An order refused before it was sent gives its slot back. A restart
forgets neither: the sends of the last minute (the journal's ``order.sent`` events) count
against the windows they fall in, and shrink the room the ledger grants.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import frozen

from arbexec.events import Event
from arbexec.model import OrderRequest
from arbexec.risk.base import Claim, ClaimKind, RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.params import count, require_any

#: The longest window: sends older than this before a restart no longer count.
LONGEST = 60.0


@frozen(kw_only=True)
class OrderRateParams:
    per_second: int | None = count("orders sent to one venue in any second, this one included")
    per_minute: int | None = count("orders sent to one venue in any minute, this one included")

    def __attrs_post_init__(self) -> None:
        require_any(self, "per_second", "per_minute")


class OrderRate(ParamRule[OrderRateParams]):
    """Refuses orders beyond a rate per venue, per second and per minute."""

    name = "order_rate"
    Params = OrderRateParams
    __slots__ = ("_per_minute", "_per_second", "_restored")

    def __init__(self, params: OrderRateParams) -> None:
        super().__init__(params)
        self._per_second, self._per_minute = params.per_second, params.per_minute
        #: per venue, when the orders sent before this process started left (oldest first)
        self._restored: dict[str, deque[datetime]] = {}

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        health = ctx.health
        before = self._before_start(request.venue, ctx.now)
        claims = []
        for cap, window, code, sent, span in (
                (self._per_second, 1.0, "rate_per_second", health.orders_last_second, "second"),
                (self._per_minute, 60.0, "rate_per_minute", health.orders_last_minute,
                 "minute")):
            if cap is None:
                continue
            earlier = sum(1 for at in before if (ctx.now - at).total_seconds() < window)
            if sent + earlier >= cap:
                return self.deny(
                    code, f"{sent + earlier} orders went to {request.venue} in the last "
                    f"{span}; the limit is {cap}", limit=cap, actual=sent + earlier + 1)
            claims.append(Claim(key=f"rate:{request.venue}:{window:g}s", amount=Decimal(1),
                                limit=Decimal(cap - earlier), rule=self.name, code=code,
                                kind=ClaimKind.WINDOW, window_seconds=window))
        return Verdict(rule=self.name, allowed=True, claims=tuple(claims))

    def _before_start(self, venue: str, now: datetime) -> deque[datetime]:
        """The sends journaled before this process started still inside the longest
        window (older ones dropped)."""
        before = self._restored.get(venue)
        if before is None:
            return deque()
        while before and (now - before[0]).total_seconds() >= LONGEST:
            before.popleft()
        return before

    # ------------------------------------------------------------------ restart

    def restore_state(self, read: Callable[..., Sequence[Event]]) -> None:
        """The orders sent in the last minute before the restart, per venue: they count
        against the windows they fall in, as the ledger's slots did in the last process."""
        events: Any = read(("order.sent",), within=LONGEST)
        for event in sorted(events, key=lambda e: e.at):
            venue = event.data.get("venue")
            if isinstance(venue, str):
                self._restored.setdefault(venue, deque()).append(event.at)

