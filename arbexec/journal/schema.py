"""The journal's tables, its schema version, and the steps that bring an older journal up.

The version is the ``schema`` row of ``meta``; ``written_by`` names the arbexec release that
set it, so a journal from a newer release is refused with both versions named, before this
release changes anything in it. An older journal is migrated step by step, each step in the
same transaction as the version it reaches, so a crash mid-migration leaves the old version.

Indexes are kept to what the order path and recovery read (the unique key, status for open
orders, request id, events by key, and a partial index on the few event kinds start-up
reads): every index is a page written by each commit, so queries by venue, market or a
common event kind (``arbexec audit``) scan instead; the latest rows are read backwards in
each table's own order (``LIMIT``), which costs nothing to keep.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from arbexec.errors import JournalError

#: The schema this release writes. 2: ``meta.written_by`` names the release. 3: running
#: summaries (positions, exposure, daily P&L, learned events; ``arbexec.journal.summaries``).
#: 4: the same summaries rebuilt, a sell beyond the contracts held booked as the other outcome.
SCHEMA_VERSION = 4

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    idempotency_key TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    market TEXT NOT NULL,
    outcome TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    limit_price TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    reason_code TEXT,
    reason TEXT,
    identity TEXT,
    venue_order_id TEXT,
    filled_quantity TEXT NOT NULL DEFAULT '0',
    average_price TEXT,
    fees TEXT NOT NULL DEFAULT '0',
    pair_id TEXT,
    requested_at TEXT NOT NULL,
    acknowledged_at TEXT,
    executed_at TEXT,
    latency_ack_ms REAL,
    latency_final_ms REAL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_status ON orders(status);
CREATE INDEX IF NOT EXISTS orders_request_id ON orders(request_id);
CREATE TABLE IF NOT EXISTS fills (
    idempotency_key TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    liquidity TEXT NOT NULL,
    final INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (idempotency_key, trade_id)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT,
    idempotency_key TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_key ON events(idempotency_key);
CREATE TABLE IF NOT EXISTS pairs (
    pair_id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS halt (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    halted INTEGER NOT NULL,
    reason TEXT,
    by TEXT,
    at TEXT NOT NULL
);
"""

Migration = Callable[[sqlite3.Connection, str], None]


def _to_2(db: sqlite3.Connection, release: str) -> None:
    """Schema 1 did not say which release wrote it."""
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('written_by', ?)",
               (f"{release} (migrated from schema 1)",))


def _to_3(db: sqlite3.Connection, release: str) -> None:
    """Running summaries, built from the rows already there (by ``_to_4``, which rebuilds
    them by the booking rule of this release). An existing fill's P&L day is
    its order's execution (or last update) day, the day ``arbexec pnl`` showed before; an
    order final with fills its venue never listed gets the one fill the rebuild assumed."""
    from arbexec.journal import summaries

    for statement in summaries.SUMMARY_DDL:
        db.execute(statement)
    if "booked_on" not in {r[1] for r in db.execute("PRAGMA table_info(fills)")}:
        db.execute("ALTER TABLE fills ADD COLUMN booked_on TEXT")
    db.execute("""UPDATE fills SET booked_on = (
            SELECT substr(COALESCE(o.executed_at, o.updated_at), 1, 10) FROM orders o
            WHERE o.idempotency_key = fills.idempotency_key)
        WHERE booked_on IS NULL""")
    final = ",".join(f"'{s}'" for s in summaries.FINAL_WITH_FILLS)
    db.execute(f"""INSERT INTO fills(idempotency_key, trade_id, venue, quantity, price, fee,
            liquidity, final, at, booked_on)
        SELECT idempotency_key, '{summaries.JOURNAL_TRADE}', venue, filled_quantity,
            average_price, fees, 'TAKER', 1, COALESCE(executed_at, updated_at),
            substr(COALESCE(executed_at, updated_at), 1, 10)
        FROM orders o WHERE status IN ({final}) AND average_price IS NOT NULL
            AND CAST(filled_quantity AS REAL) > 0
            AND NOT EXISTS (SELECT 1 FROM fills f WHERE f.idempotency_key = o.idempotency_key)
        ORDER BY requested_at""")
    # the figures themselves are written by ``_to_4``, which always follows
    db.execute("""INSERT OR IGNORE INTO market_events(venue, market, event)
        SELECT json_extract(data, '$.venue'), json_extract(data, '$.market'),
            json_extract(data, '$.event')
        FROM events WHERE kind = 'order.sent' AND json_valid(data)
            AND json_type(data, '$.event') = 'text' AND json_type(data, '$.venue') = 'text'
            AND json_type(data, '$.market') = 'text'
        ORDER BY seq""")


