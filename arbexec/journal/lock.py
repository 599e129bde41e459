"""One journal is driven by one engine at a time.

``EngineLock`` takes an exclusive ``flock`` on ``<journal>.lock`` (released by the OS even
on SIGKILL) and writes the holder's process id into it, so a refusal names the holder.
Readers (``audit``, ``orders``) and the halt switch need no lock; SQLite serialises writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from attrs import define

from arbexec.errors import JournalLockedError


@define
class EngineLock:
    """Exclusive lock on a journal for the one engine that drives it."""

    path: Path
    _fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            with contextlib.suppress(OSError):
                holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            who = f" (process {holder})" if holder else ""
            raise JournalLockedError(
                f"journal {self.path.with_suffix('')} is in use by another engine{who}; stop it "
                "first, or give this run its own journal with --journal PATH"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
