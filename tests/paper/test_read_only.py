"""Commands documented as read-only never write the paper account or the journal.

The reproduction: a reader opens the account, an engine fills and saves, the reader exits.
Before read-only opening, the reader's exit saved its stale ledger over the engine's save
(cash restored, positions halved)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from arbexec_paper.exchange import PaperExchange
from arbexec_paper.store import state_path
from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.exchange import ExchangeSettings
from arbexec.model import OrderRequest

DEPLOYMENT = """
[journal]
path = "state/journal.sqlite3"

[venues.paper-a]
type = "paper"
seed = 3
cash = "500"
step_seconds = 0
"""
OPTIONS = {"seed": 3, "cash": "500", "step_seconds": 0}


def _buy(key: str, quantity: int = 50) -> OrderRequest:
    return OrderRequest(request_id=key, idempotency_key=key, venue="paper-a",
                        market="PAPER-ELECTION", outcome="YES", side="BUY",
                        quantity=quantity, limit_price="0.53")


def _digest(*paths: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists()}


async def test_a_reader_that_outlives_the_engines_save_changes_nothing(tmp_path):
    folder = str(tmp_path / "venues" / "paper-a")
    engine_side = PaperExchange(ExchangeSettings(name="paper-a", state_dir=folder,
                                                 options=OPTIONS))
    await engine_side.create_order(await engine_side.prepare_order(_buy("first")))
    engine_side.flush()
    reader = PaperExchange(ExchangeSettings(name="paper-a", state_dir=folder,
                                            options=OPTIONS, read_only=True))
    await reader.fetch_balance()
    await engine_side.create_order(await engine_side.prepare_order(_buy("second")))
    engine_side.flush()
    await reader.aclose()  # exits after the engine's last save
    await engine_side.aclose()

    after = PaperExchange(ExchangeSettings(name="paper-a", state_dir=folder, options=OPTIONS,
                                           read_only=True))
    try:
        positions = await after.fetch_positions()
        assert [p.quantity for p in positions] == [Decimal(100)]
        assert (await after.fetch_balance()).total == Decimal(500) - Decimal("53.00")
    finally:
        await after.aclose()


async def test_read_only_on_a_missing_account_creates_nothing(tmp_path):
    folder = tmp_path / "venues" / "paper-a"
    reader = PaperExchange(ExchangeSettings(name="paper-a", state_dir=str(folder),
                                            options=OPTIONS, read_only=True))
    assert (await reader.fetch_balance()).total == Decimal(500)
    await reader.aclose()
    assert not folder.exists()


@pytest.mark.parametrize("command", [
    ["balance"], ["positions"], ["book", "paper-a", "PAPER-ELECTION"],
    ["risk", "explain", json.dumps({"request_id": "x", "venue": "paper-a",
                                    "market": "PAPER-ELECTION", "outcome": "YES",
                                    "side": "BUY", "quantity": "5", "limit_price": "0.53"})],
    ["orders"], ["audit"], ["order", "status", "first"],
])
def test_read_only_commands_leave_journal_and_account_byte_identical(tmp_path, monkeypatch,
                                                                     command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOYMENT)
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps({"request_id": "first", "venue": "paper-a",
                                    "market": "PAPER-ELECTION", "outcome": "YES",
                                    "side": "BUY", "quantity": "50",
                                    "limit_price": "0.53"}) + "\n")
    runner = CliRunner()
    ran = runner.invoke(cli, ["-c", "deploy.toml", "run", str(requests)])
    assert ran.exit_code == 0, ran.output
    journal = tmp_path / "state" / "journal.sqlite3"
    account = state_path(tmp_path / "state" / "venues" / "paper-a", "paper-a")
    before = _digest(journal, account)
    assert set(before) == {journal.name, account.name}

    shown = runner.invoke(cli, ["-c", "deploy.toml", *command])
    assert shown.exit_code == 0, shown.output
    assert _digest(journal, account) == before
