"""``strategy_budget``: limit the money each strategy has at risk.

Requests name their strategy in ``tags["strategy"]``. A buy at p risks quantity x p; the
rule claims that amount under ``strategy:<name>`` with the strategy's budget as the limit,
and the engine's exposure ledger grants it atomically together with the other rules'
claims (so resting orders count, and two engines sharing a ledger share the budget).
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from attrs import frozen

from arbexec.api import (
    Claim,
    OrderRequest,
    ParameterError,
    ParamRule,
    RiskContext,
    Side,
    Verdict,
    flag,
    money,
    money_by_name,
)


@frozen(kw_only=True)
class StrategyBudgetParams:
    budgets: Mapping[str, Decimal] = money_by_name(
        "money at risk allowed per strategy, in dollars: { momentum = 500, carry = \"250\" }"
    )
    default: Decimal | None = money("budget of strategies not listed in budgets (default: none)")
    require_strategy: bool = flag("refuse requests without tags.strategy", True)

    def __attrs_post_init__(self) -> None:
        if not self.budgets and self.default is None:
            raise ParameterError("budgets", "set at least one budget, or a default")


class StrategyBudget(ParamRule[StrategyBudgetParams]):
    """Limits money at risk per strategy (``tags.strategy``), resting orders included."""

    name = "strategy_budget"
    Params = StrategyBudgetParams
    __slots__ = ("_budgets", "_default", "_require")

    def __init__(self, params: StrategyBudgetParams) -> None:
        super().__init__(params)
        self._budgets = dict(params.budgets)
        self._default = params.default
        self._require = params.require_strategy

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        if request.side is not Side.BUY:
            return self._ok  # a sell closes risk; it needs no budget
        strategy = request.tags.get("strategy")
        if not isinstance(strategy, str) or not strategy:
            if self._require:
                return self.deny(
                    "strategy_missing", "the request has no tags.strategy to charge its risk to"
                )
            return self._ok
        budget = self._budgets.get(strategy, self._default)
        if budget is None:
            return self.deny(
                "strategy_unknown",
                f"strategy {strategy!r} has no budget and there is no default; budgeted: "
                f"{', '.join(sorted(self._budgets))}",
                actual=strategy,
            )
        key = f"strategy:{strategy}"
        amount = request.quantity * request.limit_price
        current = ctx.exposure(key)
        if current + amount > budget:
            return self.deny(
                "strategy_budget_exceeded",
                f"strategy {strategy} would have {current + amount} at risk ({current} held or "
                f"reserved + {amount}), above its budget of {budget}",
                limit=budget, actual=current + amount, current=current, requested=amount, key=key,
            )
        claim = Claim(key=key, amount=amount, limit=budget, rule=self.name,
                      code="strategy_budget_exceeded")
        return Verdict(rule=self.name, allowed=True, claims=(claim,))
