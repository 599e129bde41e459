"""The kill switch: a persisted halt flag, behind an interface a shared store can implement.

``arbexec halt`` sets it from any process; a running engine sees it before its next order
(it checks SQLite's ``data_version``, which changes only when another connection commits, so
the per-order cost is one cheap pragma). Only ``arbexec resume`` lifts it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from attrs import define

from arbexec.journal import HaltState, Journal


@runtime_checkable
class HaltFlag(Protocol):
    def current(self) -> HaltState:
        """The flag as of now (may consult the store)."""
        ...

    def halt(self, reason: str, by: str) -> HaltState: ...

    def resume(self, by: str) -> HaltState: ...


@define
class JournalHaltFlag:
    journal: Journal
    _state: HaltState | None = None
    _version: int = -1

    def current(self) -> HaltState:
        version = self.journal.data_version()
        if self._state is None or version != self._version:
            self._state = self.journal.halt_state()
            self._version = version
        return self._state

    def halt(self, reason: str, by: str) -> HaltState:
        self._state = self.journal.set_halt(True, reason=reason, by=by)
        return self._state

    def resume(self, by: str) -> HaltState:
        self._state = self.journal.set_halt(False, reason=None, by=by)
        return self._state
