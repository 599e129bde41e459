"""The append-only event history (what happened, in order; ``arbexec audit`` reads it)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from attrs import define

from arbexec.events import Event
from arbexec.journal.codec import dumps
from arbexec.journal.summaries import RARE_EVENT_KINDS
from arbexec.journal.unit_of_work import Statement, UnitOfWork

_INSERT = "INSERT INTO events(at, kind, request_id, idempotency_key, data) VALUES(?,?,?,?,?)"


def event_statement(event: Event, key: str | None = None) -> Statement:
    """The statement appending ``event`` (filed under an order's or pair's ``key``)."""
    return (_INSERT, (event.at.isoformat(), event.kind, event.request_id, key,
                      dumps(dict(event.data))))


@define
class EventLog:
    work: UnitOfWork

    def append(self, events: Iterable[Event], key: str | None = None) -> None:
        self.work.commit(event_statement(e, key) for e in events)

    def read(
        self,
        *,
        kinds: Sequence[str] = (),
        key: str | None = None,
        since_seq: int = 0,
        limit: int | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        latest: int | None = None,
    ) -> Iterator[tuple[int, Event]]:
        """Events in order; ``limit`` keeps the first, ``latest`` the last so many."""
        self.work.flush()
        sql = "SELECT * FROM events WHERE seq>?"
        args: list[Any] = [since_seq]
        if kinds:
            if set(kinds) <= set(RARE_EVENT_KINDS):  # the very term of the partial index
                sql += f" AND kind IN ({', '.join(repr(k) for k in RARE_EVENT_KINDS)})"
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        for column, value in (("idempotency_key", key), ("request_id", request_id)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        for clause, when in ((" AND at>=?", since), (" AND at<?", until)):
            if when is not None:
                sql += clause
                args.append(when.astimezone(UTC).isoformat())
        found: Iterable[sqlite3.Row]
        if latest is not None:
            found = list(self.work.db.execute(
                sql + " ORDER BY seq DESC LIMIT ?", [*args, latest]))[::-1]
        else:
            sql += " ORDER BY seq"
            if limit is not None:
                sql += " LIMIT ?"
                args.append(limit)
            found = self.work.db.execute(sql, args)
        for r in found:
            yield r["seq"], Event(kind=r["kind"], data=json.loads(r["data"]),
                                  at=datetime.fromisoformat(r["at"]), request_id=r["request_id"])

    def first_at(self, key: str, kind: str) -> datetime | None:
        """When the key's first event of ``kind`` was written, or None."""
        self.work.flush()
        r = self.work.db.execute(
            "SELECT at FROM events WHERE idempotency_key=? AND kind=? ORDER BY seq LIMIT 1",
            (key, kind)).fetchone()
        return None if r is None else datetime.fromisoformat(r[0])
