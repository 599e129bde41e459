"""One journal is driven by one engine at a time, and that engine notices if it vanishes.

``EngineLock`` takes an exclusive ``flock`` on the journal's database file itself (released
by the OS even on SIGKILL), so deleting a lock file cannot let a second engine in. The
holder's process id goes to ``<journal>.lock`` only to name it in a refusal. SQLite's own
locks are POSIX record locks, independent of ``flock``; the lock's descriptor is closed only
after the database connection (closing any descriptor of the file drops a process's POSIX
locks on it).

The descriptor also pins the journal's identity: while it is open the file's inode cannot be
reused, so ``check`` (one ``stat``, cheap enough for every write-ahead commit) tells a
journal deleted or replaced during the run from the one this engine opened.

Readers (``audit``, ``orders``) and the halt switch need no lock; SQLite serialises writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from attrs import define

from arbexec.errors import JournalLockedError, JournalUnusable


@define
class EngineLock:
    """Exclusive lock on a journal for the one engine that drives it."""

    journal: Path
    _fd: int | None = None
    _identity: tuple[int, int] | None = None

    @property
    def owner_file(self) -> Path:
        return Path(f"{self.journal}.lock")

    def acquire(self) -> None:
        fd = os.open(self.journal, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = ""
            with contextlib.suppress(OSError):
                holder = self.owner_file.read_text()[:20].strip()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise JournalLockedError(
                f"journal {self.journal} is in use by another engine{who}; stop it first. A "
                "second engine needs its own deployment: its own journal and its own venue "
                "accounts ([journal] path and state_dir), since a venue account is locked by "
                "the engine that uses it"
            ) from None
        stat = os.fstat(fd)
        self._fd, self._identity = fd, (stat.st_dev, stat.st_ino)
        with contextlib.suppress(OSError):
            self.owner_file.write_text(str(os.getpid()))

    def check(self) -> None:
        """Raise ``JournalUnusable`` (code ``journal_lost``) if the file at the journal's
        path is no longer the one this engine locked."""
        if self._identity is None:
            return
        try:
            stat = os.stat(self.journal)
        except FileNotFoundError:
            raise JournalUnusable(f"journal {self.journal} was deleted while the engine ran",
                                  code="journal_lost") from None
        except OSError as exc:
            raise JournalUnusable(f"journal {self.journal} cannot be checked: "
                                  f"{exc.strerror or exc}", code="journal_lost") from None
        if (stat.st_dev, stat.st_ino) != self._identity:
            raise JournalUnusable(f"journal {self.journal} was replaced by another file while "
                                  "the engine ran", code="journal_lost")

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
            self._identity = None
