"""The core exchange conformance suite, against recorded venue answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from arbexec.exchange import Exchange
from arbexec.model import OrderRequest, Outcome, Side
from arbexec.testing.conformance import ConformanceCase, ExchangeConformance

CONDITION_ID = "0x" + "5e" * 32
REQUESTED = datetime(2026, 11, 13, 2, 13, 20, tzinfo=UTC)


def _request(key: str, price: str) -> OrderRequest:
    return OrderRequest(
        request_id=f"conformance-{key}",
        idempotency_key=f"conformance-{key}",
        venue="polymarket",
        market=CONDITION_ID,
        outcome=Outcome.YES,
        side=Side.BUY,
        quantity=Decimal("10"),
        limit_price=Decimal(price),
        requested_at=REQUESTED,
    )


@pytest.mark.vcr
class TestConformance(ExchangeConformance):
    @pytest.fixture
    def conformance_factory(self, make_venue: Callable[..., Exchange]) -> Any:
        return make_venue

    @pytest.fixture
    def conformance_case(self) -> ConformanceCase:
        return ConformanceCase(
            market=CONDITION_ID,
            resting_request=_request("resting", "0.40"),
            off_grid_request=_request("off-grid", "0.405"),
            unknown_order_id="0x" + "0f" * 32,
        )


def test_the_exchange_satisfies_the_protocol(make_venue: Callable[..., Exchange]) -> None:
    assert isinstance(make_venue(), Exchange)
