"""The built-in risk rules. A deployment's policy picks which run, in what order."""

from typing import Any

from arbexec.risk.rules.access import AccessLists
from arbexec.risk.rules.balance import AvailableBalance
from arbexec.risk.rules.breaker import BreakerState, CircuitBreaker
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.daily_loss import DailyLossLimit
from arbexec.risk.rules.edge import MinEdge
from arbexec.risk.rules.exposure import MaxExposure, exposure_key
from arbexec.risk.rules.halt import KillSwitch
from arbexec.risk.rules.open_orders import MaxOpenOrders
from arbexec.risk.rules.params import ParameterError, parse_params
from arbexec.risk.rules.price import PriceSanity
from arbexec.risk.rules.rate import OrderRate
from arbexec.risk.rules.schedule import MarketClose, TradingWindow
from arbexec.risk.rules.size import OrderSize
from arbexec.risk.rules.slippage import MaxSlippage
from arbexec.risk.rules.stale import StaleQuote
from arbexec.risk.rules.unwind_bound import UnwindBound
from arbexec.specs import RiskRuleSpec

#: Every built-in rule type, in the order a sensible policy would run them: cheap,
#: data-free checks first, claims-producing exposure last.
BUILTIN_RULES: tuple[type[ParamRule[Any]], ...] = (
    KillSwitch,
    CircuitBreaker,
    AccessLists,
    TradingWindow,
    MarketClose,
    OrderSize,
    PriceSanity,
    StaleQuote,
    MaxSlippage,
    MinEdge,
    MaxOpenOrders,
    OrderRate,
    DailyLossLimit,
    AvailableBalance,
    MaxExposure,
    UnwindBound,
)


def builtin_specs() -> dict[str, RiskRuleSpec]:
    """The built-in rules as ``RiskRuleSpec`` records, by name."""
    return {cls.name: cls.spec() for cls in BUILTIN_RULES}


__all__ = [
    "BUILTIN_RULES",
    "AccessLists",
    "AvailableBalance",
    "BreakerState",
    "CircuitBreaker",
    "DailyLossLimit",
    "KillSwitch",
    "MarketClose",
    "MaxExposure",
    "MaxOpenOrders",
    "MaxSlippage",
    "MinEdge",
    "OrderRate",
    "OrderSize",
    "ParamRule",
    "ParameterError",
    "PriceSanity",
    "StaleQuote",
    "TradingWindow",
    "UnwindBound",
    "builtin_specs",
    "exposure_key",
    "parse_params",
]
