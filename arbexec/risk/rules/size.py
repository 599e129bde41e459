"""Order size bounds: quantity and notional, each with a minimum and a maximum."""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.params import money, require_any, require_order


@frozen(kw_only=True)
class OrderSizeParams:
    min_quantity: Decimal | None = money("smallest order, in contracts")
    max_quantity: Decimal | None = money("largest order, in contracts (legacy MAX_TRADE_SIZE)")
    min_notional: Decimal | None = money("smallest order value, quantity x limit price, in dollars")
    max_notional: Decimal | None = money("largest order value, quantity x limit price, in dollars")

    def __attrs_post_init__(self) -> None:
        require_any(self, "min_quantity", "max_quantity", "min_notional", "max_notional")
        require_order(self, "min_quantity", "max_quantity")
        require_order(self, "min_notional", "max_notional")


class OrderSize(ParamRule[OrderSizeParams]):
    """Refuses orders that are too small or too large, in contracts or in dollars."""

    name = "order_size"
    Params = OrderSizeParams
    __slots__ = ("_check_notional", "_max_n", "_max_q", "_min_n", "_min_q")

    def __init__(self, params: OrderSizeParams) -> None:
        super().__init__(params)
        self._min_q, self._max_q = params.min_quantity, params.max_quantity
        self._min_n, self._max_n = params.min_notional, params.max_notional
        self._check_notional = self._min_n is not None or self._max_n is not None

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        quantity = request.quantity
        if self._max_q is not None and quantity > self._max_q:
            return self.deny(
                "quantity_above_max",
                f"quantity {quantity} is above the maximum of {self._max_q} contracts per order",
                limit=self._max_q, actual=quantity,
            )
        if self._min_q is not None and quantity < self._min_q:
            return self.deny(
                "quantity_below_min",
                f"quantity {quantity} is below the minimum of {self._min_q} contracts per order",
                limit=self._min_q, actual=quantity,
            )
        if self._check_notional:
            notional = quantity * request.limit_price
            if self._max_n is not None and notional > self._max_n:
                return self.deny(
                    "notional_above_max",
                    f"order value {notional} is above the maximum of {self._max_n} per order",
                    limit=self._max_n, actual=notional,
                )
            if self._min_n is not None and notional < self._min_n:
                return self.deny(
                    "notional_below_min",
                    f"order value {notional} is below the minimum of {self._min_n} per order",
                    limit=self._min_n, actual=notional,
                )
        return self._ok