def _to_4(db: sqlite3.Connection, release: str) -> None:
    """Schema 3 booked a sell beyond the contracts held against the average cost of
    contracts never held (its price came off the exposure as closed cost, a negative
    position was left): its summaries are rebuilt by the corrected rule
    (``arbexec.positions.book_trade``: the excess is the other outcome bought at 1 - p).
    Journals that never sold beyond a position get the same figures again."""
    from arbexec.journal import summaries

    summaries.write_figures(db, summaries.rebuild(db))
    # the daily loss rule's transitions joined the rare kinds start-up reads
    db.execute("DROP INDEX IF EXISTS events_rare")
    for statement in summaries.SUMMARY_DDL:
        db.execute(statement)


#: ``MIGRATIONS[n]`` brings schema ``n`` to ``n + 1``.
MIGRATIONS: dict[int, Migration] = {1: _to_2, 2: _to_3, 3: _to_4}


def _release() -> str:
    import arbexec

    return arbexec.__version__


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    try:
        found = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    except sqlite3.OperationalError:  # no meta table: a new, empty file
        return None
    return None if found is None else str(found[0])


def _version(db: sqlite3.Connection, path: Path) -> int | None:
    found = _meta(db, "schema")
    if found is None:
        return None
    try:
        return int(found)
    except ValueError:
        raise JournalError(f"journal {path} has an unreadable schema version {found!r}; "
                           "it was not written by arbexec") from None


def _refuse_newer(db: sqlite3.Connection, path: Path, version: int) -> None:
    release = _release()
    writer = _meta(db, "written_by") or "a newer arbexec"
    raise JournalError(
        f"journal {path} was written by a newer arbexec ({writer}, schema {version}); this "
        f"is arbexec {release} (schema {SCHEMA_VERSION}): upgrade arbexec to read it, or "
        "give this run a new journal with --journal PATH"
    )


def ensure_schema(db: sqlite3.Connection, path: Path) -> None:
    """Create a new journal's tables, migrate an older one, refuse a newer one.

    The version is checked before anything is written, so a newer journal is left exactly
    as it was; creation and each migration run under ``BEGIN IMMEDIATE`` and re-read the
    version there, so two processes opening one journal migrate it once.
    """
    version = _version(db, path)
    if version is not None and version > SCHEMA_VERSION:
        _refuse_newer(db, path, version)
    if version == SCHEMA_VERSION:
        return
    release = _release()
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _version(db, path)
        if version is not None and version > SCHEMA_VERSION:
            _refuse_newer(db, path, version)
        if version is None:
            for statement in TABLES.split(";"):  # executescript would commit
                if statement.strip():
                    db.execute(statement)
            for number in range(2, SCHEMA_VERSION):  # what later schemas add, on no rows
                MIGRATIONS[number](db, release)
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('schema', ?)",
                       (str(SCHEMA_VERSION),))
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('written_by', ?)",
                       (release,))
        else:
            while version < SCHEMA_VERSION:
                step = MIGRATIONS.get(version)
                if step is None:
                    raise JournalError(f"journal {path} has schema {version}, which this "
                                       f"arbexec {release} cannot migrate")
                step(db, release)
                version += 1
            db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(version),))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
