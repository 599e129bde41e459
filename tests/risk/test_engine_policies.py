"""Policies in the engine, against the paper venue: swapping policies changes outcomes,
exposure limits hold under concurrency, the breaker opens, probes and closes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec.engine import Engine, EngineSettings
from arbexec.exchange import ExchangeSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest, OrderStatus
from arbexec.plugins import PluginHost
from arbexec.risk.policy import load_policy, load_policy_file
from arbexec.sinks.hub import SinkHub

REPO = Path(__file__).resolve().parents[2]
WEDNESDAY_NOON_NY = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)


def paper(tmp_path: Path, **options: Any) -> Any:
    spec = PluginHost.create().require("exchange", "paper")
    return spec.factory(ExchangeSettings(name="paper", options=options,
                                         state_dir=str(tmp_path / "paper")))


def engine_with(tmp_path: Path, policy: Any, venue: Any, clock: Any = None) -> Engine:
    journal = Journal.open(tmp_path / f"j-{id(policy)}.sqlite3")
    return Engine(journal=journal, venues={"paper": venue}, halt=JournalHaltFlag(journal),
                  hub=SinkHub([]), policy=policy,
                  settings=EngineSettings(wait_budget=0.0, background_tracking=False),
                  clock=clock or (lambda: WEDNESDAY_NOON_NY))


def stream() -> list[OrderRequest]:
    """The same requests for both policies: a mix a strategy might send."""
    rows = [
        ("s1", "PAPER-ELECTION", "YES", "10", "0.54", "0.54", "0.60"),
        ("s2", "PAPER-FED-CUT", "NO", "300", "0.70", "0.69", "0.75"),  # big
        ("s3", "PAPER-BTC-100K", "YES", "20", "0.24", None, None),  # no reference price
        ("s4", "PAPER-RAIN-NYC", "YES", "5", "0.90", "0.66", "0.95"),  # far from the book
        ("s5", "PAPER-WORLD-CUP", "YES", "8", "0.81", "0.80", "0.90"),
    ]
    return [OrderRequest(request_id=r, idempotency_key=r, venue="paper", market=m, outcome=o,
                         side="BUY", quantity=q, limit_price=p, time_in_force="IOC",
                         reference_price=ref, expected_value=ev)
            for r, m, o, q, p, ref, ev in rows]


async def run_policy(tmp_path: Path, name: str) -> dict[str, tuple[str, str | None]]:
    host = PluginHost.create()
    policy = load_policy_file(REPO / "examples" / "policies" / f"{name}.toml",
                              available=host.risk_rules())
    venue = paper(tmp_path / name, seed=5, cash="100000")
    engine = engine_with(tmp_path, policy, venue)
    await engine.start()
    results = {}
    for request in stream():
        result = await engine.submit(request)
        results[request.request_id] = (result.status.value, result.reason_code)
    await engine.aclose()
    return results


async def test_the_same_stream_under_two_policies_gives_different_explained_results(
    tmp_path: Path,
) -> None:
    conservative = await run_policy(tmp_path, "conservative")
    permissive = await run_policy(tmp_path, "permissive")
    assert conservative != permissive
    assert all(status == "FILLED" for status, _ in permissive.values()), permissive
    assert conservative == {
        "s1": ("FILLED", None),  # within every conservative limit
        "s2": ("DENIED", "quantity_above_max"),  # 300 contracts > 200
        "s3": ("DENIED", "no_reference_price"),  # conservative wants the signal's price
        "s4": ("DENIED", "price_outside_band"),  # 0.90 is far from the book
        "s5": ("DENIED", "slippage_reference"),  # 0.81 is 1.25% past 0.80; the limit is 1%
    }


async def test_concurrent_requests_cannot_together_exceed_the_exposure_limit(
    tmp_path: Path,
) -> None:
    host = PluginHost.create()
    policy = load_policy([{"rule": "max_exposure", "max_total": "50"}],
                         available=host.risk_rules(), source="test")
    venue = paper(tmp_path, seed=1, cash="100000", latency_ms=[1, 5])
    engine = engine_with(tmp_path, policy, venue)
    await engine.start()
    requests = [OrderRequest(request_id=f"c{i}", idempotency_key=f"c{i}", venue="paper",
                             market="PAPER-ELECTION", outcome="YES", side="BUY",
                             quantity="10", limit_price="0.60", time_in_force="GTC")
                for i in range(40)]
    results = await asyncio.gather(*(engine.submit(r) for r in requests))
    await engine.aclose()
    sent = [r for r in results if r.status is not OrderStatus.DENIED]
    assert len(sent) == 8  # 8 x 6.00 = 48 <= 50 < 54
    assert sum(r.quantity * r.limit_price for r in sent) <= Decimal(50)  # type: ignore[operator]
    assert {r.reason_code for r in results if r.status is OrderStatus.DENIED} == {
        "exposure_total"}


async def test_the_breaker_opens_probes_and_closes_with_the_paper_reject_switch(
    tmp_path: Path,
) -> None:
    host = PluginHost.create()
    policy = load_policy([{"rule": "circuit_breaker", "max_reject_rate": "0.5",
                           "min_orders": 3, "window_seconds": 60, "cooldown_seconds": 30}],
                         available=host.risk_rules(), source="test")
    venue = paper(tmp_path, seed=2, cash="100000", reject_rate=1.0)
    now = [WEDNESDAY_NOON_NY]
    engine = engine_with(tmp_path, policy, venue, clock=lambda: now[0])
    await engine.start()

    def request(i: int) -> OrderRequest:
        return OrderRequest(request_id=f"b{i}", idempotency_key=f"b{i}", venue="paper",
                            market="PAPER-ELECTION", outcome="YES", side="BUY", quantity="1",
                            limit_price="0.60", time_in_force="IOC")

    statuses = [(await engine.submit(request(i))).status for i in range(4)]
    assert statuses[:3] == [OrderStatus.REJECTED] * 3
    assert statuses[3] is OrderStatus.DENIED  # open: nothing reaches the failing venue
    now[0] += timedelta(seconds=31)
    venue.switches.reject_rate = 0.0  # the venue recovers
    probe = await engine.submit(request(10))
    assert probe.status is OrderStatus.FILLED  # the half-open probe passes ...
    after = await engine.submit(request(11))
    assert after.status is OrderStatus.FILLED  # ... and its success closes the breaker
    await engine.aclose()
    transitions = [(e.data["from"], e.data["to"]) for _, e in
                   engine.journal.events(kinds=["risk.breaker"])]
    assert transitions == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


async def test_exposure_and_positions_survive_a_restart(tmp_path: Path) -> None:
    host = PluginHost.create()
    policy_tables = [{"rule": "max_exposure", "max_total": "50"}]

    def make_engine() -> Engine:
        policy = load_policy(policy_tables, available=host.risk_rules(), source="test")
        journal = Journal.open(tmp_path / "journal.sqlite3")
        return Engine(journal=journal, venues={"paper": paper(tmp_path, seed=1, cash="1000")},
                      halt=JournalHaltFlag(journal), hub=SinkHub([]), policy=policy,
                      settings=EngineSettings(wait_budget=0.0, background_tracking=False))

    def buy(key: str, side: str = "BUY", quantity: str = "10") -> OrderRequest:
        price = "0.55" if side == "BUY" else "0.40"  # marketable either way
        return OrderRequest(request_id=key, idempotency_key=key, venue="paper",
                            market="PAPER-ELECTION", outcome="YES", side=side,
                            quantity=quantity, limit_price=price, time_in_force="IOC")

    first = make_engine()
    await first.start()
    filled = [await first.submit(buy(f"k{i}")) for i in range(4)]
    assert all(r.status is OrderStatus.FILLED for r in filled)
    await first.aclose()
    first.journal.close()

    second = make_engine()
    await second.start()
    held = second.ledger.exposure_now("total")  # type: ignore[attr-defined]
    assert held == sum(r.filled_quantity * r.average_price for r in filled)  # type: ignore[misc]
    over = await second.submit(buy("k-over", quantity="60"))  # 33 more: past 50
    assert over.status is OrderStatus.DENIED and over.reason_code == "exposure_total"
    sold = await second.submit(buy("k-sell", side="SELL", quantity="40"))
    assert sold.status is OrderStatus.FILLED
    assert second.ledger.exposure_now("total") == 0  # type: ignore[attr-defined]
    again = await second.submit(buy("k-again", quantity="60"))
    assert again.status is OrderStatus.FILLED  # closing the position freed the headroom
    await second.aclose()
    second.journal.close()


async def test_a_shared_ledger_that_cannot_answer_denies_with_its_reason(
    tmp_path: Path,
) -> None:
    """No new risk while a shared ledger's store is away: denied with the reason, nothing
    sent, and the rules' own reservations given back."""
    from arbexec.ledger import InMemoryLedger, LedgerUnavailable

    class Away(InMemoryLedger):
        async def try_reserve(self, holder: str, claims: Any) -> Any:
            raise LedgerUnavailable("the shared ledger at redis://h:6379 is unreachable")

    host = PluginHost.create()
    policy = load_policy([{"rule": "max_exposure", "max_total": "50"}],
                         available=host.risk_rules(), source="test")
    venue = paper(tmp_path, seed=1, cash="100000")
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = Engine(journal=journal, venues={"paper": venue}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([]), policy=policy, ledger=Away(),
                    settings=EngineSettings(wait_budget=0.0, background_tracking=False))
    await engine.start()
    result = await engine.submit(stream()[0])
    await engine.aclose()
    assert result.status is OrderStatus.DENIED and result.reason_code == "ledger_unavailable"
    assert "unreachable" in (result.reason or "") and "nothing was sent" in (result.reason or "")
    assert result.venue_order_id is None
