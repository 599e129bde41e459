"""The kill switch: while the engine is halted, nothing new is sent.

A halt stops new risk, never its reduction: an order marked risk-reducing (the
``risk_reducing`` tag, which arbitrage unwinds carry, or a ``reduce_only`` sell) passes,
and its verdict says why.
"""

from __future__ import annotations

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import RiskContext, Verdict, risk_reducing
from arbexec.risk.rules.common import ParamRule


@frozen(kw_only=True)
class KillSwitchParams:
    """The kill switch takes no parameters: it is on or off (``arbexec halt`` / ``resume``)."""


class KillSwitch(ParamRule[KillSwitchParams]):
    """Refuses every order while the engine is halted (``arbexec halt``, until ``resume``)."""

    name = "kill_switch"
    Params = KillSwitchParams
    __slots__ = ("_denied",)

    def __init__(self, params: KillSwitchParams) -> None:
        super().__init__(params)
        self._denied = self.deny(
            "halted", "the engine is halted (kill switch); run `arbexec resume` to trade again"
        )

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        if not ctx.halted:
            return self._ok
        why = risk_reducing(request)
        if why is None:
            return self._denied
        return Verdict.allow(self.name, f"passes the halt: {why}", passes_halt=why)
