"""Where a paper venue keeps its account between runs: one SQLite file per venue name.

Writes are batched (write-behind): the venue marks what changed and ``write`` commits it in
one transaction, so the on-disk state is always a consistent snapshot of some moment. The
file uses WAL with ``synchronous=NORMAL``: a committed flush survives a process crash; an
operating-system crash may lose the last flushes, never corrupt the file.

The file *is* the account, so a writer holds an exclusive ``flock`` on the file itself for
as long as it is open: a second engine (another journal, same state folder) is refused, and
no lock file can be deleted to get past it. A read-only store (``balance``, ``positions``)
opens the file with ``mode=ro``, takes no lock and can never write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from arbexec.api import UserError, check_venue_name

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, market TEXT NOT NULL, live INTEGER NOT NULL,
    outcome TEXT NOT NULL, side TEXT NOT NULL, quantity TEXT NOT NULL,
    limit_price TEXT NOT NULL, time_in_force TEXT NOT NULL, post_only INTEGER NOT NULL,
    expires_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    status TEXT NOT NULL, reason TEXT, reserved_cash TEXT NOT NULL,
    reserved_contracts TEXT NOT NULL, fills TEXT NOT NULL  -- id|qty|price|fee|liq|ts;...
);
CREATE INDEX IF NOT EXISTS orders_live ON orders (live);
CREATE TABLE IF NOT EXISTS markets (market TEXT PRIMARY KEY, data TEXT NOT NULL);
"""

SCHEMA_VERSION = "1"
_ORDER_SLOTS = ", ".join("?" * 18)


def state_path(state_dir: str | Path, venue: str) -> Path:
    """The file a venue named ``venue`` keeps under ``state_dir``; a name that could lead
    outside it (``../x``) is a ``ConfigError``."""
    check_venue_name(venue, source=None, key="venue")
    return Path(state_dir) / f"paper-{venue}.sqlite3"


class StateStore:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock_fd: int | None = None
        if read_only:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                       check_same_thread=False)
            self._check_schema()
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_account(path)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            if self.meta("schema") is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)",
                                 (json.dumps(SCHEMA_VERSION),))
            self._check_schema()
        except BaseException:
            self._release()
            raise

    @classmethod
    def open_existing(cls, path: Path) -> StateStore | None:
        """The file read-only, or None when there is no account yet (nothing is created)."""
        return cls(path, read_only=True) if path.exists() else None

    def _check_schema(self) -> None:
        version = self.meta("schema")
        if version is not None and version != SCHEMA_VERSION:
            raise RuntimeError(f"{self.path} was written by an incompatible paper venue "
                               f"(schema {version}, expected {SCHEMA_VERSION})")

    def meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def orders(self) -> list[tuple[Any, ...]]:
        """Every order row, oldest first."""
        return self._db.execute("SELECT * FROM orders ORDER BY seq").fetchall()

    def markets(self) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT market, data FROM markets").fetchall()
        return {market: json.loads(data) for market, data in rows}

    def write(
        self,
        *,
        meta: dict[str, Any],
        orders: Iterable[tuple[Any, ...]],
        markets: Iterable[tuple[str, dict[str, Any]]],
    ) -> None:
        """Commit one batch of changes atomically."""
        if self.read_only:
            raise RuntimeError(f"{self.path} is open read-only")
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in meta.items()],
            )
            db.executemany(f"INSERT OR REPLACE INTO orders VALUES ({_ORDER_SLOTS})", orders)
            db.executemany(
                "INSERT OR REPLACE INTO markets VALUES (?, ?)",
                [(market, json.dumps(state, separators=(",", ":"))) for market, state in markets],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            self._release()  # after SQLite's own descriptors: closing ours first drops its locks

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _lock_account(path: Path) -> int:
    """An exclusive ``flock`` on the account file itself (created empty if new); the holder's
    process id goes to ``<file>.pid`` only to name it in the refusal."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    owner = Path(f"{path}.pid")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = ""
        with contextlib.suppress(OSError):
            holder = owner.read_text()[:20].strip()
        who = f" (process {holder})" if holder.isdigit() else ""
        raise UserError(
            f"paper account {path} is in use by another engine{who}; stop it first, or give "
            "the second deployment its own venue state folder ([journal] state_dir)"
        ) from None
    with contextlib.suppress(OSError):
        owner.write_text(str(os.getpid()))
    return fd
