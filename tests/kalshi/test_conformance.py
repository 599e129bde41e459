"""The core exchange conformance suite against recorded Kalshi HTTP
(cassettes/kalshi/test_conformance/)."""

from __future__ import annotations

from typing import Any

import pytest

from arbexec.model import OrderRequest
from arbexec.testing.conformance import ConformanceCase, ExchangeConformance
from arbexec.testing.requests import order_request

TICKER = "KXHIGHNY-26NOV22-B57.5"


def _request(key: str, price: str) -> OrderRequest:
    return order_request(key, venue="kalshi", market=TICKER, limit_price=price)


@pytest.mark.vcr
class TestKalshiConformance(ExchangeConformance):
    @pytest.fixture
    def conformance_factory(self, venue: Any) -> Any:
        return lambda: venue

    @pytest.fixture
    def conformance_case(self) -> ConformanceCase:
        return ConformanceCase(
            market=TICKER,
            resting_request=_request("conformance-resting", "0.30"),
            off_grid_request=_request("conformance-off-grid", "0.515"),
            unknown_order_id="00000000-dead-4000-8000-000000000000",
        )
