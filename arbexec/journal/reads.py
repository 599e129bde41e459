"""The read side: the order listings ``arbexec orders``, ``audit``, recovery and the
position rebuild use. Every read first commits deferred writes, so it sees them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import define

from arbexec.journal.records import NON_FINAL, JournalRow
from arbexec.journal.unit_of_work import UnitOfWork


@define
class OrderQueries:
    work: UnitOfWork

    def non_final(self, venue: str | None = None) -> list[JournalRow]:
        """Orders that may still change on their venue, oldest first."""
        self.work.flush()
        marks = ",".join("?" * len(NON_FINAL))
        sql = f"SELECT * FROM orders WHERE status IN ({marks})"
        args: list[Any] = list(NON_FINAL)
        if venue is not None:
            sql += " AND venue=?"
            args.append(venue)
        rows = self.work.db.execute(sql + " ORDER BY requested_at", args)
        return [JournalRow.from_sqlite(r) for r in rows]

    def query(
        self,
        *,
        venue: str | None = None,
        market: str | None = None,
        status: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        request_id: str | None = None,
        key: str | None = None,
        tag: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[JournalRow]:
        """Matching orders oldest first; with ``limit``, only the ``limit`` the journal
        wrote last (read backwards in the table's own order, so neither the journal's
        length nor an extra index written by every order matters), by request time."""
        self.work.flush()
        sql = "SELECT * FROM orders WHERE 1=1"
        args: list[Any] = []
        for column, value in (("venue", venue), ("market", market), ("request_id", request_id),
                              ("idempotency_key", key)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        if status:
            sql += f" AND status IN ({','.join('?' * len(status))})"
            args.extend(status)
        if since is not None:
            sql += " AND requested_at>=?"
            args.append(since.isoformat())
        if until is not None:
            sql += " AND requested_at<?"
            args.append(until.isoformat())
        if tag is not None:
            sql += " AND json_extract(request, '$.tags.' || ?) = ?"
            args.extend(tag)
        if limit is None:
            sql += " ORDER BY requested_at"
            return [JournalRow.from_sqlite(r) for r in self.work.db.execute(sql, args)]
        sql += " ORDER BY rowid DESC LIMIT ?"
        args.append(limit)
        latest = [JournalRow.from_sqlite(r) for r in self.work.db.execute(sql, args)][::-1]
        return sorted(latest, key=lambda row: row.requested_at)

    def filled_orders(self) -> list[JournalRow]:
        """Every order with fills, oldest first: positions and P&L are rebuilt from these."""
        self.work.flush()
        return [JournalRow.from_sqlite(r) for r in self.work.db.execute(
            "SELECT * FROM orders WHERE status != 'DENIED' AND average_price IS NOT NULL "
            "AND CAST(filled_quantity AS REAL) > 0 ORDER BY requested_at")]

    def counts_by_status(self) -> dict[str, int]:
        self.work.flush()
        return {r[0]: r[1] for r in self.work.db.execute(
            "SELECT status, COUNT(*) FROM orders GROUP BY status")}
