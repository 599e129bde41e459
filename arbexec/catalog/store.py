"""The market catalogue: a SQLite file of every venue's markets, apart from the journal.

One row per (venue, market), replaced whole when the venue lists the market again, with
the time it was refreshed. A sync writes each page and the cursor of the next page in one
transaction, so an interrupted sync resumes at the first page it had not stored: nothing
is skipped and nothing counted twice. The catalogue is a cache of public data: losing the
file loses nothing that a sync cannot bring back, so it is written without fsync per page.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from attrs import frozen

from arbexec.catalog.listing import MarketListing, MarketStatus
from arbexec.errors import ConfigError
from arbexec.model import now_utc

_SCHEMA = """
CREATE TABLE IF NOT EXISTS markets (
    venue TEXT NOT NULL, market TEXT NOT NULL, title TEXT NOT NULL, question TEXT NOT NULL,
    outcomes TEXT NOT NULL, event TEXT, event_title TEXT NOT NULL, series TEXT,
    close_time TEXT, expiration_time TEXT, resolution_time TEXT,
    resolution_source TEXT NOT NULL, rules TEXT NOT NULL, tick_size TEXT,
    price_grid TEXT NOT NULL, neg_risk INTEGER NOT NULL, grp TEXT, status TEXT NOT NULL,
    venue_status TEXT NOT NULL, volume TEXT, liquidity TEXT, updated_at TEXT,
    extra TEXT NOT NULL, refreshed_at TEXT NOT NULL,
    PRIMARY KEY (venue, market)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS markets_close ON markets (close_time);
CREATE TABLE IF NOT EXISTS sync_state (
    venue TEXT PRIMARY KEY, cursor TEXT, started_at TEXT NOT NULL, finished_at TEXT,
    pages INTEGER NOT NULL, markets INTEGER NOT NULL, since TEXT
);
"""
_COLUMNS = ("venue", "market", "title", "question", "outcomes", "event", "event_title",
            "series", "close_time", "expiration_time", "resolution_time", "resolution_source",
            "rules", "tick_size", "price_grid", "neg_risk", "grp", "status", "venue_status",
            "volume", "liquidity", "updated_at", "extra", "refreshed_at")
_UPSERT = (f"INSERT OR REPLACE INTO markets ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")


@frozen
class SyncState:
    """Where a venue's sync stands. ``cursor`` set and ``finished_at`` empty: interrupted.
    ``since`` set: the pass lists only the markets changed since then (incremental)."""

    venue: str
    cursor: str | None
    started_at: str
    finished_at: str | None
    pages: int
    markets: int
    since: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.finished_at is None


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _row(listing: MarketListing, refreshed_at: str) -> tuple[Any, ...]:
    return (listing.venue, listing.market, listing.title, listing.question,
            json.dumps(list(listing.outcomes), ensure_ascii=False), listing.event,
            listing.event_title, listing.series, _iso(listing.close_time),
            _iso(listing.expiration_time), _iso(listing.resolution_time),
            listing.resolution_source, listing.rules, _text(listing.tick_size),
            listing.price_grid, int(listing.neg_risk), listing.group, listing.status.value,
            listing.venue_status, _text(listing.volume), _text(listing.liquidity),
            _iso(listing.updated_at), json.dumps(dict(listing.extra), default=str,
                                                 ensure_ascii=False), refreshed_at)


def _listing(row: sqlite3.Row) -> tuple[MarketListing, str]:
    listing = MarketListing(
        venue=row["venue"], market=row["market"], title=row["title"], question=row["question"],
        outcomes=tuple(json.loads(row["outcomes"])), event=row["event"],
        event_title=row["event_title"], series=row["series"], close_time=row["close_time"],
        expiration_time=row["expiration_time"], resolution_time=row["resolution_time"],
        resolution_source=row["resolution_source"], rules=row["rules"],
        tick_size=row["tick_size"], price_grid=row["price_grid"],
        neg_risk=bool(row["neg_risk"]), group=row["grp"], status=row["status"],
        venue_status=row["venue_status"], volume=row["volume"], liquidity=row["liquidity"],
        updated_at=row["updated_at"], extra=json.loads(row["extra"]))
    return listing, row["refreshed_at"]


class Catalog:
    """The catalogue file. ``Catalog.open(path)``; ``close()`` when done."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Catalog:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the market catalogue {path}: {exc} (set "
                              "--catalog or ARBEXEC_CATALOG to a writable file)") from None
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ sync bookkeeping

    def sync_state(self, venue: str) -> SyncState | None:
        row = self._db.execute("SELECT * FROM sync_state WHERE venue = ?", (venue,)).fetchone()
        if row is None:
            return None
        return SyncState(row["venue"], row["cursor"], row["started_at"], row["finished_at"],
                         row["pages"], row["markets"], row["since"])

    def begin_sync(self, venue: str, since: str | None = None) -> SyncState:
        """A new pass over the venue's listing, from its first page (only the markets
        changed since ``since``, when given)."""
        state = SyncState(venue, None, now_utc().isoformat(), None, 0, 0, since)
        self._db.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (venue, None, state.started_at, None, 0, 0, since))
        return state

    def store_page(self, state: SyncState, listings: Iterable[MarketListing],
                   cursor: str | None) -> SyncState:
        """Store one page and the cursor of the next in one transaction."""
        stamp = now_utc().isoformat()
        rows = [_row(listing, stamp) for listing in listings]
        finished = stamp if cursor is None else None
        with self._transaction():
            new = len({r[1] for r in rows}) - self._seen_this_pass(state, [r[1] for r in rows])
            self._db.executemany(_UPSERT, rows)
            self._db.execute(
                "UPDATE sync_state SET cursor = ?, finished_at = ?, pages = pages + 1, "
                "markets = markets + ? WHERE venue = ?", (cursor, finished, new, state.venue))
        return SyncState(state.venue, cursor, state.started_at, finished, state.pages + 1,
                         state.markets + new, state.since)

    def _seen_this_pass(self, state: SyncState, markets: list[str]) -> int:
        """How many of these markets this pass already stored (a venue's pages may overlap):
        the pass counts each market once."""
        seen = 0
        unique = sorted(set(markets))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            seen += self._db.execute(
                f"SELECT COUNT(*) FROM markets WHERE venue = ? AND refreshed_at >= ? AND "
                f"market IN ({', '.join('?' * len(chunk))})",
                (state.venue, state.started_at, *chunk)).fetchone()[0]
        return int(seen)

    def missing_since(self, venue: str, started_at: str) -> list[MarketListing]:
        """Markets the last complete pass did not list again (delisted or filtered out)."""
        rows = self._db.execute("SELECT * FROM markets WHERE venue = ? AND refreshed_at < ?",
                                (venue, started_at))
        return [_listing(r)[0] for r in rows]

    def mark_unlisted(self, venue: str, started_at: str) -> int:
        """Open markets a complete pass no longer lists are no longer open: say so."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE markets SET status = ?, venue_status = 'unlisted' WHERE venue = ? AND "
                "refreshed_at < ? AND status IN (?, ?, ?)",
                (MarketStatus.CLOSED.value, venue, started_at, MarketStatus.OPEN.value,
                 MarketStatus.UNOPENED.value, MarketStatus.PAUSED.value))
        return cursor.rowcount

    # ------------------------------------------------------------------ reads

    def get(self, venue: str, market: str) -> MarketListing | None:
        row = self._db.execute("SELECT * FROM markets WHERE venue = ? AND market = ?",
                               (venue, market)).fetchone()
        return None if row is None else _listing(row)[0]

    def find(self, ref: str) -> list[tuple[MarketListing, str]]:
        """Markets named ``VENUE:MARKET`` or by their id alone on any venue."""
        venue, _, market = ref.partition(":")
        if market and venue and self._db.execute(
                "SELECT 1 FROM markets WHERE venue = ? LIMIT 1", (venue,)).fetchone():
            rows = self._db.execute("SELECT * FROM markets WHERE venue = ? AND market = ?",
                                    (venue, market))
        else:
            rows = self._db.execute("SELECT * FROM markets WHERE market = ?", (ref,))
        return [_listing(r) for r in rows]

    def search(self, words: Iterable[str], *, venues: Iterable[str] = (),
               open_only: bool = False) -> Iterator[MarketListing]:
        """Markets whose title, question or event title holds every word."""
        clauses, args = [], []
        for word in words:
            clauses.append("(title || ' ' || question || ' ' || event_title || ' ' || market) "
                           "LIKE ? ESCAPE '\\'")
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        wanted = list(venues)
        if wanted:
            clauses.append(f"venue IN ({', '.join('?' * len(wanted))})")
            args += wanted
        if open_only:
            clauses.append("status = ?")
            args.append(MarketStatus.OPEN.value)
        where = " AND ".join(clauses) or "1"
        for row in self._db.execute(f"SELECT * FROM markets WHERE {where}", args):
            yield _listing(row)[0]

    def listings(self, venue: str | None = None, *,
                 open_only: bool = True) -> Iterator[MarketListing]:
        query, args = "SELECT * FROM markets WHERE 1", []
        if venue is not None:
            query += " AND venue = ?"
            args.append(venue)
        if open_only:
            query += " AND status = ?"
            args.append(MarketStatus.OPEN.value)
        for row in self._db.execute(query, args):
            yield _listing(row)[0]

    def refreshed_at(self, venue: str, market: str) -> str | None:
        row = self._db.execute("SELECT refreshed_at FROM markets WHERE venue = ? AND market = ?",
                               (venue, market)).fetchone()
        return None if row is None else str(row[0])

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT venue, COUNT(*) FROM markets GROUP BY venue")
        return {str(venue): int(n) for venue, n in rows}

    def _transaction(self) -> Any:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")
