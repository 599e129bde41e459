"""The persisted halt flag (``arbexec halt`` / ``resume``); ``arbexec.halt`` reads it."""

from __future__ import annotations

from datetime import datetime

from attrs import define, frozen

from arbexec.events import Event
from arbexec.journal.event_log import event_statement
from arbexec.journal.unit_of_work import UnitOfWork
from arbexec.model import now_utc

_UPSERT = """INSERT INTO halt(id, halted, reason, by, at) VALUES(1,?,?,?,?)
    ON CONFLICT(id) DO UPDATE SET halted=excluded.halted, reason=excluded.reason,
        by=excluded.by, at=excluded.at"""


@frozen(kw_only=True)
class HaltState:
    halted: bool
    reason: str | None = None
    by: str | None = None
    at: datetime | None = None


@define
class HaltStore:
    work: UnitOfWork

    def current(self) -> HaltState:
        r = self.work.db.execute(
            "SELECT halted, reason, by, at FROM halt WHERE id=1").fetchone()
        if r is None:
            return HaltState(halted=False)
        return HaltState(halted=bool(r[0]), reason=r[1], by=r[2],
                         at=datetime.fromisoformat(r[3]))

    def set(self, halted: bool, *, reason: str | None, by: str) -> HaltState:
        """Set or lift the flag, with a ``halt`` / ``resume`` event, in one transaction."""
        now = now_utc()
        event = Event(kind="halt" if halted else "resume",
                      data={"reason": reason, "by": by}, at=now)
        self.work.commit([(_UPSERT, (int(halted), reason, by, now.isoformat())),
                          event_statement(event)])
        return HaltState(halted=halted, reason=reason, by=by, at=now)
