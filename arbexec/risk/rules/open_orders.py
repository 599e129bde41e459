"""Caps on open orders, per market and in total.

An order holds its slot from admission to its final state: the verdict carries one
``open_orders:`` hold per cap, which the ledger grants atomically with the decision, so a
burst cannot put more orders in flight or at rest than the cap. The engine's own count of
live orders (``ctx.open_orders_*``) is checked as well, so live orders restored after a
restart count even before the ledger holds slots for them.
"""

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import Claim, ClaimKind, RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.params import count, require_any


@frozen(kw_only=True)
class MaxOpenOrdersParams:
    per_market: int | None = count("open orders allowed on one market, this one included")
    total: int | None = count("open orders allowed across all markets, this one included")

    def __attrs_post_init__(self) -> None:
        require_any(self, "per_market", "total")


class MaxOpenOrders(ParamRule[MaxOpenOrdersParams]):
    """Refuses a new order when the open orders per market or in total are at their cap."""

    name = "max_open_orders"
    Params = MaxOpenOrdersParams
    __slots__ = ("_per_market", "_total")

    def __init__(self, params: MaxOpenOrdersParams) -> None:
        super().__init__(params)
        self._per_market, self._total = params.per_market, params.total

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        verdict = self._counts(request, ctx)
        if not verdict.allowed:
            return verdict
        claims = []
        for cap, key, code in (
            (self._per_market, f"open_orders:market:{request.venue}:{request.market}",
             "open_orders_market"),
            (self._total, "open_orders:total", "open_orders_total"),
        ):
            if cap is not None:
                claims.append(Claim(key=key, amount=Decimal(1), limit=Decimal(cap),
                                    rule=self.name, code=code, kind=ClaimKind.HOLD))
        return Verdict(rule=self.name, allowed=True, claims=tuple(claims))

    def _counts(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        if self._per_market is not None and ctx.open_orders_market >= self._per_market:
            return self.deny(
                "open_orders_market",
                f"{ctx.open_orders_market} orders are already open on {request.market}; "
                f"the limit is {self._per_market}",
                limit=self._per_market, actual=ctx.open_orders_market + 1,
            )
        if self._total is not None and ctx.open_orders_total >= self._total:
            return self.deny(
                "open_orders_total",
                f"{ctx.open_orders_total} orders are already open; the limit is {self._total}",
                limit=self._total, actual=ctx.open_orders_total + 1,
            )
        return self._ok
