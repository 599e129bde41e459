"""Where a paper venue keeps its account between runs: one SQLite file per venue name.

Writes are batched (write-behind): the venue marks what changed and ``write`` commits it in
one transaction, so the on-disk state is always a consistent snapshot of some moment. The
file uses WAL with ``synchronous=NORMAL``: a committed flush survives a process crash; an
operating-system crash may lose the last flushes, never corrupt the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, market TEXT NOT NULL,
                                   live INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_live ON orders (live);
CREATE TABLE IF NOT EXISTS markets (market TEXT PRIMARY KEY, data TEXT NOT NULL);
"""

SCHEMA_VERSION = "1"


def state_path(state_dir: str | Path, venue: str) -> Path:
    """The file a venue named ``venue`` keeps under ``state_dir``."""
    return Path(state_dir) / f"paper-{venue}.sqlite3"


class StateStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        version = self.meta("schema")
        if version is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (json.dumps(SCHEMA_VERSION),))
        elif version != SCHEMA_VERSION:
            raise RuntimeError(f"{path} was written by an incompatible paper venue "
                               f"(schema {version}, expected {SCHEMA_VERSION})")

    def meta(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def orders(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT data FROM orders").fetchall()
        return [json.loads(data) for (data,) in rows]

    def markets(self) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT market, data FROM markets").fetchall()
        return {market: json.loads(data) for market, data in rows}

    def write(
        self,
        *,
        meta: dict[str, Any],
        orders: Iterable[tuple[str, str, int, dict[str, Any]]],
        markets: Iterable[tuple[str, dict[str, Any]]],
    ) -> None:
        """Commit one batch of changes atomically."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in meta.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?)",
                [(oid, market, live, json.dumps(record, separators=(",", ":")))
                 for oid, market, live, record in orders],
            )
            db.executemany(
                "INSERT OR REPLACE INTO markets VALUES (?, ?)",
                [(market, json.dumps(state, separators=(",", ":"))) for market, state in markets],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
