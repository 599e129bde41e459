"""Transactions, group commit and deferral: the only code that says BEGIN and COMMIT.

Every write is a list of statements run in one ``BEGIN IMMEDIATE`` transaction. A write
may instead be *deferred*: queued to ride on the next transaction (a later write-ahead
intent, ``flush()``, or any read). Deferral is for states that follow a committed intent:
a crash before the commit leaves the order in flight, and reconciliation takes the venue's
word for it. Deferred statements are kept until a transaction carrying them commits; a
transaction that fails for any reason puts them back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from attrs import define, field

Statement = tuple[str, Sequence[Any]]


@define
class UnitOfWork:
    db: sqlite3.Connection
    _deferred: list[Statement] = field(factory=list)

    @property
    def has_deferred(self) -> bool:
        return bool(self._deferred)

    def defer(self, statements: Iterable[Statement]) -> None:
        self._deferred.extend(statements)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction that first carries every deferred write; rolled back (and the
        deferred writes kept) if anything inside raises."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        pending, self._deferred = self._deferred, []
        try:
            for sql, args in pending:
                db.execute(sql, args)
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            self._deferred = pending + self._deferred
            raise
        try:
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._deferred = pending + self._deferred
            raise

    def commit(self, statements: Iterable[Statement]) -> None:
        with self.transaction() as db:
            for sql, args in statements:
                db.execute(sql, args)

    def flush(self) -> None:
        """Commit deferred writes now."""
        if self._deferred:
            self.commit(())
