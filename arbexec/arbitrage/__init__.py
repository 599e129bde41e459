"""Atomic two-leg arbitrage: a pair of orders on two venues driven to one final state."""

from arbexec.arbitrage.executor import ArbitrageSettings, PairExecutor
from arbexec.arbitrage.model import (
    Leg,
    PairRequest,
    PairResult,
    PairState,
    Sequencing,
    pair_from_mapping,
)

__all__ = [
    "ArbitrageSettings",
    "Leg",
    "PairExecutor",
    "PairRequest",
    "PairResult",
    "PairState",
    "Sequencing",
    "pair_from_mapping",
]
