"""Shared state: the exposure ledger and the halt flag several engines on one account share.

A deployment without a ``[ledger]`` table gets what one engine needs (an in-memory ledger
rebuilt from its journal, the journal's halt flag). With ``[ledger] type = "redis"`` (or
another installed ledger type) the plugin's ``SharedState`` supplies both, so N engines
together never pass a limit that one engine enforces alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from attrs import field, frozen

from arbexec.ledger import ExposureLedger


@frozen(kw_only=True)
class SharedSettings:
    """The ``[ledger]`` table, and what identifies the engine that uses it: its journal
    (the record its leases are recovered from) and the deployment file."""

    name: str
    options: Mapping[str, Any] = field(factory=dict, hash=False, repr=False)
    source: str | None = None
    journal_path: str = ""
    state_dir: str = ""


class HaltView(Protocol):
    """What a halt flag reports (``arbexec.journal.HaltState`` has this shape)."""

    @property
    def halted(self) -> bool: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def by(self) -> str | None: ...

    @property
    def at(self) -> datetime | None: ...


class SharedHalt(Protocol):
    """The kill switch several engines share (``arbexec.halt.HaltFlag``'s shape)."""

    def current(self) -> HaltView: ...

    def halt(self, reason: str, by: str) -> HaltView: ...

    def resume(self, by: str) -> HaltView: ...


@runtime_checkable
class SharedState(Protocol):
    @property
    def ledger(self) -> ExposureLedger: ...

    @property
    def halt(self) -> SharedHalt: ...

    async def aclose(self) -> None:
        """Give back what the engine holds in the store (its lease) and disconnect."""
        ...
