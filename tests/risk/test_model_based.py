"""A model-based test of the engine's limits under interleaved bursts, sells, cancels, venue
failures, halts and restarts (hypothesis stateful testing on the paper venue).

After every step: no limit of the policy is exceeded (exposure, open orders, cash), the
journal and the venue agree on every resting order, and no idempotency key produced two
venue orders. ``ARBEXEC_MODEL_EXAMPLES`` sets the example budget (default small; see
docs/testing.md for the long run).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from arbexec.model import OrderStatus
from tests.risk.test_bursts import order, policy
from tests.risk.test_restart_restore import engine_on

EXAMPLES = int(os.environ.get("ARBEXEC_MODEL_EXAMPLES", "6"))
STEPS = int(os.environ.get("ARBEXEC_MODEL_STEPS", "12"))
MAX_TOTAL = Decimal(30)
MAX_OPEN = 3
CASH = "40"
MARKETS = ("PAPER-ELECTION", "PAPER-FED-CUT")
RULES = ({"rule": "max_exposure", "max_total": str(MAX_TOTAL)},
         {"rule": "max_open_orders", "total": MAX_OPEN},
         {"rule": "available_balance", "include_fees": False})


class EngineModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="arbexec-model-"))
        self.loop = asyncio.new_event_loop()
        self.serial = 0
        self.outage = False
        self.keys: list[str] = []
        self.engine = self.run(self._open())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _open(self) -> Any:
        engine = engine_on(self.dir, policy(*RULES), cash=CASH, outage=self.outage)
        await engine.start()
        return engine

    def key(self) -> str:
        self.serial += 1
        key = f"m{self.serial}"
        self.keys.append(key)
        return key

    async def _burst(self, requests: list[Any]) -> list[Any]:
        return list(await asyncio.gather(*(self.engine.submit(r) for r in requests)))

    # ------------------------------------------------------------------ steps

    @rule(count=st.integers(1, 8), market=st.sampled_from(MARKETS),
          price=st.sampled_from(["0.05", "0.30", "0.65", "0.90"]),
          quantity=st.sampled_from(["1", "5", "20"]), tif=st.sampled_from(["GTC", "IOC"]))
    def buys(self, count: int, market: str, price: str, quantity: str, tif: str) -> None:
        self.run(self._burst([order(self.key(), market=market, price=price,
                                    quantity=quantity, tif=tif) for _ in range(count)]))

    @rule(count=st.integers(1, 4), market=st.sampled_from(MARKETS),
          quantity=st.sampled_from(["1", "5", "50"]), opening=st.booleans())
    def sells(self, count: int, market: str, quantity: str, opening: bool) -> None:
        tags = {"allow_open": True} if opening else {}
        self.run(self._burst([order(self.key(), market=market, side="SELL", price="0.10",
                                    quantity=quantity, tags=tags) for _ in range(count)]))

    @rule(again=st.integers(0, 3))
    def resubmit(self, again: int) -> None:
        """Keys already used, sent again (concurrently): never a second venue order."""
        if self.keys:
            key = self.keys[again % len(self.keys)]
            self.run(self._burst([order(key, quantity="1", price="0.05", tif="GTC")] * 3))

    @precondition(lambda self: not self.outage)  # a cancel during an outage raises, by design
    @rule()
    def cancel_one(self) -> None:
        for row in self.engine.journal.non_final():
            if row.venue_order_id is not None:
                self.run(self.engine.cancel(row.idempotency_key))
                return

    @rule()
    def toggle_outage(self) -> None:
        self.outage = not self.outage
        self.engine.venues["paper"].switches.outage = self.outage

    @rule(reducing=st.booleans())
    def halt_then_order(self, reducing: bool) -> None:
        self.engine.halt.halt("model", by="test")
        tags = {"risk_reducing": "test"} if reducing else {}
        result = self.run(self.engine.submit(order(self.key(), side="SELL", quantity="1",
                                                   price="0.10", tags=tags)))
        if not reducing:
            assert result.reason_code == "halted"
        else:
            assert result.reason_code != "halted"
        self.engine.halt.resume(by="test")

    @precondition(lambda self: not self.outage)
    @rule()
    def restart(self) -> None:
        self.run(self.engine.aclose())
        self.engine = self.run(self._open())

    def teardown(self) -> None:
        self.run(self.engine.aclose())
        self.loop.close()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def limits_hold(self) -> None:
        ledger = self.engine.ledger
        assert ledger.exposure_now("total") <= MAX_TOTAL
        assert ledger.exposure_now("open_orders:total") <= MAX_OPEN
        assert ledger.exposure_now("cash:paper") <= Decimal(CASH)

    @invariant()
    def journal_and_venue_agree(self) -> None:
        venue = self.engine.venues["paper"]
        if self.outage:
            return
        resting = self.run(venue.fetch_open_orders())
        assert len(resting) <= MAX_OPEN
        ids = [state.venue_order_id for state in resting]
        assert len(ids) == len(set(ids))
        for state in resting:
            row = self.engine.journal.find_by_venue_order_id("paper", state.venue_order_id)
            assert row is not None, state
            assert row.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED), row
        journal_open = {row.venue_order_id for row in self.engine.journal.non_final()
                        if row.status is not OrderStatus.UNKNOWN}
        assert journal_open <= set(ids) | {None}, (journal_open, ids)


EngineModel.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_the_engine_against_its_model = EngineModel.TestCase
