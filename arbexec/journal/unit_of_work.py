"""Transactions, group commit and deferral: the only code that says BEGIN and COMMIT.

Every write is a list of statements run in one ``BEGIN IMMEDIATE`` transaction. A write
may instead be *deferred*: queued to ride on the next transaction (a later write-ahead
intent, ``flush()``, or any read). Deferral is for states that follow a committed intent:
a crash before the commit leaves the order in flight, and reconciliation takes the venue's
word for it. Deferred statements are kept until a transaction carrying them commits; a
transaction that fails for any reason puts them back.

A full disk (SQLite's ``SQLITE_FULL``, or an I/O error writing the file) becomes one
``JournalUnusable``, remembered in ``failure`` and logged once: the engine refuses new
orders from then on, and the caller is told the truth instead of a raw SQLite error.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from attrs import define, field

from arbexec.errors import JournalUnusable

Statement = tuple[str, Sequence[Any]]
#: A write that must read the database as it stands when it runs (the running summaries).
Step = Callable[[sqlite3.Connection], None]
Write = Statement | Step
log = logging.getLogger("arbexec.journal")

_SQLITE_IOERR, _SQLITE_FULL = 10, 13


def unwritable(exc: sqlite3.Error, where: str) -> JournalUnusable | None:
    """The journal-level meaning of a SQLite error that says the file cannot be written."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == _SQLITE_FULL or "database or disk is full" in str(exc):
        return JournalUnusable(f"journal {where} cannot be written: the disk is full",
                               code="journal_full")
    if primary == _SQLITE_IOERR:
        return JournalUnusable(f"journal {where} cannot be written: {exc}",
                               code="journal_unwritable")
    return None


def run(db: sqlite3.Connection, write: Write) -> None:
    if callable(write):
        write(db)
    else:
        db.execute(*write)


@define
class UnitOfWork:
    db: sqlite3.Connection
    where: str = "(in memory)"
    _deferred: list[Write] = field(factory=list)
    failure: JournalUnusable | None = None
    #: Called when what this connection cached may be stale: a transaction rolled back,
    #: or another connection committed since this one last wrote.
    on_reset: list[Callable[[], None]] = field(factory=list)
    #: Called inside every transaction just before it commits (cached rows written once).
    before_commit: list[Callable[[sqlite3.Connection], None]] = field(factory=list)
    _seen_version: int | None = None

    def _reset(self) -> None:
        for forget in self.on_reset:
            forget()

    def fail(self, problem: JournalUnusable) -> JournalUnusable:
        """Remember why the journal cannot take new orders; log it the first time only."""
        if self.failure is None:
            self.failure = problem
            log.error("%s; new requests are refused (%s) and the run will exit non-zero; "
                      "orders already sent are still followed", problem, problem.code)
        return self.failure

    @property
    def has_deferred(self) -> bool:
        return bool(self._deferred)

    def defer(self, statements: Iterable[Write]) -> None:
        self._deferred.extend(statements)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction that first carries every deferred write; rolled back (and the
        deferred writes kept) if anything inside raises. A full disk raises
        ``JournalUnusable``."""
        try:
            with self._transaction() as db:
                yield db
        except sqlite3.Error as exc:
            problem = unwritable(exc, self.where)
            if problem is None:
                raise
            raise self.fail(problem) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._seen_version:
            self._reset()
            self._seen_version = version
        pending, self._deferred = self._deferred, []
        try:
            for write in pending:
                run(db, write)
            yield db
            for finish in self.before_commit:
                finish(db)
        except BaseException:
            self._reset()
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._deferred = pending + self._deferred
            raise
        try:
            db.execute("COMMIT")
        except BaseException:
            self._reset()
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._deferred = pending + self._deferred
            raise

    def commit(self, statements: Iterable[Write]) -> None:
        with self.transaction() as db:
            for write in statements:
                run(db, write)

    def flush(self) -> None:
        """Commit deferred writes now."""
        if self._deferred:
            self.commit(())
