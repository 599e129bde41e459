"""The deployment's unwind bound for arbitrage pairs that name none.

A pair whose legs fill unequally is closed within ``max_unwind_loss`` dollars; past it the
pair ends EXPOSED (and trading halts). A bound of 0 would turn every imbalance into an
EXPOSED pair, so there is no built-in default: a pair carries its own bound, or takes this
rule's, or is refused (``no_unwind_bound``). Single orders pass this rule untouched.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.params import ParameterError, money


@frozen(kw_only=True)
class UnwindBoundParams:
    max_unwind_loss: Decimal | None = money(
        "most an arbitrage pair that names no bound may lose closing an imbalance, in "
        "dollars", allow_zero=True,
    )

    def __attrs_post_init__(self) -> None:
        if self.max_unwind_loss is None:
            raise ParameterError("max_unwind_loss", "is required (dollars, e.g. 1.00)")


class UnwindBound(ParamRule[UnwindBoundParams]):
    """Gives arbitrage pairs that name no max_unwind_loss the deployment's bound."""

    name = "unwind_bound"
    Params = UnwindBoundParams
    __slots__ = ()

    @property
    def max_unwind_loss(self) -> Decimal:
        return self.params.max_unwind_loss  # type: ignore[return-value]

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        return self._ok
