"""Exposure limits: money at risk per market, per event, per venue and in total.

On a binary payoff a buy at p risks quantity x p (YES or NO alike). A sell closes contracts
held and adds no risk, but only up to the position: the part beyond it would open the
opposite outcome (on Kalshi an ask past the position is a NO buy at 1 - p), so it is
refused (``sell_exceeds_position``) unless the request is tagged ``allow_open``, and then
charged at (1 - p) per contract opened. The rule states the figures and hands the engine
one ``Claim`` per limited scope (and a ``position:`` hold for the contracts a sell closes);
the ledger then grants all claims or none, atomically, counting resting orders as reserved.
``ctx.exposure(key)`` is what the ledger holds now.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import Claim, Need, RiskContext, Verdict
from arbexec.risk.rules.common import (
    ParamRule,
    event_of,
    money_and_claims,
)
from arbexec.risk.rules.params import money, require_any

TOTAL, VENUE, EVENT, MARKET = "total", "venue", "event", "market"


@frozen(kw_only=True)
class MaxExposureParams:
    max_total: Decimal | None = money(
        "money at risk across all venues, in dollars (legacy MAX_USER_EXPOSURE)"
    )
    max_per_venue: Decimal | None = money("money at risk on any one venue, in dollars")
    max_per_event: Decimal | None = money(
        "money at risk on any one event (group of related markets), in dollars; a market "
        "whose event is unknown counts as an event of its own"
    )
    max_per_market: Decimal | None = money("money at risk on any one market, in dollars")

    def __attrs_post_init__(self) -> None:
        require_any(self, "max_total", "max_per_venue", "max_per_event", "max_per_market")


def exposure_key(scope: str, request: OrderRequest, event: str | None = None) -> str:
    """The ledger key of ``scope`` for this request: ``market:<venue>:<market>`` etc."""
    if scope == TOTAL:
        return "total"
    if scope == VENUE:
        return f"venue:{request.venue}"
    if scope == EVENT:
        return f"event:{request.venue}:{event if event is not None else request.market}"
    return f"market:{request.venue}:{request.market}"


class MaxExposure(ParamRule[MaxExposureParams]):
    """Limits money at risk per market, event, venue and in total; resting orders count."""

    name = "max_exposure"
    Params = MaxExposureParams
    __slots__ = ("_scopes",)

    def __init__(self, params: MaxExposureParams) -> None:
        super().__init__(params)
        limits = (
            (TOTAL, params.max_total),
            (VENUE, params.max_per_venue),
            (EVENT, params.max_per_event),
            (MARKET, params.max_per_market),
        )
        self._scopes = tuple(
            (scope, limit, f"exposure_{scope}") for scope, limit in limits if limit is not None
        )

    def needs_for(self, params: MaxExposureParams) -> frozenset[Need]:
        needs = {Need.POSITIONS}
        if params.max_per_event is not None:
            needs.add(Need.MARKET_RULES)
        return frozenset(needs)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        at_risk = money_and_claims(self, request, ctx)
        if isinstance(at_risk, Verdict):  # refused, or closes held contracts only
            return at_risk
        amount, claims = at_risk
        event = event_of(ctx)
        for scope, limit, code in self._scopes:
            key = exposure_key(scope, request, event)
            current = ctx.exposure(key)
            if current + amount > limit:
                return self.deny(
                    code,
                    f"{scope} exposure would be {current + amount} ({current} held or reserved "
                    f"+ {amount} for this order) under {key}, above the limit of {limit}",
                    limit=limit, actual=current + amount, current=current, requested=amount,
                    key=key,
                )
            claims.append(Claim(key=key, amount=amount, limit=limit, rule=self.name, code=code))
        return Verdict(rule=self.name, allowed=True, claims=tuple(claims))
