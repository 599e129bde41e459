"""The built-in sinks: ``jsonl`` (a file, one event per line) and ``stdout``."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from attrs import define, field

from arbexec.encoding import dumps
from arbexec.errors import ConfigError
from arbexec.events import Event
from arbexec.model import ExecutionResult
from arbexec.sinks.base import SinkSettings
from arbexec.sinks.render import pair_row, result_row


def _event_dict(event: Event) -> dict[str, Any]:
    return {"at": event.at.isoformat(), "kind": event.kind, "request_id": event.request_id,
            **{k: v for k, v in event.data.items() if k != "result_obj"}}


def _check_writable(path: Path) -> None:
    """Refuse at start a file the first event could not be appended to: a folder, or one
    under a folder that cannot be made or written (the run would fail mid-way)."""
    import os

    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a file to append to", key="path")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK) or (
            path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"cannot write {path} ({folder} is not a writable folder)",
                          key="path")


@define
class JsonlSink:
    """Appends every event as one JSON line. Flushes per line: a crash loses nothing written."""

    name: str
    path: Path
    kinds: frozenset[str] | None = None
    _file: IO[str] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: SinkSettings) -> JsonlSink:
        path = settings.options.get("path")
        if not isinstance(path, str) or not path:
            raise ConfigError("needs a 'path' (the file to append to)", key="path")
        _check_writable(Path(path))
        kinds = settings.options.get("kinds")
        return cls(name=settings.name, path=Path(path),
                   kinds=None if kinds is None else frozenset(kinds))

    async def emit(self, event: Event) -> None:
        if self.kinds is not None and event.kind not in self.kinds:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(dumps(_event_dict(event)) + "\n")
        self._file.flush()

    async def aclose(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@define
class StdoutSink:
    """Prints results as they complete: a readable row, or JSON lines with ``--json``."""

    name: str
    json_output: bool = False
    show_events: bool = False
    stream: IO[str] = field(factory=lambda: sys.stdout, repr=False)

    @classmethod
    def from_settings(cls, settings: SinkSettings) -> StdoutSink:
        fmt = settings.options.get("format", "table")
        if fmt not in ("table", "json"):
            raise ConfigError(f"format {fmt!r} is not 'table' or 'json'", key="format")
        # `arbexec --json run` promises JSON lines only, whatever the deployment prefers
        return cls(name=settings.name, json_output=settings.json_output or fmt == "json",
                   show_events=bool(settings.options.get("events", False)))

    async def emit(self, event: Event) -> None:
        result = event.data.get("result_obj")
        if isinstance(result, ExecutionResult):
            if self.json_output:
                self.stream.write(json.dumps(event.data["result"], separators=(",", ":")) + "\n")
            else:
                self.stream.write(result_row(result) + "\n")
        elif event.kind == "pair.result" and isinstance(event.data.get("result"), Mapping):
            if self.json_output:
                self.stream.write(dumps(_event_dict(event)) + "\n")
            else:
                self.stream.write(pair_row(event.data["result"]) + "\n")
        elif self.show_events or event.kind in ("alert", "halt", "risk.breaker"):
            if self.json_output:
                self.stream.write(dumps(_event_dict(event)) + "\n")
            else:
                data = " ".join(f"{k}={v}" for k, v in event.data.items() if k != "result_obj")
                self.stream.write(f"[{event.kind}] {data}\n")

    async def aclose(self) -> None:
        self.stream.flush()
