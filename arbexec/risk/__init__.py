"""Risk: the rule contract, the built-in rules, and policies built from config."""

from arbexec.risk.base import (
    Claim,
    Need,
    OrderOutcome,
    OutcomeObserver,
    RiskContext,
    RiskRule,
    VenueHealth,
    Verdict,
    money_at_risk,
)

__all__ = [
    "Claim",
    "Need",
    "OrderOutcome",
    "OutcomeObserver",
    "RiskContext",
    "RiskRule",
    "VenueHealth",
    "Verdict",
    "money_at_risk",
]
