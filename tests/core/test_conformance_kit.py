"""The conformance kit fails venues that break the contract: one that forgets its orders on
a restart, one that answers a NO order with its YES mirror, one that sells when asked to buy
back, one that fills a fill-or-kill in part; and it runs without asyncio_mode=auto."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest
from arbexec_paper.exchange import make_exchange

from arbexec.exchange import ExchangeSettings
from arbexec.model import OrderStatus, Outcome, Side, TimeInForce
from arbexec.testing.conformance import ExchangeConformance, ExchangeFactory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "paper"))
from test_conformance import paper_case

SUITE = ExchangeConformance()
FAILED = pytest.fail.Exception


class Wrapped:
    """A paper venue with one deliberate defect in ``answer`` (applied to every state)."""

    def __init__(self, inner: Any, answer: Any = None, prepare: Any = None) -> None:
        self._inner, self._answer, self._prepare = inner, answer, prepare

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def prepare_order(self, request: Any) -> Any:
        return await self._inner.prepare_order(self._prepare(request) if self._prepare
                                               else request)

    async def create_order(self, order: Any) -> Any:
        state = await self._inner.create_order(order)
        return self._answer(state) if self._answer else state

    async def fetch_order(self, venue_order_id: str) -> Any:
        state = await self._inner.fetch_order(venue_order_id)
        return self._answer(state) if self._answer else state

    async def fetch_open_orders(self, market: str | None = None) -> Any:
        states = await self._inner.fetch_open_orders(market)
        return [self._answer(s) if self._answer else s for s in states]


def _persistent(tmp_path: Path, **defect: Any) -> ExchangeFactory:
    return lambda: Wrapped(make_exchange(ExchangeSettings(name="paper",
                                                          state_dir=str(tmp_path))), **defect)


def test_a_venue_that_forgets_its_orders_on_restart_fails_the_restart_tests() -> None:
    forgetful = lambda: make_exchange(ExchangeSettings(name="paper"))  # noqa: E731
    case = paper_case(restarts=True)  # it claims restarts but keeps orders in memory
    with pytest.raises(FAILED, match="after a restart the venue does not know order"):
        SUITE.test_a_restart_keeps_the_orders(forgetful, case)
    with pytest.raises(FAILED, match="after a restart the venue cannot find the order"):
        SUITE.test_an_order_whose_answer_was_lost_is_found_by_its_identity(forgetful, case)


def test_the_same_venue_with_its_state_kept_passes_them(tmp_path: Path) -> None:
    keeps = lambda: make_exchange(ExchangeSettings(name="paper",  # noqa: E731
                                                   state_dir=str(tmp_path)))
    case = paper_case(restarts=True)
    SUITE.test_a_restart_keeps_the_orders(keeps, case)
    SUITE.test_an_order_whose_answer_was_lost_is_found_by_its_identity(keeps, case)


def test_a_no_order_answered_with_its_yes_mirror_fails(tmp_path: Path) -> None:
    def mirrored(state: Any) -> Any:
        if state.outcome is Outcome.NO:
            return attrs.evolve(state, limit_price=1 - state.limit_price)
        return state

    with pytest.raises(AssertionError, match="must not come back as its YES mirror"):
        SUITE.test_a_no_order_keeps_its_outcome_and_price(
            _persistent(tmp_path, answer=mirrored), paper_case(restarts=True))


def test_a_sell_answered_as_a_buy_fails(tmp_path: Path) -> None:
    def as_buy(state: Any) -> Any:
        return attrs.evolve(state, side=Side.BUY) if state.side is Side.SELL else state

    with pytest.raises(AssertionError, match="asked to SELL, the venue's answer says BUY"):
        SUITE.test_a_sell_keeps_its_side_and_floor(
            _persistent(tmp_path, answer=as_buy), paper_case(restarts=True))


def test_a_fill_or_kill_that_fills_in_part_fails(tmp_path: Path) -> None:
    def as_ioc(request: Any) -> Any:  # the venue treats FOK as IOC
        if request.time_in_force is TimeInForce.FOK:
            return attrs.evolve(request, time_in_force=TimeInForce.IOC)
        return request

    def keep_fok(state: Any) -> Any:
        return state

    with pytest.raises(AssertionError, match="a fill-or-kill filled in part"):
        SUITE.test_a_fill_or_kill_the_book_cannot_fill_fills_nothing(
            _persistent(tmp_path, prepare=as_ioc, answer=keep_fok),
            paper_case(restarts=True))


def test_an_order_that_does_not_fill_fails_the_fill_test(tmp_path: Path) -> None:
    def nothing_filled(state: Any) -> Any:
        return attrs.evolve(state, filled_quantity=0, average_price=None, fills=(),
                            status=OrderStatus.CANCELLED)

    with pytest.raises(AssertionError, match="a crossing order fills"):
        SUITE.test_a_crossing_order_fills_with_fees_and_a_position(
            _persistent(tmp_path, answer=nothing_filled), paper_case(restarts=True))


def test_the_kit_runs_in_pytest_asyncio_strict_mode(tmp_path: Path) -> None:
    """A plugin's project need not set asyncio_mode=auto: the suite is synchronous."""
    (tmp_path / "test_venue.py").write_text(textwrap.dedent('''
        import pytest
        from arbexec_paper.exchange import make_exchange

        from arbexec.api import ExchangeSettings
        from arbexec.testing.conformance import ConformanceCase, ExchangeConformance
        from arbexec.testing.requests import order_request


        class TestPaper(ExchangeConformance):
            @pytest.fixture
            def conformance_factory(self, tmp_path):
                return lambda: make_exchange(ExchangeSettings(name="paper",
                                                              state_dir=str(tmp_path)))

            @pytest.fixture
            def conformance_case(self):
                def r(key, **kw):
                    return order_request(key, venue="paper", market="PAPER-ELECTION",
                                         quantity="10", **kw)
                return ConformanceCase(
                    market="PAPER-ELECTION", resting_request=r("c-rest", limit_price="0.40"),
                    off_grid_request=r("c-off", limit_price="0.405"),
                    unknown_order_id="paper-000000000000000000000000",
                    filling_request=r("c-fill", limit_price="0.60", time_in_force="IOC"),
                    restarts=True)
    '''))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-o", "asyncio_mode=strict",
                          "-p", "no:cacheprovider", "-p", "no:randomly", "test_venue.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "13 passed, 3 skipped" in run.stdout, run.stdout
