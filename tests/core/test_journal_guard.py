"""The journal and its lock under a careless operator: deleted, replaced, a full disk, a
deleted lock file, and the lock error's own advice followed."""

from __future__ import annotations

import json
import logging
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbexec.app import open_runtime
from arbexec.cli import cli
from arbexec.config import parse_deployment
from arbexec.errors import JournalLockedError, JournalUnusable, UserError
from arbexec.journal import Journal
from arbexec.journal.unit_of_work import UnitOfWork
from arbexec.model import OrderRequest, OrderStatus
from arbexec.plugins import PluginHost

DEPLOYMENT = """
[journal]
path = "state/journal.sqlite3"
[engine]
wait_budget = 0.2
max_in_flight = 1  # one commit per request, so a fault lands mid-run
[venues.paper]
type = "paper"
seed = 5
step_seconds = 0
"""


def buy(key: str) -> OrderRequest:
    return OrderRequest(request_id=key, idempotency_key=key, venue="paper",
                        market="PAPER-ELECTION", outcome="YES", side="BUY", quantity=1,
                        limit_price="0.95", time_in_force="IOC")


def lines(count: int, prefix: str = "r") -> str:
    return "".join(json.dumps({"request_id": f"{prefix}{i}", "venue": "paper",
                               "market": "PAPER-ELECTION", "outcome": "YES", "side": "BUY",
                               "quantity": "1", "limit_price": "0.95",
                               "time_in_force": "IOC"}) + "\n" for i in range(count))


def remove_journal(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def runtime(tmp_path: Path, journal: str = "state/journal.sqlite3"):
    deployment = parse_deployment(tomllib.loads(DEPLOYMENT), source=str(tmp_path / "deploy.toml"),
                                  base_dir=tmp_path)
    return open_runtime(deployment, PluginHost.create(), quiet=True,
                        journal_path=tmp_path / journal)


# ---------------------------------------------------------------------------- the lock


def test_deleting_the_lock_file_does_not_let_a_second_engine_in(tmp_path: Path) -> None:
    first = Journal.open(tmp_path / "j.sqlite3")
    first.lock_for_engine()
    Path(f"{tmp_path / 'j.sqlite3'}.lock").unlink()
    second = Journal.open(tmp_path / "j.sqlite3")
    try:
        with pytest.raises(JournalLockedError, match="is in use by another engine") as refused:
            second.lock_for_engine()
        assert "--journal" not in str(refused.value)  # the advice that led to sharing
    finally:
        second.close()
        first.close()
    again = Journal.open(tmp_path / "j.sqlite3")  # released with its engine
    again.lock_for_engine()
    again.close()


async def test_following_the_lock_errors_advice_cannot_share_a_paper_account(tmp_path):
    first = runtime(tmp_path)
    try:
        with pytest.raises(UserError, match="is in use by another engine"):
            runtime(tmp_path)
        with pytest.raises(UserError, match=r"paper account .* is in use by another engine"):
            runtime(tmp_path, "state/other-journal.sqlite3")
    finally:
        await first.aclose()


# ---------------------------------------------------------------------------- vanished


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_a_journal_that_vanishes_stops_new_risk_and_says_so_once(tmp_path, caplog, how):
    running = runtime(tmp_path)
    path = running.journal.path
    try:
        await running.engine.start()
        assert (await running.engine.submit(buy("before"))).status is OrderStatus.FILLED
        remove_journal(path)
        if how == "replaced":
            Journal.open(path).close()
        with caplog.at_level(logging.ERROR, logger="arbexec.journal"):
            after = [await running.engine.submit(buy(f"after-{i}")) for i in range(5)]
        assert {r.status for r in after} == {OrderStatus.DENIED}
        assert {r.reason_code for r in after} == {"journal_lost"}
        assert how in after[0].reason and "nothing was sent" in after[0].reason
        assert len([r for r in caplog.records if "journal" in r.getMessage()]) == 1
        venue = running.venues["paper"]
        assert len(await venue.fetch_positions()) == 1  # only the order sent before
    finally:
        await running.aclose()


def test_a_run_whose_journal_vanishes_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOYMENT)
    (tmp_path / "requests.jsonl").write_text(lines(40))
    original = Journal.record_intents
    calls = {"n": 0}

    def record_intents(self, intents):
        calls["n"] += 1
        if calls["n"] == 3:
            remove_journal(self.path)
        return original(self, intents)

    monkeypatch.setattr(Journal, "record_intents", record_intents)
    ran = CliRunner().invoke(cli, ["-c", "deploy.toml", "--json", "run", "requests.jsonl"])
    assert ran.exit_code == 1, ran.output
    summary = json.loads(ran.output.strip().splitlines()[-1])["summary"]
    assert "deleted" in summary["journal_problem"]
    assert summary["statuses"]["FILLED"] >= 2 and summary["statuses"]["DENIED"] >= 1
    assert summary["requests"] == 40
    assert "its state is in the journal" not in ran.output


def test_a_rerun_on_a_fresh_journal_adopts_what_the_venue_filled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOYMENT)
    (tmp_path / "requests.jsonl").write_text(lines(30))
    runner = CliRunner()
    first = runner.invoke(cli, ["-c", "deploy.toml", "--json", "run", "requests.jsonl"])
    assert first.exit_code == 0, first.output
    remove_journal(tmp_path / "state" / "journal.sqlite3")
    again = runner.invoke(cli, ["-c", "deploy.toml", "--json", "run", "requests.jsonl"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output.strip().splitlines()[-1])["summary"]
    assert summary["statuses"] == {"FILLED": 30}
    assert "duplicate_order" not in again.output


# ---------------------------------------------------------------------------- disk full


def test_a_full_database_is_one_clear_error(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    journal.lock_for_engine()
    pages = journal._db.execute("PRAGMA page_count").fetchone()[0]
    journal._db.execute(f"PRAGMA max_page_count={pages}")  # the file cannot grow: full
    try:
        with pytest.raises(JournalUnusable, match="disk is full") as full:
            for i in range(200):
                journal.record_intent(buy(f"k{i}"), identity=f"id-{i}", venue_order_id=None)
        assert full.value.code == "journal_full"
        assert journal.unusable is full.value
        with pytest.raises(JournalUnusable):  # sticky: no new orders on this journal
            journal.record_intent(buy("later"), identity="later", venue_order_id=None)
    finally:
        journal._db.execute("PRAGMA max_page_count=1073741823")
        journal.close()


def test_a_run_on_a_full_disk_says_so_once_and_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOYMENT)
    (tmp_path / "requests.jsonl").write_text(lines(300))
    original = UnitOfWork._transaction
    seen = {"n": 0}

    def transaction(self):
        seen["n"] += 1
        if seen["n"] > 6:
            raise sqlite3.OperationalError("database or disk is full")
        return original(self)

    monkeypatch.setattr(UnitOfWork, "_transaction", transaction)
    messages: list[str] = []
    monkeypatch.setattr(logging.getLogger("arbexec.journal"), "error",
                        lambda msg, *args: messages.append(msg % args))
    ran = CliRunner().invoke(cli, ["-c", "deploy.toml", "--json", "run", "requests.jsonl"])
    assert ran.exit_code == 1, ran.output
    assert len(messages) == 1 and "disk is full" in messages[0]
    summary = json.loads(ran.output.strip().splitlines()[-1])["summary"]
    assert "disk is full" in summary["journal_problem"]
    assert summary["requests"] == 300
    assert "its state is in the journal" not in ran.output
    assert "Traceback" not in ran.output
