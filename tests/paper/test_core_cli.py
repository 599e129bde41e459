"""``arbexec paper ...`` under the core command: the venue is found through the deployment."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from arbexec_paper.exchange import PaperExchange
from click.testing import CliRunner

from arbexec.exchange import ExchangeSettings
from arbexec.model import OrderRequest

core_cli = pytest.importorskip("arbexec.cli")

DEPLOYMENT = """
[journal]
path = "state/journal.sqlite3"

[venues.paper-a]
type = "paper"
seed = 3
cash = "500"
"""


async def buy_election(state_dir: str) -> None:
    venue = PaperExchange(ExchangeSettings(name="paper-a", state_dir=state_dir,
                                           options={"seed": 3, "cash": "500"}))
    request = OrderRequest(request_id="r", idempotency_key="k", venue="paper-a",
                           market="PAPER-ELECTION", outcome="YES", side="BUY", quantity=100,
                           limit_price="0.53")
    await venue.create_order(await venue.prepare_order(request))
    await venue.aclose()


def test_resolve_through_the_deployment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOYMENT)
    asyncio.run(buy_election(str(tmp_path / "state" / "venues" / "paper-a")))

    runner = CliRunner()
    shown = runner.invoke(core_cli.cli, ["-c", "deploy.toml", "paper", "account", "paper-a"])
    assert shown.exit_code == 0, shown.output
    assert "PAPER-ELECTION YES: 100 @ 0.53" in shown.output

    result = runner.invoke(core_cli.cli, ["-c", "deploy.toml", "paper", "resolve", "paper-a",
                                          "PAPER-ELECTION", "NO"])
    assert result.exit_code == 0, result.output
    assert f"paid $0; cash ${Decimal(500) - Decimal(53)}" in result.output

    missing = runner.invoke(core_cli.cli, ["-c", "deploy.toml", "paper", "account", "paper-z"])
    assert missing.exit_code != 0 and "no paper venue named 'paper-z'" in missing.output
