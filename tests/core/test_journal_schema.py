"""The journal's schema version, migrations, deferral and public names."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

import arbexec
from arbexec.errors import JournalError
from arbexec.events import Event
from arbexec.journal import SCHEMA_VERSION, Journal
from arbexec.model import OrderRequest, OrderStatus

REPO = Path(__file__).resolve().parents[2]


def request(key: str = "k1") -> OrderRequest:
    return OrderRequest(request_id="r1", idempotency_key=key, venue="v", market="M",
                        outcome="YES", side="BUY", quantity="10", limit_price="0.4",
                        tags={"strategy": "s"})


def meta(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())
    finally:
        db.close()


def rewrite(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def test_a_new_journal_records_its_schema_and_the_release_that_wrote_it(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal.open(path).close()
    assert meta(path) == {"schema": str(SCHEMA_VERSION), "written_by": arbexec.__version__}


def test_a_schema_1_journal_is_migrated_and_keeps_its_orders(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    journal.record_intent(request(), identity="id-1", venue_order_id="id-1")
    journal.close()
    # What a schema-1 journal is: the same tables, and a version row with nothing else.
    rewrite(path, "UPDATE meta SET value='1' WHERE key='schema'",
            "DELETE FROM meta WHERE key='written_by'")

    journal = Journal.open(path)
    row = journal.get("k1")
    journal.close()
    assert row is not None and row.identity == "id-1"
    assert row.to_request().tags == {"strategy": "s"}
    found = meta(path)
    assert found["schema"] == str(SCHEMA_VERSION)
    assert "migrated from schema 1" in found["written_by"]


def test_a_journal_from_a_newer_release_is_refused_naming_both_and_left_alone(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal.open(path).close()
    rewrite(path, "UPDATE meta SET value='999' WHERE key='schema'",
            "UPDATE meta SET value='9.9.9' WHERE key='written_by'",
            "DROP TABLE halt")  # a newer release might have replaced it

    with pytest.raises(JournalError) as info:
        Journal.open(path)
    message = str(info.value)
    assert "\n" not in message
    assert "9.9.9" in message and "schema 999" in message
    assert f"arbexec {arbexec.__version__} (schema {SCHEMA_VERSION})" in message
    assert "upgrade arbexec" in message and "--journal" in message
    db = sqlite3.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert "halt" not in tables  # nothing was created in the newer journal


def test_the_cli_reports_a_newer_journal_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal.open(path).close()
    rewrite(path, "UPDATE meta SET value='999' WHERE key='schema'")
    done = subprocess.run([str(REPO / ".venv" / "bin" / "arbexec"), "--journal", str(path),
                           "orders"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "newer arbexec" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_deferred_writes_survive_a_transaction_that_fails(journal: Journal) -> None:
    journal.record_intent(request(), identity="id-1", venue_order_id="id-1")
    journal.record_state("k1", status=OrderStatus.OPEN, defer=True)
    with pytest.raises(TypeError):
        journal.append_events([Event(kind="note", data={"bad": object()})])
    row = journal.get("k1")
    assert row is not None and row.status is OrderStatus.OPEN


def test_every_name_the_old_journal_module_offered_is_still_importable() -> None:
    import arbexec.journal as journal

    for name in ("Journal", "JournalRow", "Intent", "HaltState", "EngineLock", "NON_FINAL",
                 "SCHEMA_VERSION", "dumps", "request_to_dict", "order_state_summary"):
        assert hasattr(journal, name), name


def test_journal_modules_are_small() -> None:
    for module in sorted((REPO / "arbexec" / "journal").glob("*.py")):
        lines = len(module.read_text().splitlines())
        assert lines <= 400, f"{module.name} has {lines} lines"
