"""The built-in risk rules, registered through the same hook as any plugin's."""

from __future__ import annotations

from arbexec.hookspecs import hookimpl
from arbexec.specs import RiskRuleSpec


@hookimpl
def arbexec_risk_rules() -> list[RiskRuleSpec]:
    from arbexec.risk.rules import BUILTIN_RULES

    return [rule.spec() for rule in BUILTIN_RULES]
