"""Minimum edge after fees.

A single order's edge comes from the request's ``expected_value``: the strategy's estimate
of what one contract of the requested outcome is worth, in dollars (a probability). A buy
at p earns ``expected_value - p`` per contract, a sell at p earns ``p - expected_value``;
the venue's fee for the whole order (``ctx.fee``) is taken off. Two-leg arbitrage pairs go
through ``check_pair``, where the edge is locked in by the two prices and no estimate is
needed.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import PAIR_INVERTED_TAG, RiskContext, Verdict, tag_is_set
from arbexec.risk.rules.common import BUY, ONE, ZERO, ParamRule, expected_fee
from arbexec.risk.rules.params import flag, money, require_any


@frozen(kw_only=True)
class MinEdgeParams:
    min_edge: Decimal | None = money(
        "smallest edge after fees per contract, in dollars", allow_zero=True
    )
    min_edge_total: Decimal | None = money(
        "smallest edge after fees for the whole order, in dollars", allow_zero=True
    )
    require_expected_value: bool = flag(
        "refuse single orders that carry no expected_value (otherwise they pass)", False
    )

    def __attrs_post_init__(self) -> None:
        require_any(self, "min_edge", "min_edge_total")


class MinEdge(ParamRule[MinEdgeParams]):
    """Refuses orders whose expected edge after fees is below a minimum."""

    name = "min_edge"
    Params = MinEdgeParams
    __slots__ = ("_min_each", "_min_total", "_require")

    def __init__(self, params: MinEdgeParams) -> None:
        super().__init__(params)
        self._min_each, self._min_total = params.min_edge, params.min_edge_total
        self._require = params.require_expected_value

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        value = request.expected_value
        if value is None:
            if self._require:
                return self.deny(
                    "no_expected_value", "the request carries no expected_value to judge its edge"
                )
            return self._ok
        gross = value - request.limit_price if request.side is BUY else request.limit_price - value
        fee = expected_fee(request, ctx)
        return self._judge(gross * request.quantity - fee, request.quantity, fee)

    def check_pair(
        self,
        first: OrderRequest,
        second: OrderRequest,
        first_ctx: RiskContext,
        second_ctx: RiskContext,
    ) -> Verdict:
        """The extension point for two-leg arbitrage: buying complementary outcomes.

        Buying YES on one venue and NO on another pays one dollar per matched contract
        whatever happens, so the locked-in edge is ``min(quantities) - cost - fees``. Legs
        on two markets whose YES and NO are swapped (both tagged ``pair_inverted``) buy
        the same outcome instead.
        """
        inverted = tag_is_set(first, PAIR_INVERTED_TAG) and tag_is_set(second,
                                                                        PAIR_INVERTED_TAG)
        complementary = (first.outcome is second.outcome) if inverted else (
            first.outcome is not second.outcome)
        if first.side is not BUY or second.side is not BUY or not complementary:
            return self.deny(
                "not_a_pair",
                "an arbitrage pair buys opposite outcomes (YES on one leg, NO on the other)",
            )
        matched = min(first.quantity, second.quantity)
        fee = expected_fee(first, first_ctx) + expected_fee(second, second_ctx)
        cost = first.notional + second.notional
        return self._judge(matched * ONE - cost - fee, matched, fee)

    def _judge(self, edge: Decimal, quantity: Decimal, fee: Decimal) -> Verdict:
        if self._min_total is not None and edge < self._min_total:
            return self.deny(
                "edge_below_min",
                f"edge after {fee} fees is {edge} for the order, below the minimum of "
                f"{self._min_total}",
                limit=self._min_total, actual=edge, fees=fee,
            )
        if self._min_each is not None and edge < self._min_each * quantity:
            each = edge / quantity if quantity > ZERO else edge
            return self.deny(
                "edge_below_min",
                f"edge after fees is {each:.4f} per contract, below the minimum of "
                f"{self._min_each}",
                limit=self._min_each, actual=f"{each:.4f}", fees=fee,
            )
        return self._ok
