"""The live progress line of ``arbexec run`` on a terminal.

``progress: 120 done, 8 in flight, 41.3/s; FILLED 100, OPEN 12, DENIED 8`` is redrawn in
place on stderr a few times a second, and erased before any result row is printed (so rows
never land on the end of it) and when the run ends. Nothing of it appears when stderr is
not a terminal: a pipe or a file gets only the rows and the summary.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

#: Redraws per second at most: enough to look live, few enough to cost nothing.
REDRAWS_PER_SECOND = 8
_ERASE = "\r\x1b[K"


class RunProgress:
    """Draws and erases one status line on a terminal stream."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.visible = False
        self._last_draw = float("-inf")

    @classmethod
    def for_terminal(cls) -> RunProgress | None:
        """A progress line when stderr is a terminal that can erase a line; else None."""
        import os

        stream = sys.stderr
        if not stream.isatty() or os.environ.get("TERM") == "dumb":
            return None
        return cls(stream)

    def line(self, done: int, in_flight: int, outcomes: Mapping[str, int]) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        shown = ", ".join(f"{name} {count}" for name, count in
                          sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0])) if count)
        return (f"progress: {done} done, {in_flight} in flight, {done / elapsed:.1f}/s"
                + (f"; {shown}" if shown else ""))

    def draw(self, done: int, in_flight: int, outcomes: Mapping[str, int], *,
             force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._last_draw < 1 / REDRAWS_PER_SECOND:
            return
        self._last_draw = now
        width = _width(self.stream)
        text = self.line(done, in_flight, outcomes)
        self.stream.write(_ERASE + text[: max(width - 1, 20)])
        self.stream.flush()
        self.visible = True

    def erase(self) -> None:
        if self.visible:
            self.stream.write(_ERASE)
            self.stream.flush()
            self.visible = False


class ErasingStream:
    """stdout for the length of a run: erases the progress line before each write, so a
    result row starts at the left margin; the next redraw puts the line back below it."""

    def __init__(self, stream: IO[str], progress: RunProgress) -> None:
        self._stream = stream
        self._progress = progress

    def write(self, text: str) -> int:
        self._progress.erase()
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _width(stream: IO[str]) -> int:
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80
