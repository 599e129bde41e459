"""The sink's local outbox: money-path events that Redis could not take, kept on disk in
order (one JSON line each, flushed and fsynced) until they are delivered.

A crash loses nothing written here; the next run replays the file first. Delivery is at
least once: a result is keyed by its request id in Redis, so a replayed result is never
appended twice; other events may appear again after a crash mid-replay.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from attrs import define


@define
class Outbox:
    path: Path

    def append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(entry, separators=(",", ":")) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def pending(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except ValueError:  # a line cut by a crash mid-write: it was never acked
                    continue
        return entries

    def keep(self, entries: list[dict[str, Any]]) -> None:
        """Replace the file with what is still undelivered (atomically)."""
        if not entries:
            self.path.unlink(missing_ok=True)
            return
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n"
                                   for e in entries), encoding="utf-8")
        os.replace(scratch, self.path)

    def __bool__(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0
