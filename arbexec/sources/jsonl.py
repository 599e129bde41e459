"""The built-in ``jsonl`` source: one request per line, from a file or stdin.

A bad line becomes an item carrying its line number and the reason; the run records it as a
DENIED result and goes on. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

from attrs import define, field

from arbexec.errors import ConfigError
from arbexec.model import RequestError
from arbexec.sources.base import SourceItem, SourceSettings
from arbexec.sources.parse import request_from_mapping

#: Parses the object of a ``{"pair": {...}}`` line into a pair request.
PairParser = Callable[[dict[str, Any]], Any]


def pair_from_mapping(data: dict[str, Any]) -> Any:
    """The default pair parser; the arbitrage package loads only when a pair line appears."""
    from arbexec.arbitrage.model import pair_from_mapping as parse

    return parse(data)


def parse_line(text: str, position: str, pair_parser: PairParser | None = None) -> SourceItem:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return SourceItem(position=position, raw=text, error_field="request",
                          error=f"not valid JSON ({exc.msg} at column {exc.colno})")
    try:
        if isinstance(data, dict) and "pair" in data:
            if pair_parser is None:
                raise RequestError("pair", "pair requests are not supported by this engine")
            return SourceItem(position=position, raw=text, request=pair_parser(data["pair"]))
        return SourceItem(position=position, raw=text, request=request_from_mapping(data))
    except RequestError as exc:
        return SourceItem(position=position, raw=text, error=exc.message, error_field=exc.field)


def _text_stdin() -> IO[str]:
    """stdin as text that never fails to decode (bad bytes become U+FFFD)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already a text stream (tests, embedding)
        return sys.stdin
    return io.TextIOWrapper(buffer, encoding="utf-8", errors="replace")


def _stdin_lines(stream: IO[str]) -> asyncio.Queue[str | None]:
    """Lines of a blocking stream, read by a daemon thread: a blocked read never keeps the
    process from exiting (Ctrl-C while waiting for input ends the run at once)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        try:
            for line in stream:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError, RuntimeError):
            pass  # closed stream or loop: the end of input
        with contextlib.suppress(RuntimeError):  # the loop is already gone
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="arbexec-stdin", daemon=True).start()
    return queue


@define
class JsonlSource:
    name: str
    path: str  # "-" for stdin
    pair_parser: PairParser | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: SourceSettings) -> JsonlSource:
        path = settings.options.get("path", "-")
        if not isinstance(path, str) or not path:
            raise ConfigError("'path' must be a file path or '-' for stdin",
                              source=settings.source, key="source.path")
        if path != "-" and not Path(path).is_file():
            raise ConfigError(f"request file {path!r} does not exist", source=settings.source,
                              key="source.path")
        return cls(name=settings.name, path=path, pair_parser=pair_from_mapping)

    @property
    def label(self) -> str:
        return "stdin" if self.path == "-" else self.path

    async def items(self) -> AsyncIterator[SourceItem]:
        if self.path == "-":
            lines = _stdin_lines(_text_stdin())
            lineno = 0
            while True:
                line = await lines.get()
                if line is None:
                    return
                lineno += 1
                item = self._item(line, lineno)
                if item is not None:
                    yield item
        else:
            # Undecodable bytes become U+FFFD: the line is then reported as not JSON, with
            # its number, instead of ending the run.
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                for lineno, line in enumerate(handle, start=1):
                    item = self._item(line, lineno)
                    if item is not None:
                        yield item

    def _item(self, line: str, lineno: int) -> SourceItem | None:
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        return parse_line(text, f"{self.label}:{lineno}", self.pair_parser)

    async def ack(self, item: SourceItem) -> None:
        return None

    async def aclose(self) -> None:
        return None
