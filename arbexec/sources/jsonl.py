"""The built-in ``jsonl`` source: one request per line, from a file or stdin.

A bad line becomes an item carrying its line number and the reason; the run records it as a
DENIED result and goes on. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from attrs import define, field

from arbexec.errors import ConfigError
from arbexec.model import RequestError
from arbexec.sources import strict_json
from arbexec.sources.base import SourceItem, SourceSettings
from arbexec.sources.pairs import check_pair, check_pair_data
from arbexec.sources.parse import request_from_mapping

#: Parses the object of a ``{"pair": {...}}`` line into a pair request.
PairParser = Callable[[dict[str, Any]], Any]


def pair_from_mapping(data: dict[str, Any]) -> Any:
    """The default pair parser; the arbitrage package loads only when a pair line appears."""
    from arbexec.arbitrage.model import pair_from_mapping as parse

    return parse(data)


def parse_line(text: str, position: str, pair_parser: PairParser | None = None) -> SourceItem:
    """One line -> a request, or an item carrying the reason (never an exception).

    The raw text kept for the journal is made safe first: a line may hold anything.
    """
    raw = _safe_raw(text)
    try:
        data = strict_json.loads(text)
        if isinstance(data, dict) and "pair" in data:
            if pair_parser is None:
                raise RequestError("pair", "pair requests are not supported by this engine")
            if len(data) != 1:
                extra = sorted(k for k in data if k != "pair")[0]
                raise RequestError(extra, "a pair line holds only {\"pair\": {...}}")
            check_pair_data(data["pair"])
            pair = pair_parser(data["pair"])
            check_pair(pair)
            return SourceItem(position=position, raw=raw, request=pair)
        return SourceItem(position=position, raw=raw, request=request_from_mapping(data))
    except RequestError as exc:
        return SourceItem(position=position, raw=raw, error=exc.message, error_field=exc.field)
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        # A parser bug must not end the run: the line is refused and the rest goes on.
        return SourceItem(position=position, raw=raw, error_field="request",
                          error=f"could not be read ({type(exc).__name__}: {exc})")


def _safe_raw(text: str) -> str:
    """The line as it may be journaled: at most 500 characters, valid UTF-8."""
    short = text[:500]
    return short.encode("utf-8", "backslashreplace").decode("utf-8")


def is_readable_file(path: str) -> bool:
    """Whether ``path`` names a regular file this process can open for reading; False (not
    an exception) for names too long, holding NUL, or without permission."""
    try:
        if not Path(path).is_file():
            return False
        with open(path, "rb"):
            return True
    except (OSError, ValueError):
        return False


#: Characters read at most for one line of a file (the bound, its line break, one more).
_READ_LIMIT = strict_json.MAX_LINE_CHARS + 3
#: Bytes of stdin held at most for one line (a character takes up to 4 bytes in UTF-8).
_MAX_LINE_BYTES = 4 * strict_json.MAX_LINE_CHARS + 8
#: Delivered (by identity) in place of a stdin line past the bound.
OVERLONG = "<a line past the length bound>"


def _stdin_lines() -> asyncio.Queue[str | None]:
    """Lines of stdin, read by a daemon thread straight from the file descriptor.

    A blocked read never keeps the process from exiting (Ctrl-C while waiting for input
    ends the run at once), and undecodable bytes become U+FFFD, so such a line is reported
    as not JSON with its number instead of ending the run. (Reading through ``sys.stdin``
    would hold its buffer's lock in the thread, which the interpreter needs at exit.)
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None

    def deliver(line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already gone
            loop.call_soon_threadsafe(queue.put_nowait, line)

    def pump() -> None:
        if fd is None:  # a stdin without a descriptor (embedding, tests): plain reads
            for line in sys.stdin:
                deliver(line)
            deliver(None)
            return
        pending = b""
        skipping = False  # inside a line already reported as too long
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                if skipping:  # the end of the over-long line
                    skipping = False
                    continue
                deliver(raw.decode("utf-8", "replace") + "\n")
            if len(pending) > _MAX_LINE_BYTES:  # never hold more than one line's bound
                if not skipping:
                    deliver(OVERLONG)
                    skipping = True
                pending = b""
        if pending and not skipping:
            deliver(pending.decode("utf-8", "replace"))
        deliver(None)

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
        if path != "-" and not is_readable_file(path):
            raise ConfigError(f"request file {path!r} does not exist or cannot be read",
                              source=settings.source, key="source.path")
        return cls(name=settings.name, path=path, pair_parser=pair_from_mapping)

    @property
    def label(self) -> str:
        return "stdin" if self.path == "-" else self.path

    async def items(self) -> AsyncIterator[SourceItem]:
        if self.path == "-":
            lines = _stdin_lines()
            lineno = 0
            while True:
                line = await lines.get()
                if line is None:
                    return
                lineno += 1
                item = self._overlong(lineno) if line is OVERLONG else self._item(line, lineno)
                if item is not None:
                    yield item
        else:
            # Undecodable bytes become U+FFFD: the line is then reported as not JSON, with
            # its number, instead of ending the run.
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                lineno = 0
                while line := handle.readline(_READ_LIMIT):
                    lineno += 1
                    if len(line) == _READ_LIMIT and not line.endswith("\n"):
                        # Over the bound: skip the rest without holding it in memory.
                        while (rest := handle.readline(_READ_LIMIT)) and not rest.endswith(
                                "\n"):
                            pass
                        yield self._overlong(lineno)
                        continue
                    item = self._item(line, lineno)
                    if item is not None:
                        yield item

    def _overlong(self, lineno: int) -> SourceItem:
        return SourceItem(position=f"{self.label}:{lineno}", error_field="request", raw="",
                          error=f"the line is longer than {strict_json.MAX_LINE_CHARS} "
                          "characters; it was skipped unread")

    def _item(self, line: str, lineno: int) -> SourceItem | None:
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        return parse_line(text, f"{self.label}:{lineno}", self.pair_parser)

    async def ack(self, item: SourceItem) -> None:
        return None

    async def aclose(self) -> None:
        return None
