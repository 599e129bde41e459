"""Bursts of 200 concurrent requests through the engine on the paper venue: every limit that
counts or spends holds, and sells are judged against the position held."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec.engine import Engine
from arbexec.engine.accounting import Accounting
from arbexec.engine.live import LiveOrder
from arbexec.ledger import InMemoryLedger
from arbexec.model import Fill, OrderRequest, OrderStatus
from arbexec.plugins import PluginHost
from arbexec.positions import PositionBook
from arbexec.risk.policy import load_policy
from tests.risk.test_engine_policies import engine_with, paper

BURST = 200


def policy(*tables: dict[str, Any]) -> Any:
    return load_policy(list(tables), available=PluginHost.create().risk_rules(), source="test")


def order(key: str, *, market: str = "PAPER-ELECTION", side: str = "BUY",
          quantity: str = "10", price: str = "0.60", tif: str = "IOC",
          **extra: Any) -> OrderRequest:
    return OrderRequest(request_id=key, idempotency_key=key, venue="paper", market=market,
                        outcome="YES", side=side, quantity=quantity, limit_price=price,
                        time_in_force=tif, **extra)


async def started(tmp_path: Path, rules: Any, ledger: InMemoryLedger | None = None,
                  **venue: Any) -> Engine:
    venue.setdefault("seed", 1)
    venue.setdefault("cash", "100000")
    engine = engine_with(tmp_path, rules, paper(tmp_path, **venue))
    if ledger is not None:
        engine.ledger = ledger
    await engine.start()
    return engine


def sent(results: list[Any]) -> list[Any]:
    return [r for r in results if r.status is not OrderStatus.DENIED]


async def test_a_burst_cannot_rest_more_orders_than_the_open_order_caps(tmp_path: Path) -> None:
    engine = await started(tmp_path, policy({"rule": "max_open_orders", "per_market": 3,
                                             "total": 5}), latency_ms=[1, 5])
    markets = ["PAPER-ELECTION", "PAPER-FED-CUT", "PAPER-BTC-100K", "PAPER-RAIN-NYC"]
    requests = [order(f"o{i}", market=markets[i % 4], quantity="1", price="0.05", tif="GTC")
                for i in range(BURST)]  # far below the market: they rest
    results = await asyncio.gather(*(engine.submit(r) for r in requests))
    open_orders = await engine.venues["paper"].fetch_open_orders()
    await engine.aclose()
    assert len(sent(results)) == 5
    assert len(open_orders) == 5
    per_market: dict[str, int] = {}
    for state in open_orders:
        per_market[state.market] = per_market.get(state.market, 0) + 1
    assert max(per_market.values()) <= 3


async def test_a_burst_cannot_pass_the_order_rate(tmp_path: Path) -> None:
    engine = await started(tmp_path, policy({"rule": "order_rate", "per_second": 5,
                                             "per_minute": 12}), latency_ms=[1, 5],
                           ledger=InMemoryLedger(clock=lambda: 0.0))  # time stands still
    results = await asyncio.gather(*(engine.submit(order(f"r{i}", quantity="1"))
                                     for i in range(BURST)))
    await engine.aclose()
    assert len(sent(results)) == 5
    assert {r.reason_code for r in results if r.status is OrderStatus.DENIED} == {
        "rate_per_second"}


async def test_a_burst_cannot_promise_more_cash_than_is_free(tmp_path: Path) -> None:
    engine = await started(tmp_path, policy({"rule": "available_balance",
                                             "include_fees": False}),
                           cash="100", latency_ms=[1, 5])
    # 200 buys of 5.00 each against 100 of cash: 20 fit; the venue refuses none
    results = await asyncio.gather(*(engine.submit(order(f"c{i}", quantity="10",
                                                         price="0.50", tif="GTC"))
                                     for i in range(BURST)))
    await engine.aclose()
    assert len(sent(results)) == 20
    assert not [r for r in results if r.status is OrderStatus.REJECTED]
    assert {r.reason_code for r in results if r.status is OrderStatus.DENIED} == {
        "insufficient_balance"}


async def test_a_sell_with_no_position_is_refused_under_an_exposure_limit(
        tmp_path: Path) -> None:
    engine = await started(tmp_path, policy({"rule": "max_exposure", "max_total": "100"}))
    result = await engine.submit(order("s1", side="SELL", quantity="10000", price="0.49"))
    opening = await engine.submit(order("s2", side="SELL", quantity="10000", price="0.49",
                                        tags={"allow_open": True}))
    await engine.aclose()
    assert result.status is OrderStatus.DENIED
    assert result.reason_code == "sell_exceeds_position"
    # allowed to open, it is charged 10,000 x 0.51 = 5,100: far past the limit
    assert opening.status is OrderStatus.DENIED and opening.reason_code == "exposure_total"


async def test_concurrent_sells_cannot_together_sell_more_than_is_held(tmp_path: Path) -> None:
    engine = await started(tmp_path, policy({"rule": "max_exposure", "max_total": "1000"}),
                           latency_ms=[1, 5])
    bought = await engine.submit(order("b1", quantity="10", price="0.60"))
    assert bought.status is OrderStatus.FILLED
    sells = [order(f"s{i}", side="SELL", quantity="4", price="0.30") for i in range(BURST)]
    results = await asyncio.gather(*(engine.submit(r) for r in sells))
    positions = await engine.venues["paper"].fetch_positions()
    await engine.aclose()
    assert len(sent(results)) == 2  # 4 + 4 <= 10 < 12
    assert {r.reason_code for r in results if r.status is OrderStatus.DENIED} == {
        "sell_exceeds_position"}
    assert all(p.quantity >= 0 for p in positions)


async def test_sells_of_held_contracts_pass_after_the_daily_loss_halted_buys(
        tmp_path: Path) -> None:
    engine = await started(tmp_path, policy({"rule": "daily_loss", "max_loss": "0.05"}))
    assert (await engine.submit(order("b1", quantity="20", price="0.60"))).status is \
        OrderStatus.FILLED
    lost = await engine.submit(order("s1", side="SELL", quantity="10", price="0.30"))
    assert lost.status is OrderStatus.FILLED  # bought at the ask, sold at the bid
    assert lost.average_price is not None and bought_at(engine) > lost.average_price
    buy = await engine.submit(order("b2", quantity="1"))
    closing = await engine.submit(order("s2", side="SELL", quantity="10", price="0.30"))
    opening = await engine.submit(order("s3", side="SELL", quantity="5", price="0.30",
                                        tags={"allow_open": True}))
    await engine.aclose()
    assert buy.status is OrderStatus.DENIED and buy.reason_code == "daily_loss_limit"
    assert closing.status is OrderStatus.FILLED  # reduces risk: passes
    assert opening.status is OrderStatus.DENIED and opening.reason_code == "daily_loss_limit"


def bought_at(engine: Engine) -> Decimal:
    row = engine.journal.get("b1")
    assert row is not None and row.average_price is not None
    return row.average_price


async def test_an_opening_sell_stands_as_exposure_once_filled() -> None:
    """The paper venue does not sell short, so the engine's accounting is driven directly
    with what a venue that does (Kalshi's single YES book) reports: 10 held, 100 sold at
    0.40: 10 close the position, 90 open NO at 0.60 each, 54.00 standing once final."""
    ledger = InMemoryLedger()
    accounting = Accounting(ledger, PositionBook(), {})
    buy = live_order("b1", "BUY", "10", "0.40")
    await accounting.book(buy, [Fill(trade_id="t0", quantity="10", price="0.40")])
    await accounting.settle(buy)
    sell = live_order("s1", "SELL", "100", "0.40", allow_open=True)
    ledger.reserve_now("s1", [])
    await accounting.book(sell, [Fill(trade_id="t1", quantity="60", price="0.40"),
                                 Fill(trade_id="t2", quantity="40", price="0.40")])
    await accounting.settle(sell)
    assert ledger.exposure_now("total") == Decimal("54.00")
    assert ledger.exposure_now("market:paper:PAPER-ELECTION") == Decimal("54.00")
    assert sell.opened == Decimal("54.00")


def live_order(key: str, side: str, quantity: str, price: str, **tags: Any) -> LiveOrder:
    return LiveOrder(key=key, request=order(key, side=side, quantity=quantity, price=price,
                                           tags=tags), identity=key, venue_order_id=key,
                     status=OrderStatus.FILLED, started=0.0)


async def test_a_burst_to_a_venue_that_fails_every_call_sends_at_most_the_threshold(
        tmp_path: Path) -> None:
    engine = await started(tmp_path, policy({"rule": "circuit_breaker",
                                             "consecutive_failures": 5}),
                           outage=True, latency_ms=[1, 5])
    results = await asyncio.gather(*(engine.submit(order(f"f{i}", quantity="1"))
                                     for i in range(20)))
    await engine.aclose()
    assert all(r.reason_code != "risk_data_unavailable" for r in results)  # they were sent
    assert len(sent(results)) <= 5
