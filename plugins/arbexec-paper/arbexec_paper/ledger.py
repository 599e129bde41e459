"""The paper account: cash, cash set aside for resting buys, and positions per outcome.

Buys pay price x quantity plus the fee; sells receive price x quantity minus the fee and
realise P&L against the average cost. The account never goes short: the venue refuses a
sell of contracts one does not hold (as on Polymarket) or books its excess as a buy of the
other outcome at 1 - p (as Kalshi's single YES book does).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbexec.api import ONE, ZERO, Balance, Outcome, Position


class Holding:
    __slots__ = ("cost", "quantity", "realised", "reserved")

    def __init__(self) -> None:
        self.quantity = ZERO
        self.cost = ZERO  # cost basis of the contracts held, fees excluded
        self.realised = ZERO
        self.reserved = ZERO  # contracts promised to resting sells

    @property
    def average_price(self) -> Decimal | None:
        return self.cost / self.quantity if self.quantity else None


class Ledger:
    def __init__(self, cash: Decimal) -> None:
        self.cash = cash
        self.reserved = ZERO
        self.holdings: dict[tuple[str, Outcome], Holding] = {}

    @property
    def available(self) -> Decimal:
        return self.cash - self.reserved

    def holding(self, market: str, outcome: Outcome) -> Holding:
        key = (market, outcome)
        holding = self.holdings.get(key)
        if holding is None:
            holding = self.holdings[key] = Holding()
        return holding

    def sellable(self, market: str, outcome: Outcome) -> Decimal:
        holding = self.holdings.get((market, outcome))
        return holding.quantity - holding.reserved if holding is not None else ZERO

    def buy(self, market: str, outcome: Outcome, quantity: Decimal, price: Decimal,
            fee: Decimal) -> None:
        self.cash -= quantity * price + fee
        holding = self.holding(market, outcome)
        holding.quantity += quantity
        holding.cost += quantity * price

    def sell(self, market: str, outcome: Outcome, quantity: Decimal, price: Decimal,
             fee: Decimal) -> None:
        self.cash += quantity * price - fee
        holding = self.holding(market, outcome)
        basis = holding.cost * quantity / holding.quantity
        holding.quantity -= quantity
        holding.cost = holding.cost - basis if holding.quantity else ZERO
        holding.realised += quantity * price - basis

    def settle(self, market: str, winner: Outcome) -> Decimal:
        """Pay $1 per winning contract, nothing per losing one; return the payout."""
        payout = ZERO
        for outcome in (Outcome.YES, Outcome.NO):
            holding = self.holdings.get((market, outcome))
            if holding is None or not holding.quantity:
                continue
            value = holding.quantity * (ONE if outcome is winner else ZERO)
            payout += value
            holding.realised += value - holding.cost
            holding.quantity = ZERO
            holding.cost = ZERO
            holding.reserved = ZERO
        self.cash += payout
        return payout

    def balance(self, venue: str) -> Balance:
        return Balance(venue=venue, total=self.cash, available=self.available)

    def positions(self, venue: str) -> list[Position]:
        return [
            Position(venue=venue, market=market, outcome=outcome, quantity=h.quantity,
                     average_price=h.average_price, realised_pnl=h.realised)
            for (market, outcome), h in sorted(self.holdings.items())
            if h.quantity or h.realised
        ]

    # ------------------------------------------------------------------ persistence

    def to_record(self) -> dict[str, Any]:
        return {
            "cash": str(self.cash),
            "holdings": [
                [market, outcome.value, str(h.quantity), str(h.cost), str(h.realised)]
                for (market, outcome), h in self.holdings.items()
            ],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Ledger:
        ledger = cls(Decimal(record["cash"]))
        for market, outcome, quantity, cost, realised in record["holdings"]:
            holding = ledger.holding(market, Outcome(outcome))
            holding.quantity = Decimal(quantity)
            holding.cost = Decimal(cost)
            holding.realised = Decimal(realised)
        return ledger
