"""Price sanity: a probability, on the venue's grid, not far from the current book."""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from arbexec.errors import OffGridOrder
from arbexec.model import OrderBook, OrderRequest, Outcome
from arbexec.risk.base import Need, RiskContext, Verdict
from arbexec.risk.rules.common import ONE, ZERO, ParamRule
from arbexec.risk.rules.params import flag, money, price, require_order


@frozen(kw_only=True)
class PriceSanityParams:
    min_price: Decimal | None = price("lowest limit price accepted (default: any above 0)")
    max_price: Decimal | None = price("highest limit price accepted (default: any below 1)")
    check_grid: bool = flag("refuse prices and sizes off the market's tick grid", True)
    band: Decimal | None = money(
        "largest distance, in price, between the limit and the book's mid "
        "(or its only best price when one side is empty)"
    )
    require_book: bool = flag("with a band: refuse when the book is empty on both sides", False)

    def __attrs_post_init__(self) -> None:
        require_order(self, "min_price", "max_price")


def reference_price(book: OrderBook, outcome: Outcome) -> Decimal | None:
    """The book's mid in the order's own prices, or its one best price if one side is empty."""
    bids, asks = book.bids, book.asks
    if bids and asks:
        mid = (bids[0].price + asks[0].price) / 2
    elif bids:
        mid = bids[0].price
    elif asks:
        mid = asks[0].price
    else:
        return None
    return mid if outcome is Outcome.YES else ONE - mid


class PriceSanity(ParamRule[PriceSanityParams]):
    """Refuses limit prices outside (0, 1) or the configured range, off the tick grid, or
    further than a band from the current book."""

    name = "price_sanity"
    Params = PriceSanityParams
    __slots__ = ("_band", "_grid", "_high", "_low", "_require_book")

    def __init__(self, params: PriceSanityParams) -> None:
        super().__init__(params)
        self._low = params.min_price if params.min_price is not None else ZERO
        self._high = params.max_price if params.max_price is not None else ONE
        self._grid = params.check_grid
        self._band = params.band
        self._require_book = params.require_book

    def needs_for(self, params: PriceSanityParams) -> frozenset[Need]:
        needs = set()
        if params.check_grid:
            needs.add(Need.MARKET_RULES)
        if params.band is not None:
            needs.add(Need.BOOK)
        return frozenset(needs)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        limit = request.limit_price
        if limit < self._low or limit > self._high or limit <= ZERO or limit >= ONE:
            return self.deny(
                "price_out_of_range",
                f"limit price {limit} is outside the accepted range "
                f"[{self._low}, {self._high}] (prices are probabilities in (0, 1))",
                limit_low=self._low, limit_high=self._high, actual=limit,
            )
        if self._grid:
            rules = ctx.market_rules
            if rules is None:
                return self.deny(
                    "market_rules_unavailable",
                    f"the tick grid of {request.market} on {request.venue} is not known",
                )
            try:
                rules.check(request)
            except OffGridOrder as exc:
                return self.deny(
                    "off_grid", str(exc), tick_size=rules.tick_size,
                    quantity_step=rules.quantity_step, actual=limit,
                )
        if self._band is not None:
            book = ctx.book
            if book is None:
                return self.deny(
                    "book_unavailable", f"no order book for {request.market} to check the band"
                )
            reference = reference_price(book, request.outcome)
            if reference is None:
                if self._require_book:
                    return self.deny(
                        "book_empty", f"the book of {request.market} is empty on both sides",
                    )
                return self._ok
            distance = abs(limit - reference)
            if distance > self._band:
                return self.deny(
                    "price_outside_band",
                    f"limit price {limit} is {distance} from the book's reference price "
                    f"{reference}, more than the band of {self._band}",
                    limit=self._band, actual=distance, reference=reference,
                )
        return self._ok
