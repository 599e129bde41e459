"""Available balance: a buy must be paid for by cash not already promised elsewhere.

Venues differ in whether their "available" figure already deducts resting orders, so the
rule takes the smaller of the venue's available cash and its total less what this engine's
resting buys hold (``ctx.reserved_on_venue``). It never double-counts and never overstates.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import Need, RiskContext, Verdict
from arbexec.risk.rules.common import BUY, ParamRule, expected_fee
from arbexec.risk.rules.params import flag, money


@frozen(kw_only=True)
class AvailableBalanceParams:
    reserve: Decimal = money("cash to keep untouched on each venue, in dollars", Decimal(0),
                             allow_zero=True)
    include_fees: bool = flag("count the venue's expected fee as part of the cost", True)


class AvailableBalance(ParamRule[AvailableBalanceParams]):
    """Refuses buys that the venue's free cash (less resting orders) cannot pay for."""

    name = "available_balance"
    Params = AvailableBalanceParams
    __slots__ = ("_fees", "_reserve")

    def __init__(self, params: AvailableBalanceParams) -> None:
        super().__init__(params)
        self._reserve, self._fees = params.reserve, params.include_fees

    def needs_for(self, params: AvailableBalanceParams) -> frozenset[Need]:
        return frozenset({Need.BALANCE})

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        if request.side is not BUY:
            return self._ok
        balance = ctx.balance
        if balance is None:
            return self.deny("balance_unavailable", f"the balance on {request.venue} is not known")
        free = min(balance.available, balance.total - ctx.reserved_on_venue)
        cost = request.quantity * request.limit_price
        if self._fees:
            cost += expected_fee(request, ctx)
        if cost > free - self._reserve:
            return self.deny(
                "insufficient_balance",
                f"the order needs {cost} but {free} is free on {request.venue} after "
                f"{ctx.reserved_on_venue} held by resting orders"
                + (f" and a reserve of {self._reserve}" if self._reserve else ""),
                limit=free - self._reserve, actual=cost, free=free,
                reserved=ctx.reserved_on_venue, reserve=self._reserve,
            )
        return self._ok
