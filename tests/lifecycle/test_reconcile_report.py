"""Positions and balances against the journal: agreement is silent, every gap is reported."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from arbexec_paper.exchange import PaperExchange

from arbexec.engine import Engine, EngineSettings
from arbexec.exchange import ExchangeSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.model import OrderRequest
from arbexec.reconcile_report import compare_holdings, full_report
from arbexec.sinks.hub import SinkHub


def venue() -> PaperExchange:
    return PaperExchange(ExchangeSettings(name="paper", options={
        "step_seconds": 0, "fees": "kalshi",
        "markets": {"M": {"mid": "0.50", "depth": [100, 200], "volatility": 0.0}}}))


def buy(key: str, quantity: int = 10, side: str = "BUY") -> OrderRequest:
    return OrderRequest(request_id=key, idempotency_key=key, venue="paper", market="M",
                        outcome="YES", side=side, quantity=quantity, limit_price="0.60"
                        if side == "BUY" else "0.40", time_in_force="IOC")


async def test_agreement_is_silent_and_outside_trades_are_reported(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    paper = venue()
    engine = Engine(journal=journal, venues={"paper": paper}, halt=JournalHaltFlag(journal),
                    hub=SinkHub([]), settings=EngineSettings(wait_budget=0.2))
    await engine.start()
    await paper.create_order(await paper.prepare_order(buy("before-arbexec", 3)))
    first = await compare_holdings(engine)
    assert [line["check"] for line in first] == ["baseline"]

    await engine.submit(buy("b1"))
    await engine.submit(buy("s1", 4, side="SELL"))
    assert await full_report(engine) == []  # fills and fees both sides agree

    # a trade the journal never saw: the position and the cash both disagree
    await paper.create_order(await paper.prepare_order(buy("outside", 5)))
    report = await compare_holdings(engine)
    checks = {line["check"]: line for line in report}
    assert set(checks) == {"position", "balance"}
    assert checks["position"]["journal"] == "9" and checks["position"]["venue_figure"] == "14"
    assert Decimal(checks["balance"]["journal"]) > Decimal(checks["balance"]["venue_figure"])

    # once explained, the venues' figures become the new baseline
    assert [line["check"] for line in await compare_holdings(engine, rebaseline=True)] == [
        "baseline"]
    assert await compare_holdings(engine) == []
    await engine.aclose()
    journal.close()
