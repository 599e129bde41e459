"""Run the ``arbexec`` command line on a pseudo-terminal, as a person would."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ARBEXEC = [sys.executable, "-m", "arbexec"]


class Terminal:
    """One command on a pty: ``read_until(text)``, ``send(text)``, ``wait()``."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self._master, slave = pty.openpty()
        environ = {**os.environ, "TERM": "xterm", "COLUMNS": "120", "LINES": "40",
                   **(env or {})}
        environ.pop("NO_COLOR", None)
        self.process = subprocess.Popen([*ARBEXEC, *args], cwd=cwd, env=environ, stdin=slave,
                                        stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.output = ""

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self._master, 65536)
        except OSError:  # the command ended and closed its side
            return False
        if not data:
            return False
        self.output += data.decode("utf-8", "replace")
        return True

    def read_until(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; output so far:\n{self.output}")
            if not self._pump(0.2) and self.process.poll() is not None:
                raise AssertionError(f"ended before {text!r}:\n{self.output}")
        return self.output

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition never held; output:\n{self.output}")
            self._pump(0.1)

    def send(self, text: str) -> None:
        os.write(self._master, text.encode())

    def wait(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"did not end; output:\n{self.output}")
            self._pump(0.2)
        while self._pump(0.05):
            pass
        os.close(self._master)
        return self.process.returncode
