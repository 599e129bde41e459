"""Arbitrage pairs: one row per pair with its state machine's state, step and detail."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define

from arbexec.events import Event
from arbexec.journal.codec import dumps
from arbexec.journal.event_log import event_statement
from arbexec.journal.unit_of_work import Statement, UnitOfWork
from arbexec.model import now_utc

#: States a pair never leaves.
FINAL_PAIR_STATES = ("HEDGED", "MISSED", "UNWOUND", "EXPOSED", "DENIED")

_UPSERT = """INSERT INTO pairs(pair_id, request, state, step, detail, created_at, updated_at)
    VALUES(?,?,?,?,?,?,?)
    ON CONFLICT(pair_id) DO UPDATE SET state=excluded.state, step=excluded.step,
        detail=excluded.detail, updated_at=excluded.updated_at"""


@define
class PairStore:
    work: UnitOfWork

    def save(self, pair_id: str, *, request: Mapping[str, Any], state: str, step: str,
             detail: Mapping[str, Any], events: Sequence[Event] = ()) -> None:
        now = now_utc().isoformat()
        statements: list[Statement] = [
            (_UPSERT, (pair_id, dumps(dict(request)), state, step, dumps(dict(detail)), now,
                       now)),
        ]
        statements.extend(event_statement(e, pair_id) for e in events)
        self.work.commit(statements)

    def get(self, pair_id: str) -> dict[str, Any] | None:
        r = self.work.db.execute("SELECT * FROM pairs WHERE pair_id=?", (pair_id,)).fetchone()
        if r is None:
            return None
        return {"pair_id": r["pair_id"], "request": json.loads(r["request"]),
                "state": r["state"], "step": r["step"], "detail": json.loads(r["detail"]),
                "created_at": r["created_at"], "updated_at": r["updated_at"]}

    def all(self, *, unfinished_only: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT pair_id FROM pairs"
        if unfinished_only:
            sql += f" WHERE state NOT IN ({','.join('?' * len(FINAL_PAIR_STATES))})"
        args = FINAL_PAIR_STATES if unfinished_only else ()
        ids = [r[0] for r in self.work.db.execute(sql + " ORDER BY created_at", args)]
        return [p for p in (self.get(i) for i in ids) if p is not None]
