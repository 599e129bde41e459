"""The core exchange conformance suite, run against the paper venue with its defaults."""

from __future__ import annotations

import pytest
from arbexec_paper.exchange import make_exchange

from arbexec.exchange import ExchangeSettings
from arbexec.model import OrderRequest
from arbexec.testing.conformance import ConformanceCase, ExchangeConformance


def _request(price: str, key: str) -> OrderRequest:
    return OrderRequest(request_id=key, idempotency_key=key, venue="paper",
                        market="PAPER-ELECTION", outcome="YES", side="BUY", quantity=10,
                        limit_price=price)


class TestPaperConformance(ExchangeConformance):
    @pytest.fixture
    async def conformance_exchange(self, tmp_path):
        exchange = make_exchange(ExchangeSettings(name="paper", state_dir=str(tmp_path)))
        yield exchange
        await exchange.aclose()

    @pytest.fixture
    def conformance_case(self) -> ConformanceCase:
        return ConformanceCase(
            market="PAPER-ELECTION",
            resting_request=_request("0.40", "conformance-resting"),
            off_grid_request=_request("0.405", "conformance-off-grid"),
            unknown_order_id="paper-000000000000000000000000",
        )


class TestPaperConformanceInMemory(TestPaperConformance):
    @pytest.fixture
    async def conformance_exchange(self):
        exchange = make_exchange(ExchangeSettings(name="paper"))
        yield exchange
        await exchange.aclose()
