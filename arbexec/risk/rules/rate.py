"""Order rate per venue, per second and per minute.

The engine's venue health counts the orders sent; besides, each admitted order claims a
``rate:`` window slot that the ledger grants atomically with the decision and keeps
counted for the window's length (even after the order ended), so a burst admitted at once
cannot pass the rate. An order refused before it was sent gives its slot back.
"""

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import Claim, ClaimKind, RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.params import count, require_any


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
    __slots__ = ("_per_minute", "_per_second")

    def __init__(self, params: OrderRateParams) -> None:
        super().__init__(params)
        self._per_second, self._per_minute = params.per_second, params.per_minute

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        health = ctx.health
        if self._per_second is not None and health.orders_last_second >= self._per_second:
            return self.deny(
                "rate_per_second",
                f"{health.orders_last_second} orders went to {request.venue} in the last "
                f"second; the limit is {self._per_second}",
                limit=self._per_second, actual=health.orders_last_second + 1,
            )
        if self._per_minute is not None and health.orders_last_minute >= self._per_minute:
            return self.deny(
                "rate_per_minute",
                f"{health.orders_last_minute} orders went to {request.venue} in the last "
                f"minute; the limit is {self._per_minute}",
                limit=self._per_minute, actual=health.orders_last_minute + 1,
            )
        claims = tuple(
            Claim(key=f"rate:{request.venue}:{window:g}s", amount=Decimal(1), limit=Decimal(cap),
                  rule=self.name, code=code, kind=ClaimKind.WINDOW, window_seconds=window)
            for cap, window, code in ((self._per_second, 1.0, "rate_per_second"),
                                      (self._per_minute, 60.0, "rate_per_minute"))
            if cap is not None
        )
        return Verdict(rule=self.name, allowed=True, claims=claims)
