"""Slippage: how far the limit lets an order trade past the price it was meant for.

Two references: the request's ``reference_price`` (the price the signal saw) and the best
price on a freshly fetched book. A buy slips when its limit is above the reference, a sell
when it is below. Percentages are compared by multiplication, never by division, so the
check stays exact and cheap.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.model import OrderBook, OrderRequest, Outcome
from arbexec.risk.base import Need, RiskContext, Verdict
from arbexec.risk.rules.common import BUY, HUNDRED, ONE, ParamRule, percent
from arbexec.risk.rules.params import flag, money, require_any


@frozen(kw_only=True)
class MaxSlippageParams:
    max_percent: Decimal | None = money(
        "largest slippage of the limit past the request's reference_price, in percent of it "
        "(legacy MAX_SLIPPAGE_PERCENT)", allow_zero=True,
    )
    max_book_percent: Decimal | None = money(
        "largest slippage of the limit past the best price on a fresh book, in percent of it",
        allow_zero=True,
    )
    require_reference: bool = flag(
        "with max_percent: refuse requests that carry no reference_price", False
    )

    def __attrs_post_init__(self) -> None:
        require_any(self, "max_percent", "max_book_percent")


def best_price(book: OrderBook, request: OrderRequest) -> Decimal | None:
    """Best price the request could trade at now, in its own outcome's prices.

    Same answer as ``OrderBook.best_price`` without building the mirrored NO ladder, which
    matters on the per-order path.
    """
    levels = book.asks if request.yes_side is BUY else book.bids
    if not levels:
        return None
    best = levels[0].price
    return best if request.outcome is Outcome.YES else ONE - best


class MaxSlippage(ParamRule[MaxSlippageParams]):
    """Refuses limits that allow too much slippage past the reference price or the book."""

    name = "max_slippage"
    Params = MaxSlippageParams
    __slots__ = ("_book_pct", "_ref_pct", "_require_ref")

    def __init__(self, params: MaxSlippageParams) -> None:
        super().__init__(params)
        self._ref_pct = params.max_percent
        self._book_pct = params.max_book_percent
        self._require_ref = params.require_reference

    def needs_for(self, params: MaxSlippageParams) -> frozenset[Need]:
        return frozenset({Need.BOOK}) if params.max_book_percent is not None else frozenset()

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        limit = request.limit_price
        buy = request.side is BUY
        if self._ref_pct is not None:
            reference = request.reference_price
            if reference is None:
                if self._require_ref:
                    return self.deny(
                        "no_reference_price",
                        "the request carries no reference_price to measure slippage against",
                    )
            else:
                slip = limit - reference if buy else reference - limit
                if slip * HUNDRED > self._ref_pct * reference:
                    return self.deny(
                        "slippage_reference",
                        f"limit {limit} is {percent(slip, reference)}% past the reference "
                        f"price {reference}; the limit is {self._ref_pct}%",
                        limit=self._ref_pct, actual=percent(slip, reference),
                        reference=reference,
                    )
        if self._book_pct is not None:
            book = ctx.book
            if book is None:
                return self.deny(
                    "book_unavailable",
                    f"no order book for {request.market} to measure slippage against",
                )
            best = best_price(book, request)
            if best is not None:
                slip = limit - best if buy else best - limit
                if slip * HUNDRED > self._book_pct * best:
                    return self.deny(
                        "slippage_book",
                        f"limit {limit} is {percent(slip, best)}% past the best price {best} "
                        f"on the book; the limit is {self._book_pct}%",
                        limit=self._book_pct, actual=percent(slip, best), best=best,
                    )
        return self._ok
