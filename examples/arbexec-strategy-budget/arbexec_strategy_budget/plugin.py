"""Hook implementations only: importing this module must stay cheap."""

from __future__ import annotations

from arbexec.api import RiskRuleSpec, hookimpl


@hookimpl
def arbexec_risk_rules() -> list[RiskRuleSpec]:
    from arbexec_strategy_budget.rule import StrategyBudget

    return [StrategyBudget.spec()]
