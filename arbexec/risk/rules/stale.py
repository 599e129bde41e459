"""Stale quotes: a book older than a bound is no basis for a decision."""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from datetime import timedelta

from attrs import frozen

from arbexec.model import OrderRequest
from arbexec.risk.base import Need, RiskContext, Verdict
from arbexec.risk.rules.common import ParamRule
from arbexec.risk.rules.params import ParameterError, seconds


@frozen(kw_only=True)
class StaleQuoteParams:
    max_age_seconds: timedelta = seconds("oldest book accepted, in seconds", 2.0)

    def __attrs_post_init__(self) -> None:
        if self.max_age_seconds is None:
            raise ParameterError("max_age_seconds", "is required")


class StaleQuote(ParamRule[StaleQuoteParams]):
    """Refuses orders when the order book the decision rests on is older than a bound."""

    name = "stale_quote"
    Params = StaleQuoteParams
    __slots__ = ("_max_age",)

    def __init__(self, params: StaleQuoteParams) -> None:
        super().__init__(params)
        self._max_age = params.max_age_seconds

    def needs_for(self, params: StaleQuoteParams) -> frozenset[Need]:
        return frozenset({Need.BOOK})

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        book = ctx.book
        if book is None:
            return self.deny("book_unavailable", f"no order book for {request.market}")
        age = ctx.now - book.timestamp
        if age > self._max_age:
            return self.deny(
                "stale_book",
                f"the book of {request.market} is {age.total_seconds():.3f}s old; "
                f"the limit is {self._max_age.total_seconds():g}s",
                limit=self._max_age.total_seconds(), actual=age.total_seconds(),
            )
        return self._ok
