"""Hook implementations only: importing this module must stay cheap."""

from __future__ import annotations

from arbexec.hookspecs import hookimpl
from arbexec.specs import RiskRuleSpec


@hookimpl
def arbexec_risk_rules() -> list[RiskRuleSpec]:
    from arbexec_strategy_budget.rule import StrategyBudget

    return [StrategyBudget.spec()]
