"""The core exchange conformance suite, run against the paper venue with its defaults:
every test of the suite, fills, fill-or-kill, NO and SELL mapping, a lost answer and a
restart included."""

from __future__ import annotations

from pathlib import Path

import pytest
from arbexec_paper.exchange import make_exchange

from arbexec.exchange import ExchangeSettings
from arbexec.testing.conformance import ConformanceCase, ExchangeConformance, ExchangeFactory
from arbexec.testing.requests import order_request

MARKET = "PAPER-ELECTION"


def _request(key: str, **overrides: str) -> object:
    return order_request(f"conformance-{key}", venue="paper", market=MARKET,
                         **{"quantity": "10", **overrides})


def paper_case(*, restarts: bool) -> ConformanceCase:
    return ConformanceCase(
        market=MARKET,
        resting_request=_request("resting", limit_price="0.40"),  # type: ignore[arg-type]
        off_grid_request=_request("off-grid", limit_price="0.405"),  # type: ignore[arg-type]
        unknown_order_id="paper-000000000000000000000000",
        filling_request=_request("fills", limit_price="0.60",  # type: ignore[arg-type]
                                 time_in_force="IOC"),
        unfillable_fok_request=_request(  # type: ignore[arg-type]
            "fok", limit_price="0.53", quantity="5000", time_in_force="FOK"),
        no_request=_request("no", outcome="NO", limit_price="0.30"),  # type: ignore[arg-type]
        sell_request=_request("sell", side="SELL", limit_price="0.90"),  # type: ignore[arg-type]
        restarts=restarts,
    )


class TestPaperConformance(ExchangeConformance):
    @pytest.fixture
    def conformance_factory(self, tmp_path: Path) -> ExchangeFactory:
        return lambda: make_exchange(ExchangeSettings(name="paper", state_dir=str(tmp_path)))

    @pytest.fixture
    def conformance_case(self) -> ConformanceCase:
        return paper_case(restarts=True)


class TestPaperConformanceInMemory(TestPaperConformance):
    """Without a state folder the paper venue keeps nothing across instances, so the case
    does not claim restarts (the restart tests skip, saying why)."""

    @pytest.fixture
    def conformance_factory(self) -> ExchangeFactory:
        return lambda: make_exchange(ExchangeSettings(name="paper"))

    @pytest.fixture
    def conformance_case(self) -> ConformanceCase:
        return paper_case(restarts=False)
