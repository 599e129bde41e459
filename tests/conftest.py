"""Shared fixtures: a journal in a temporary directory, an engine on a scripted venue."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from arbexec.engine import Engine, EngineSettings
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import ScriptedVenue

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never reach beyond this machine: any non-loopback connect fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or self.family == socket.AF_UNIX
        ):
            raise OSError(f"network access in tests is not allowed: {address}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "journal.sqlite3")
    yield j
    j.close()


@pytest.fixture
def venue() -> ScriptedVenue:
    return ScriptedVenue()


@pytest.fixture
async def engine(journal: Journal, venue: ScriptedVenue) -> AsyncIterator[Engine]:
    e = Engine(journal=journal, venues={venue.name: venue}, halt=JournalHaltFlag(journal),
               hub=SinkHub([]), settings=EngineSettings(wait_budget=0.2, unknown_grace=0.3,
                                                        poll_interval=0.01))
    await e.start()
    yield e
    await e.aclose()
