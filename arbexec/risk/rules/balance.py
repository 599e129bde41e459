"""Available balance: a buy must be paid for by cash not already promised elsewhere.

Venues differ in whether their "available" figure already deducts resting orders, so the
rule takes the smaller of the venue's available cash and its total less what this engine's
resting buys hold (``ctx.reserved_on_venue``). It never double-counts and never overstates.

The cash is reserved, not only checked: the verdict carries a ``cash:<venue>`` hold of the
order's cost, which the ledger grants atomically with the decision and gives back at the
final state, so a burst of orders cannot together promise more cash than is free. A sell
of held contracts needs no cash (its fee comes out of the proceeds); a sell beyond the
position is refused (``sell_exceeds_position``) unless tagged ``allow_open``, and then
costs the collateral of the opposite outcome it opens, (1 - p) per contract, plus the fee.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import Claim, ClaimKind, Need, RiskContext, Verdict
from arbexec.risk.rules.common import (
    ParamRule,
    expected_fee,
    money_and_claims,
)
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
        return frozenset({Need.BALANCE, Need.POSITIONS})

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        at_risk = money_and_claims(self, request, ctx)
        if isinstance(at_risk, Verdict):  # refused, or closes held contracts only
            return at_risk
        cost, claims = at_risk
        balance = ctx.balance
        if balance is None:
            return self.deny("balance_unavailable", f"the balance on {request.venue} is not known")
        # What this engine already promised (ctx.exposure of the cash key: orders admitted,
        # in flight or resting) is counted by the ledger against ``room``, the free cash
        # with those promises added back; the check here sees the same figure.
        key = f"cash:{request.venue}"
        promised = ctx.exposure(key)
        room = min(balance.available + ctx.reserved_on_venue, balance.total) - self._reserve
        free = min(balance.available, balance.total - ctx.reserved_on_venue)
        if self._fees:
            cost += expected_fee(request, ctx)
        usable = min(free - self._reserve, room - promised)
        if cost > usable:
            return self.deny(
                "insufficient_balance",
                f"the order needs {cost} but {free} is free on {request.venue} after "
                f"{ctx.reserved_on_venue} held by resting orders"
                + (f" and a reserve of {self._reserve}" if self._reserve else "")
                + (f", and {promised} of it is promised to this engine's orders in flight"
                   if usable < free - self._reserve else ""),
                limit=usable, actual=cost, free=free,
                reserved=ctx.reserved_on_venue, reserve=self._reserve, promised=promised,
            )
        claims.append(Claim(key=key, amount=cost, limit=room, rule=self.name,
                            code="insufficient_balance", kind=ClaimKind.HOLD))
        return Verdict(rule=self.name, allowed=True, claims=tuple(claims))
