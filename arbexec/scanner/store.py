"""The scan journal: what each scan saw, did and missed, in its own SQLite file.

It lives beside the trading journal (``scan.sqlite3`` in the journal's folder) and is
written by the scanner alone, so the engine's journal keeps its one-writer lock. One row
per pair direction per scan (``observations``) feeds ``arbexec scan report``; the
``opportunity_keys`` table gives each opportunity its pair key, written before the pair is
handed to the executor, so a restarted scan hands the same opportunity over under the same
key and the executor answers it from its journal instead of sending it again.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import frozen

from arbexec.errors import JournalError

FILE_NAME = "scan.sqlite3"

#: what became of a pair direction in one scan
STATUSES = ("below_min", "seen", "executed", "missed", "unavailable")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS observations(
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL, scan_id TEXT NOT NULL, at TEXT NOT NULL,
    pair_id TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', direction TEXT NOT NULL,
    quantity TEXT, edge TEXT, edge_per_contract TEXT, limit_edge_per_contract TEXT,
    limit_a TEXT, limit_b TEXT,
    fees TEXT, min_spread TEXT, status TEXT NOT NULL, reason_code TEXT, reason TEXT, pair_key TEXT,
    state TEXT, realised_edge TEXT, realised_edge_per_contract TEXT);
CREATE INDEX IF NOT EXISTS observations_at ON observations(at);
CREATE TABLE IF NOT EXISTS opportunity_keys(
    pair_id TEXT NOT NULL, direction TEXT NOT NULL, seq INTEGER NOT NULL,
    signature TEXT NOT NULL, open INTEGER NOT NULL, PRIMARY KEY(pair_id, direction));
"""

_COLUMNS = ("session_id", "scan_id", "at", "pair_id", "title", "direction", "quantity",
            "edge", "edge_per_contract", "limit_edge_per_contract", "limit_a", "limit_b",
            "fees", "min_spread", "status", "reason_code", "reason", "pair_key", "state",
            "realised_edge", "realised_edge_per_contract")


@frozen(kw_only=True)
class Observation:
    """One pair direction in one scan (figures as exact decimal text, or None)."""

    session_id: str
    scan_id: str
    at: str  # ISO-8601 UTC
    pair_id: str
    direction: str
    status: str
    title: str = ""
    quantity: str | None = None
    edge: str | None = None
    edge_per_contract: str | None = None  # as the books say (fills level by level)
    limit_edge_per_contract: str | None = None  # at both limits (the executor's first check)
    limit_a: str | None = None
    limit_b: str | None = None
    fees: str | None = None
    min_spread: str | None = None  # the minimum the scan held the edge against
    reason_code: str | None = None
    reason: str | None = None
    pair_key: str | None = None
    state: str | None = None
    realised_edge: str | None = None
    realised_edge_per_contract: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _COLUMNS}

    @property
    def executable_edge_per_contract(self) -> Decimal | None:
        """The smaller of the book and at-limits figures (what the executor holds against
        the minimum), or None when the scan had no level to price."""
        figures = [Decimal(v) for v in (self.edge_per_contract, self.limit_edge_per_contract)
                   if v is not None]
        return min(figures) if figures else None


def opportunity_key(pair_id: str, direction: str, seq: int) -> str:
    """A pair key short enough for any venue's client id, stable for one opportunity."""
    digest = hashlib.sha256(pair_id.encode()).hexdigest()[:12]
    return f"scan-{digest}-{direction}-{seq}"


class ScanStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise JournalError(f"cannot open the scan journal {path}: {exc}; it lives in the "
                               "journal's folder ([journal] path)") from None

    @classmethod
    def beside(cls, journal_path: Path) -> ScanStore:
        return cls(journal_path.parent / FILE_NAME)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def record(self, observation: Observation) -> int:
        values = observation.as_dict()
        with self._transaction() as db:
            cursor = db.execute(
                f"INSERT INTO observations({', '.join(_COLUMNS)}) "
                f"VALUES({', '.join('?' * len(_COLUMNS))})", [values[c] for c in _COLUMNS])
            return int(cursor.lastrowid or 0)

    def update(self, row_id: int, **values: str | None) -> None:
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"no observation column {sorted(unknown)[0]!r}")
        with self._transaction() as db:
            db.execute(f"UPDATE observations SET {', '.join(f'{k}=?' for k in values)} "
                       "WHERE id=?", [*values.values(), row_id])

    def key_for(self, pair_id: str, direction: str, signature: str) -> str:
        """The pair key of this opportunity: the one it had in the previous scan when it
        is unchanged (same limits and size) and was seen without a gap, else a new one."""
        with self._transaction() as db:
            row = db.execute("SELECT seq, signature, open FROM opportunity_keys "
                             "WHERE pair_id=? AND direction=?", (pair_id, direction)).fetchone()
            if row is not None and row["open"] and row["signature"] == signature:
                return opportunity_key(pair_id, direction, int(row["seq"]))
            seq = 1 if row is None else int(row["seq"]) + 1
            db.execute("INSERT INTO opportunity_keys(pair_id, direction, seq, signature, open) "
                       "VALUES(?,?,?,?,1) ON CONFLICT(pair_id, direction) DO UPDATE SET "
                       "seq=excluded.seq, signature=excluded.signature, open=1",
                       (pair_id, direction, seq, signature))
        return opportunity_key(pair_id, direction, seq)

    def close_opportunity(self, pair_id: str, direction: str) -> None:
        """The opportunity is gone: the next one, even with the same figures, is new."""
        with self._transaction() as db:
            db.execute("UPDATE opportunity_keys SET open=0 WHERE pair_id=? AND direction=?",
                       (pair_id, direction))

    def observations(self, *, since: datetime | None = None,
                     session_id: str | None = None) -> list[Observation]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM observations WHERE 1=1"
        args: list[Any] = []
        if since is not None:
            sql += " AND at >= ?"
            args.append(since.isoformat())
        if session_id is not None:
            sql += " AND session_id = ?"
            args.append(session_id)
        rows = self._db.execute(sql + " ORDER BY at, id", args).fetchall()
        return [Observation(**dict(row)) for row in rows]

    def last_session(self) -> str | None:
        row = self._db.execute("SELECT session_id FROM observations ORDER BY id DESC "
                               "LIMIT 1").fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        self._db.close()


__all__ = ["FILE_NAME", "STATUSES", "Observation", "ScanStore", "opportunity_key"]
