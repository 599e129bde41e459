"""The journal: unique keys, write-ahead intent, denials, fills, halt flag, engine lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from arbexec.errors import JournalLockedError
from arbexec.journal import Journal
from arbexec.model import Fill, OrderRequest, OrderStatus


def request(key: str = "k1", **overrides: object) -> OrderRequest:
    values: dict[str, object] = dict(request_id="r1", idempotency_key=key, venue="v", market="M",
                                     outcome="YES", side="BUY", quantity="10", limit_price="0.4")
    values.update(overrides)
    return OrderRequest(**values)  # type: ignore[arg-type]


def test_the_journal_runs_in_wal_mode(journal: Journal, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_idempotency_key_is_taken_once(journal: Journal) -> None:
    assert journal.record_intent(request(), identity="id-1", venue_order_id="id-1") is None
    existing = journal.record_intent(request(quantity="99"), identity="id-2", venue_order_id=None)
    assert existing is not None
    assert existing.identity == "id-1" and existing.quantity == Decimal(10)


def test_a_denial_is_superseded_but_never_overwrites_an_order(journal: Journal) -> None:
    assert journal.record_denial(request(), code="halted", reason="halted") is None
    assert journal.get("k1").status is OrderStatus.DENIED  # type: ignore[union-attr]
    assert journal.record_intent(request(), identity="id-1", venue_order_id=None) is None
    assert journal.get("k1").status is OrderStatus.PENDING  # type: ignore[union-attr]
    taken = journal.record_denial(request(), code="risk", reason="no")
    assert taken is not None and taken.status is OrderStatus.PENDING


def test_fills_are_deduplicated_by_trade_id_and_finality_only_rises(journal: Journal) -> None:
    journal.record_intent(request(), identity="id", venue_order_id="id")
    provisional = Fill(trade_id="t1", quantity="4", price="0.4", final=False)
    journal.record_state("k1", status=OrderStatus.PARTIALLY_FILLED, fills=[provisional])
    journal.record_state("k1", status=OrderStatus.PARTIALLY_FILLED, fills=[provisional])
    final = Fill(trade_id="t1", quantity="4", price="0.4", final=True)
    journal.record_state("k1", status=OrderStatus.PARTIALLY_FILLED, fills=[final])
    journal.record_state("k1", status=OrderStatus.PARTIALLY_FILLED, fills=[provisional])
    fills = journal.fills("k1")
    assert len(fills) == 1 and fills[0].final


def test_the_halt_flag_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    first = Journal.open(path)
    first.set_halt(True, reason="drill", by="ops")
    first.close()
    second = Journal.open(path)
    state = second.halt_state()
    second.close()
    assert state.halted and state.reason == "drill"


def test_a_second_engine_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from arbexec.journal import Journal; j=Journal.open(sys.argv[1]); "
         "j.lock_for_engine(); print('locked', flush=True); time.sleep(30)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = Journal.open(path)
        with pytest.raises(JournalLockedError, match=f"process {holder.pid}"):
            second.lock_for_engine()
        second.close()
    finally:
        holder.kill()
        holder.wait()
    third = Journal.open(path)
    third.lock_for_engine()  # the OS released the dead holder's lock
    third.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='999' WHERE key='schema'")
    db.commit()
    db.close()
    from arbexec.errors import JournalError

    with pytest.raises(JournalError, match="newer arbexec"):
        Journal.open(path)
