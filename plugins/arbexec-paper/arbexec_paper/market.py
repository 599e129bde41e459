"""One simulated market: its base book, the liquidity our orders took from it, and the
orders resting on it.

The effective YES book is the source's base book minus what was consumed at each price.
Consumed liquidity comes back as the process steps (``replenish`` of it per step), and
resting orders fill as maker when the effective opposite side trades through their price.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from arbexec.api import ONE, ZERO, MarketRules, OrderBook, Outcome, PriceLevel
from arbexec_paper.orders import PaperOrder
from arbexec_paper.sources import BookSource, Levels, ShadowSource

Take = tuple[Decimal, Decimal]  # (YES-book price, quantity)


class SimMarket:
    def __init__(self, rules: MarketRules, source: BookSource, replenish: Decimal) -> None:
        self.market = rules.market
        self.rules = rules
        self.source = source
        self.replenish = replenish
        self.shadow = isinstance(source, ShadowSource)
        self.consumed_bids: dict[Decimal, Decimal] = {}
        self.consumed_asks: dict[Decimal, Decimal] = {}
        self.resting: list[PaperOrder] = []
        self.resolved: Outcome | None = None
        # The last book's levels, reused while unchanged: books are read on every order
        # (risk checks), and building price levels is most of what a read costs.
        self._levels_cache: dict[bool, tuple[list[tuple[Decimal, Decimal]],
                                             tuple[PriceLevel, ...]]] = {}

    # ------------------------------------------------------------------ reading the book

    def _side(self, yes_buy: bool) -> tuple[Levels, dict[Decimal, Decimal]]:
        """The levels an order on this YES side trades against, with their consumption."""
        bids, asks = self.source.levels()
        return (asks, self.consumed_asks) if yes_buy else (bids, self.consumed_bids)

    def book(self, venue: str, at: datetime) -> OrderBook:
        bids, asks = self.source.levels()
        if self.resolved is not None:
            bids = asks = ()
        return OrderBook(
            venue=venue,
            market=self.market,
            bids=self._levels(False, _remaining(bids, self.consumed_bids)),
            asks=self._levels(True, _remaining(asks, self.consumed_asks)),
            timestamp=at,
            tick_size=self.rules.tick_size,
        )

    def _levels(self, asks: bool, raw: list[tuple[Decimal, Decimal]]) -> tuple[PriceLevel, ...]:
        cached = self._levels_cache.get(asks)
        if cached is not None and cached[0] == raw:
            return cached[1]
        levels = tuple(PriceLevel(price=price, size=size) for price, size in raw)
        self._levels_cache[asks] = (raw, levels)
        return levels

    def crosses(self, yes_buy: bool, yes_price: Decimal) -> bool:
        levels, consumed = self._side(yes_buy)
        for price, size in levels:
            if (price > yes_price) if yes_buy else (price < yes_price):
                return False
            if size > consumed.get(price, ZERO):
                return True
        return False

    def fillable(self, yes_buy: bool, yes_price: Decimal, wanted: Decimal) -> Decimal:
        levels, consumed = self._side(yes_buy)
        total = ZERO
        for price, size in levels:
            if (price > yes_price) if yes_buy else (price < yes_price):
                break
            free = size - consumed.get(price, ZERO)
            if free > 0:
                total += free
                if total >= wanted:
                    return wanted
        return total

    # ------------------------------------------------------------------ trading

    def take(self, yes_buy: bool, yes_price: Decimal, wanted: Decimal) -> list[Take]:
        """Walk the book best level first up to the limit; consume what is taken."""
        levels, consumed = self._side(yes_buy)
        takes: list[Take] = []
        remaining = wanted
        for price, size in levels:
            if (price > yes_price) if yes_buy else (price < yes_price):
                break
            used = consumed.get(price, ZERO)
            free = size - used
            if free <= 0:
                continue
            quantity = free if free < remaining else remaining
            consumed[price] = used + quantity
            takes.append((price, quantity))
            remaining -= quantity
            if not remaining:
                break
        return takes

    def step(self, count: int = 1) -> None:
        self.source.step(count)
        self.decay(count)

    def decay(self, count: int) -> None:
        """Give back ``replenish`` of the consumed liquidity per step, in whole quantity steps."""
        if not count or not self.replenish or not (self.consumed_bids or self.consumed_asks):
            return
        if self.replenish == ONE:
            self.consumed_bids.clear()
            self.consumed_asks.clear()
            return
        keep = (ONE - self.replenish) ** count
        step = self.rules.quantity_step
        for consumed in (self.consumed_bids, self.consumed_asks):
            for price, used in list(consumed.items()):
                left = (used * keep / step).to_integral_value(rounding=ROUND_FLOOR) * step
                if left > 0:
                    consumed[price] = left
                else:
                    del consumed[price]

    # ------------------------------------------------------------------ persistence

    def state(self) -> dict[str, Any]:
        return {
            "fingerprint": self.source.fingerprint,
            "source": self.source.state(),
            "consumed_bids": {str(p): str(q) for p, q in self.consumed_bids.items()},
            "consumed_asks": {str(p): str(q) for p, q in self.consumed_asks.items()},
        }

    def restore(self, state: dict[str, Any]) -> bool:
        """Resume from saved state, unless the market was configured differently since."""
        if state.get("fingerprint") != self.source.fingerprint:
            return False
        self.source.restore(state["source"])
        self.consumed_bids = {Decimal(p): Decimal(q) for p, q in state["consumed_bids"].items()}
        self.consumed_asks = {Decimal(p): Decimal(q) for p, q in state["consumed_asks"].items()}
        return True


def _remaining(levels: Levels, consumed: dict[Decimal, Decimal]) -> list[tuple[Decimal, Decimal]]:
    if not consumed:
        return list(levels)
    out = []
    for price, size in levels:
        free = size - consumed.get(price, ZERO)
        if free > 0:
            out.append((price, free))
    return out
