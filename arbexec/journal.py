"""The write-ahead journal: SQLite in WAL mode, the single source of truth.

It holds every request and its order (keyed by the idempotency key, UNIQUE), every fill
(unique per order and trade id), an append-only event history, arbitrage pairs, and the halt
flag. The intent and its venue-side identity are committed *before* anything is sent, so a
crash can never forget an order that may have reached a venue.

Indexes are kept to what the order path and recovery read (the unique key, status for open
orders, request id, events by key): every index is a page written by each commit, so
queries by venue, market or event kind (``arbexec audit``) scan instead.

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (the acceptance drills
SIGKILL the engine); ``durability = "full"`` also survives power loss, at a cost per commit.

One journal is driven by one engine at a time: ``EngineLock`` takes an exclusive
``flock`` on ``<journal>.lock`` (released by the OS even on SIGKILL). Readers (``audit``,
``orders``) and the halt switch need no lock; SQLite serialises their writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

from arbexec.errors import JournalError, JournalLockedError
from arbexec.events import Event
from arbexec.model import (
    ExecutionResult,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    now_utc,
)

SCHEMA_VERSION = 1

_SCHEMA = """
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

#: Statuses of orders that may still change on their venue.
NON_FINAL = (
    OrderStatus.PENDING.value,
    OrderStatus.UNKNOWN.value,
    OrderStatus.OPEN.value,
    OrderStatus.PARTIALLY_FILLED.value,
)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON with Decimals as strings (one shared encoder: this runs per order)."""
    return _ENCODER.encode(value)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def request_to_dict(request: OrderRequest) -> dict[str, Any]:
    """The request as JSON-ready data (the form the jsonl source reads)."""
    data: dict[str, Any] = {
        "request_id": request.request_id,
        "idempotency_key": request.idempotency_key,
        "venue": request.venue,
        "market": request.market,
        "outcome": request.outcome.value,
        "side": request.side.value,
        "quantity": str(request.quantity),
        "limit_price": str(request.limit_price),
        "time_in_force": request.time_in_force.value,
        "post_only": request.post_only,
        "requested_at": request.requested_at.isoformat(),
    }
    if request.expires_at is not None:
        data["expires_at"] = request.expires_at.isoformat()
    if request.reference_price is not None:
        data["reference_price"] = str(request.reference_price)
    if request.expected_value is not None:
        data["expected_value"] = str(request.expected_value)
    if request.wait_budget is not None:
        data["wait_budget"] = request.wait_budget
    if request.tags:
        data["tags"] = dict(request.tags)
    return data


@frozen(kw_only=True)
class JournalRow:
    """One order as the journal knows it."""

    idempotency_key: str
    request_id: str
    venue: str
    market: str
    outcome: str
    side: str
    quantity: Decimal
    limit_price: Decimal
    request: Mapping[str, Any] = field(hash=False)
    status: OrderStatus
    reason_code: str | None
    reason: str | None
    identity: str | None
    venue_order_id: str | None
    filled_quantity: Decimal
    average_price: Decimal | None
    fees: Decimal
    pair_id: str | None
    requested_at: datetime
    acknowledged_at: datetime | None
    executed_at: datetime | None
    latency_ack_ms: float | None
    latency_final_ms: float | None
    updated_at: datetime

    def to_result(self, *, duplicate: bool = False) -> ExecutionResult:
        from arbexec.model import Outcome, Side

        return ExecutionResult(
            request_id=self.request_id,
            idempotency_key=self.idempotency_key,
            status=self.status,
            venue=self.venue,
            market=self.market,
            outcome=Outcome(self.outcome),
            side=Side(self.side),
            quantity=self.quantity,
            limit_price=self.limit_price,
            venue_order_id=self.venue_order_id,
            filled_quantity=self.filled_quantity,
            average_price=self.average_price,
            fees=self.fees,
            reason_code=self.reason_code,
            reason=self.reason,
            tags=self.request.get("tags") or {},
            requested_at=self.requested_at,
            acknowledged_at=self.acknowledged_at,
            executed_at=self.executed_at,
            latency_ack_ms=self.latency_ack_ms,
            latency_final_ms=self.latency_final_ms,
            duplicate=duplicate,
        )

    def to_request(self) -> OrderRequest:
        from arbexec.sources.parse import request_from_mapping

        return request_from_mapping(self.request)


def _row(r: sqlite3.Row) -> JournalRow:
    def dt(v: str | None) -> datetime | None:
        return None if v is None else datetime.fromisoformat(v)

    return JournalRow(
        idempotency_key=r["idempotency_key"],
        request_id=r["request_id"],
        venue=r["venue"],
        market=r["market"],
        outcome=r["outcome"],
        side=r["side"],
        quantity=Decimal(r["quantity"]),
        limit_price=Decimal(r["limit_price"]),
        request=json.loads(r["request"]),
        status=OrderStatus(r["status"]),
        reason_code=r["reason_code"],
        reason=r["reason"],
        identity=r["identity"],
        venue_order_id=r["venue_order_id"],
        filled_quantity=Decimal(r["filled_quantity"]),
        average_price=None if r["average_price"] is None else Decimal(r["average_price"]),
        fees=Decimal(r["fees"]),
        pair_id=r["pair_id"],
        requested_at=datetime.fromisoformat(r["requested_at"]),
        acknowledged_at=dt(r["acknowledged_at"]),
        executed_at=dt(r["executed_at"]),
        latency_ack_ms=r["latency_ack_ms"],
        latency_final_ms=r["latency_final_ms"],
        updated_at=datetime.fromisoformat(r["updated_at"]),
    )


@frozen(kw_only=True)
class Intent:
    """An order about to be sent, with its venue-side identity fixed."""

    request: OrderRequest
    identity: str
    venue_order_id: str | None
    pair_id: str | None = None
    events: tuple[Event, ...] = ()


_INSERT_INTENT = """INSERT INTO orders(idempotency_key, request_id, venue, market, outcome, side,
        quantity, limit_price, request, status, identity, venue_order_id, pair_id,
        requested_at, updated_at)
    VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT(idempotency_key) DO UPDATE SET
        request_id=excluded.request_id, venue=excluded.venue,
        market=excluded.market, outcome=excluded.outcome, side=excluded.side,
        quantity=excluded.quantity, limit_price=excluded.limit_price,
        request=excluded.request, status=excluded.status, reason_code=NULL,
        reason=NULL, identity=excluded.identity,
        venue_order_id=excluded.venue_order_id, pair_id=excluded.pair_id,
        requested_at=excluded.requested_at, updated_at=excluded.updated_at
    WHERE orders.status='DENIED'"""


@frozen(kw_only=True)
class HaltState:
    halted: bool
    reason: str | None = None
    by: str | None = None
    at: datetime | None = None


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


@define
class Journal:
    """Synchronous SQLite journal. Each public write is one transaction."""

    path: Path
    _db: sqlite3.Connection
    _lock: EngineLock | None = None
    _deferred: list[tuple[str, Sequence[Any]]] = field(factory=list)

    @classmethod
    def open(cls, path: str | Path, *, durability: str = "normal") -> Journal:
        path = Path(path)
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the journal's folder {path.parent}: "
                               f"{exc.strerror or exc}; choose another path with --journal "
                               "or [journal] path") from None
        try:
            db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                 timeout=10.0)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
            db.execute("PRAGMA busy_timeout=10000")
            db.executescript(_SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if found is None:
                db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('schema', ?)",
                           (str(SCHEMA_VERSION),))
            elif int(found[0]) > SCHEMA_VERSION:
                raise JournalError(
                    f"journal {path} was written by a newer arbexec (schema {found[0]}); "
                    "upgrade arbexec to read it"
                )
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open journal {path}: {exc}") from None
        return cls(path=path, db=db)

    def lock_for_engine(self) -> None:
        """Take the one-engine lock (raises ``JournalLockedError`` naming the holder)."""
        if self._lock is None and str(self.path) != ":memory:":
            lock = EngineLock(Path(f"{self.path}.lock"))
            lock.acquire()
            self._lock = lock

    def close(self) -> None:
        try:
            self.flush()
            self._db.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    # ------------------------------------------------------------------ transactions

    @property
    def has_deferred(self) -> bool:
        return bool(self._deferred)

    def flush(self) -> None:
        """Commit deferred writes (the next write-ahead commit also carries them)."""
        if self._deferred:
            self._tx(())

    def _tx(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._run_deferred()
            for sql, args in statements:
                db.execute(sql, args)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _run_deferred(self) -> None:
        """Inside an open transaction: execute what was deferred. The list is cleared only
        after COMMIT by the caller's success path, so a failed transaction keeps it."""
        if self._deferred:
            pending, self._deferred = self._deferred, []
            try:
                for sql, args in pending:
                    self._db.execute(sql, args)
            except BaseException:
                self._deferred = pending + self._deferred
                raise

    @staticmethod
    def _event_stmt(event: Event, key: str | None = None) -> tuple[str, Sequence[Any]]:
        return (
            "INSERT INTO events(at, kind, request_id, idempotency_key, data) VALUES(?,?,?,?,?)",
            (event.at.isoformat(), event.kind, event.request_id, key, dumps(dict(event.data))),
        )

    def append_events(self, events: Iterable[Event], key: str | None = None) -> None:
        self._tx(self._event_stmt(e, key) for e in events)

    # ------------------------------------------------------------------ orders

    def get(self, idempotency_key: str) -> JournalRow | None:
        self.flush()
        r = self._db.execute(
            "SELECT * FROM orders WHERE idempotency_key=?", (idempotency_key,)
        ).fetchone()
        return None if r is None else _row(r)

    def find_by_request_id(self, request_id: str) -> list[JournalRow]:
        self.flush()
        rows = self._db.execute("SELECT * FROM orders WHERE request_id=?", (request_id,))
        return [_row(r) for r in rows]

    def find_by_venue_order_id(self, venue: str, venue_order_id: str) -> JournalRow | None:
        self.flush()
        r = self._db.execute(
            "SELECT * FROM orders WHERE venue=? AND venue_order_id=?", (venue, venue_order_id)
        ).fetchone()
        return None if r is None else _row(r)

    def record_intent(
        self,
        request: OrderRequest,
        *,
        identity: str,
        venue_order_id: str | None,
        pair_id: str | None = None,
        events: Sequence[Event] = (),
    ) -> JournalRow | None:
        """Write the intent before sending. Returns the existing row when the key is taken
        (by anything but an earlier denial), in which case nothing must be sent."""
        return self.record_intents([Intent(request=request, identity=identity,
                                           venue_order_id=venue_order_id, pair_id=pair_id,
                                           events=tuple(events))])[0]

    def record_intents(self, intents: Sequence[Intent]) -> list[JournalRow | None]:
        """Write many intents in one transaction (group commit): one answer per intent,
        None where it was written, the existing row where its key was already taken."""
        now = now_utc().isoformat()
        db = self._db
        taken: list[int] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            self._run_deferred()
            for position, intent in enumerate(intents):
                request = intent.request
                cur = db.execute(_INSERT_INTENT, (
                    request.idempotency_key, request.request_id, request.venue, request.market,
                    request.outcome.value, request.side.value, str(request.quantity),
                    str(request.limit_price), dumps(request_to_dict(request)),
                    OrderStatus.PENDING.value, intent.identity, intent.venue_order_id,
                    intent.pair_id, request.requested_at.isoformat(), now,
                ))
                if cur.rowcount == 0:
                    taken.append(position)
                    continue
                for event in intent.events:
                    db.execute(*self._event_stmt(event, request.idempotency_key))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        answers: list[JournalRow | None] = [None] * len(intents)
        for position in taken:
            answers[position] = self.get(intents[position].request.idempotency_key)
        return answers

    def record_denial(
        self, request: OrderRequest, *, code: str, reason: str, events: Sequence[Event] = ()
    ) -> JournalRow | None:
        """Record a local refusal. Returns the existing row if the key already holds an order
        (which then stands: a denial never overwrites a sent order)."""
        now = now_utc().isoformat()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._run_deferred()
            cur = db.execute(
                """INSERT INTO orders(idempotency_key, request_id, venue, market, outcome, side,
                       quantity, limit_price, request, status, reason_code, reason,
                       requested_at, executed_at, updated_at)
                   VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(idempotency_key) DO UPDATE SET
                       reason_code=excluded.reason_code, reason=excluded.reason,
                       request=excluded.request, executed_at=excluded.executed_at,
                       updated_at=excluded.updated_at
                   WHERE orders.status='DENIED'""",
                (
                    request.idempotency_key, request.request_id, request.venue, request.market,
                    request.outcome.value, request.side.value, str(request.quantity),
                    str(request.limit_price), dumps(request_to_dict(request)),
                    OrderStatus.DENIED.value, code, reason, request.requested_at.isoformat(),
                    now, now,
                ),
            )
            if cur.rowcount == 0:
                db.execute("COMMIT")  # keeps the deferred writes it carried
                return self.get(request.idempotency_key)
            for event in events:
                db.execute(*self._event_stmt(event, request.idempotency_key))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return None

    def record_state(
        self,
        key: str,
        *,
        status: OrderStatus,
        venue_order_id: str | None = None,
        filled_quantity: Decimal | None = None,
        average_price: Decimal | None = None,
        fees: Decimal | None = None,
        fills: Sequence[Fill] = (),
        reason_code: str | None = None,
        reason: str | None = None,
        acknowledged_at: datetime | None = None,
        executed_at: datetime | None = None,
        latency_ack_ms: float | None = None,
        latency_final_ms: float | None = None,
        events: Sequence[Event] = (),
        replace_reason: bool = False,
        venue: str | None = None,
        defer: bool = False,
    ) -> None:
        """Move an order to a new state, append its new fills (deduplicated by trade id).

        ``replace_reason`` overwrites the reason even with None (a final state supersedes
        the note an UNKNOWN state carried). ``defer`` queues the write for the next commit
        (a later write-ahead intent, ``flush()``, or any read): safe for states that follow
        a committed intent, because a crash before the commit leaves the order in flight
        and reconciliation takes the venue's word for it."""
        now = now_utc().isoformat()
        statements: list[tuple[str, Sequence[Any]]] = [(
            """UPDATE orders SET status=?,
                   venue_order_id=COALESCE(?, venue_order_id),
                   filled_quantity=COALESCE(?, filled_quantity),
                   average_price=COALESCE(?, average_price),
                   fees=COALESCE(?, fees),
                   reason_code=CASE WHEN ? THEN ? ELSE COALESCE(?, reason_code) END,
                   reason=CASE WHEN ? THEN ? ELSE COALESCE(?, reason) END,
                   acknowledged_at=COALESCE(acknowledged_at, ?),
                   executed_at=COALESCE(?, executed_at),
                   latency_ack_ms=COALESCE(latency_ack_ms, ?),
                   latency_final_ms=COALESCE(?, latency_final_ms),
                   updated_at=?
               WHERE idempotency_key=?""",
            (
                status.value, venue_order_id, _text(filled_quantity), _text(average_price),
                _text(fees), replace_reason, reason_code, reason_code, replace_reason, reason,
                reason, _iso(acknowledged_at), _iso(executed_at),
                latency_ack_ms, latency_final_ms, now, key,
            ),
        )]
        for fill in fills:
            if venue is None:
                row = self._db.execute(
                    "SELECT venue FROM orders WHERE idempotency_key=?", (key,)
                ).fetchone()
                venue = row[0] if row else "?"
            statements.append((
                """INSERT INTO fills(idempotency_key, trade_id, venue, quantity, price, fee,
                       liquidity, final, at) VALUES(?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(idempotency_key, trade_id) DO UPDATE SET
                       quantity=excluded.quantity, price=excluded.price, fee=excluded.fee,
                       final=MAX(fills.final, excluded.final)""",
                (key, fill.trade_id, venue or "?", str(fill.quantity), str(fill.price),
                 str(fill.fee), fill.liquidity.value, int(fill.final),
                 fill.timestamp.isoformat()),
            ))
        statements.extend(self._event_stmt(e, key) for e in events)
        if defer:
            self._deferred.extend(statements)
        else:
            self._tx(statements)

    def fills(self, key: str) -> list[Fill]:
        self.flush()
        rows = self._db.execute(
            "SELECT * FROM fills WHERE idempotency_key=? ORDER BY at, trade_id", (key,)
        )
        return [
            Fill(trade_id=r["trade_id"], quantity=r["quantity"], price=r["price"], fee=r["fee"],
                 liquidity=r["liquidity"], final=bool(r["final"]), timestamp=r["at"])
            for r in rows
        ]

    def non_final(self, venue: str | None = None) -> list[JournalRow]:
        self.flush()
        marks = ",".join("?" * len(NON_FINAL))
        sql = f"SELECT * FROM orders WHERE status IN ({marks})"
        args: list[Any] = list(NON_FINAL)
        if venue is not None:
            sql += " AND venue=?"
            args.append(venue)
        return [_row(r) for r in self._db.execute(sql + " ORDER BY requested_at", args)]

    def query(
        self,
        *,
        venue: str | None = None,
        market: str | None = None,
        status: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        request_id: str | None = None,
        tag: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[JournalRow]:
        self.flush()
        sql = "SELECT * FROM orders WHERE 1=1"
        args: list[Any] = []
        for column, value in (("venue", venue), ("market", market), ("request_id", request_id)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        if status:
            sql += f" AND status IN ({','.join('?' * len(status))})"
            args.extend(status)
        if since is not None:
            sql += " AND requested_at>=?"
            args.append(since.isoformat())
        if until is not None:
            sql += " AND requested_at<?"
            args.append(until.isoformat())
        if tag is not None:
            sql += " AND json_extract(request, '$.tags.' || ?) = ?"
            args.extend(tag)
        sql += " ORDER BY requested_at"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_row(r) for r in self._db.execute(sql, args)]

    def events(
        self,
        *,
        kinds: Sequence[str] = (),
        key: str | None = None,
        since_seq: int = 0,
        limit: int | None = None,
    ) -> Iterator[tuple[int, Event]]:
        self.flush()
        sql = "SELECT * FROM events WHERE seq>?"
        args: list[Any] = [since_seq]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        if key is not None:
            sql += " AND idempotency_key=?"
            args.append(key)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for r in self._db.execute(sql, args):
            yield r["seq"], Event(kind=r["kind"], data=json.loads(r["data"]),
                                  at=datetime.fromisoformat(r["at"]), request_id=r["request_id"])

    def filled_orders(self) -> list[JournalRow]:
        """Every order with fills, oldest first: positions and P&L are rebuilt from these."""
        self.flush()
        return [_row(r) for r in self._db.execute(
            "SELECT * FROM orders WHERE status != 'DENIED' AND average_price IS NOT NULL "
            "AND CAST(filled_quantity AS REAL) > 0 ORDER BY requested_at")]

    def counts_by_status(self) -> dict[str, int]:
        self.flush()
        return {r[0]: r[1] for r in self._db.execute(
            "SELECT status, COUNT(*) FROM orders GROUP BY status")}

    # ------------------------------------------------------------------ pairs

    def save_pair(self, pair_id: str, *, request: Mapping[str, Any], state: str, step: str,
                  detail: Mapping[str, Any], events: Sequence[Event] = ()) -> None:
        now = now_utc().isoformat()
        statements: list[tuple[str, Sequence[Any]]] = [(
            """INSERT INTO pairs(pair_id, request, state, step, detail, created_at, updated_at)
               VALUES(?,?,?,?,?,?,?)
               ON CONFLICT(pair_id) DO UPDATE SET state=excluded.state, step=excluded.step,
                   detail=excluded.detail, updated_at=excluded.updated_at""",
            (pair_id, dumps(dict(request)), state, step, dumps(dict(detail)), now, now),
        )]
        statements.extend(self._event_stmt(e, pair_id) for e in events)
        self._tx(statements)

    def get_pair(self, pair_id: str) -> dict[str, Any] | None:
        r = self._db.execute("SELECT * FROM pairs WHERE pair_id=?", (pair_id,)).fetchone()
        if r is None:
            return None
        return {"pair_id": r["pair_id"], "request": json.loads(r["request"]),
                "state": r["state"], "step": r["step"], "detail": json.loads(r["detail"]),
                "created_at": r["created_at"], "updated_at": r["updated_at"]}

    def pairs(self, *, unfinished_only: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT pair_id FROM pairs"
        if unfinished_only:
            sql += " WHERE state NOT IN ('HEDGED','MISSED','UNWOUND','EXPOSED','DENIED')"
        ids = [r[0] for r in self._db.execute(sql + " ORDER BY created_at")]
        return [p for p in (self.get_pair(i) for i in ids) if p is not None]

    # ------------------------------------------------------------------ halt flag

    def halt_state(self) -> HaltState:
        r = self._db.execute("SELECT halted, reason, by, at FROM halt WHERE id=1").fetchone()
        if r is None:
            return HaltState(halted=False)
        return HaltState(halted=bool(r[0]), reason=r[1], by=r[2],
                         at=datetime.fromisoformat(r[3]))

    def set_halt(self, halted: bool, *, reason: str | None, by: str) -> HaltState:
        now = now_utc()
        event = Event(kind="halt" if halted else "resume",
                      data={"reason": reason, "by": by}, at=now)
        self._tx([
            ("""INSERT INTO halt(id, halted, reason, by, at) VALUES(1,?,?,?,?)
                ON CONFLICT(id) DO UPDATE SET halted=excluded.halted, reason=excluded.reason,
                    by=excluded.by, at=excluded.at""",
             (int(halted), reason, by, now.isoformat())),
            self._event_stmt(event),
        ])
        return HaltState(halted=halted, reason=reason, by=by, at=now)

    def data_version(self) -> int:
        """Changes when another connection commits: a cheap way to notice outside writes."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    # --- engine queries ---

    def status_of(self, idempotency_key: str) -> OrderStatus | None:
        """The key's status, or None when the journal has no order under it. Reads without
        flushing: deferred writes only move existing orders between states, so whether a
        key exists (and whether it is only a denial) is always current."""
        r = self._db.execute("SELECT status FROM orders WHERE idempotency_key=?",
                             (idempotency_key,)).fetchone()
        return None if r is None else OrderStatus(r[0])

    def sent_at(self, idempotency_key: str) -> datetime | None:
        """Wall-clock time the order's intent was written before its send (its first
        ``order.sent`` event): the start of the "never received" grace, across restarts."""
        self.flush()
        r = self._db.execute(
            "SELECT at FROM events WHERE idempotency_key=? AND kind='order.sent' "
            "ORDER BY seq LIMIT 1", (idempotency_key,)).fetchone()
        return None if r is None else datetime.fromisoformat(r[0])

    def fills_by_order(self) -> dict[str, list[Fill]]:
        """Every journaled fill, per idempotency key: positions and exposure are rebuilt
        from these (never from a stored average)."""
        self.flush()
        out: dict[str, list[Fill]] = {}
        for r in self._db.execute("SELECT * FROM fills ORDER BY at, trade_id"):
            out.setdefault(r["idempotency_key"], []).append(Fill(
                trade_id=r["trade_id"], quantity=r["quantity"], price=r["price"], fee=r["fee"],
                liquidity=r["liquidity"], final=bool(r["final"]), timestamp=r["at"]))
        return out


def order_state_summary(state: OrderState) -> dict[str, Any]:
    """The part of an order state worth an event row."""
    return {
        "venue": state.venue,
        "venue_order_id": state.venue_order_id,
        "status": state.status.value,
        "filled_quantity": str(state.filled_quantity),
        "average_price": _text(state.average_price),
        "fees": str(state.fees),
        "reason": state.reason,
    }
