"""``Journal``: the one object the engine, the CLI and the arbitrage executor hold.

It opens the database (WAL, the schema checked or migrated) and hands each call to the
store that owns it; every public write is one transaction, or deferred to the next one.

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (the acceptance drills
SIGKILL the engine); ``durability = "full"`` also survives power loss, at a cost per commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import define, field

from arbexec.errors import JournalError, JournalUnusable
from arbexec.events import Event
from arbexec.journal import summaries
from arbexec.journal.event_log import EventLog
from arbexec.journal.fills import FillStore
from arbexec.journal.halt_store import HaltState, HaltStore
from arbexec.journal.lock import EngineLock
from arbexec.journal.orders import OrderStore
from arbexec.journal.pairs import PairStore
from arbexec.journal.reads import OrderQueries
from arbexec.journal.records import Intent, JournalRow
from arbexec.journal.schema import ensure_schema
from arbexec.journal.summaries import Figures
from arbexec.journal.unit_of_work import UnitOfWork
from arbexec.model import ZERO, Fill, OrderRequest, OrderStatus, now_utc


def _connect(path: Path, durability: str) -> sqlite3.Connection:
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
        ensure_schema(db, path)
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"cannot open journal {path}: {exc}") from None
    return db


@define
class Journal:
    """Synchronous SQLite journal. Each public write is one transaction."""

    path: Path
    _db: sqlite3.Connection
    _lock: EngineLock | None = None
    #: The journal's clock: write times and the UTC day a fill's P&L is booked on.
    clock: Callable[[], datetime] = now_utc
    _work: UnitOfWork = field(init=False)
    _orders: OrderStore = field(init=False)
    _fills: FillStore = field(init=False)
    _reads: OrderQueries = field(init=False)
    _events: EventLog = field(init=False)
    _pairs: PairStore = field(init=False)
    _halt: HaltStore = field(init=False)

    def __attrs_post_init__(self) -> None:
        work = self._work = UnitOfWork(self._db, where=str(self.path))
        self._orders = OrderStore(work, clock=self.clock)
        self._fills = FillStore(work)
        self._reads = OrderQueries(work)
        self._events = EventLog(work)
        self._pairs = PairStore(work)
        self._halt = HaltStore(work)

    @classmethod
    def open(cls, path: str | Path, *, durability: str = "normal",
             read_only: bool = False, clock: Callable[[], datetime] | None = None) -> Journal:
        """``read_only``: for commands that only look; any write raises (``query_only``)."""
        path = Path(path)
        db = _connect(path, durability)
        if read_only:
            db.execute("PRAGMA query_only=ON")
        return cls(path=path, db=db, clock=clock or now_utc)

    def lock_for_engine(self) -> None:
        """Take the one-engine lock (raises ``JournalLockedError`` naming the holder)."""
        if self._lock is None and str(self.path) != ":memory:":
            lock = EngineLock(self.path)
            lock.acquire()
            self._lock = lock

    @property
    def unusable(self) -> JournalUnusable | None:
        """Why this journal takes no new orders (deleted, replaced, disk full), or None."""
        return self._work.failure

    def check_usable(self) -> None:
        """Raise ``JournalUnusable`` if new orders must not be journaled here: an earlier
        full disk, or the file at the path is no longer the one this engine locked."""
        if self._work.failure is not None:
            raise self._work.failure
        if self._lock is not None:
            try:
                self._lock.check()
            except JournalUnusable as problem:
                raise self._work.fail(problem) from None

    def close(self) -> None:
        try:
            try:
                self.flush()
            except JournalUnusable:
                pass  # already said once; the orders' venue state is the truth
            finally:
                self._db.close()
        finally:
            if self._lock is not None:  # after the connection: see arbexec.journal.lock
                self._lock.release()
                self._lock = None

    # ------------------------------------------------------------------ transactions

    @property
    def has_deferred(self) -> bool:
        return self._work.has_deferred

    def flush(self) -> None:
        """Commit deferred writes (the next write-ahead commit also carries them)."""
        self._work.flush()

    def append_events(self, events: Iterable[Event], key: str | None = None) -> None:
        self._events.append(events, key)

    # ------------------------------------------------------------------ orders

    def get(self, idempotency_key: str) -> JournalRow | None:
        return self._orders.get(idempotency_key)

    def find_by_request_id(self, request_id: str) -> list[JournalRow]:
        return self._orders.find_by_request_id(request_id)

    def find_by_venue_order_id(self, venue: str, venue_order_id: str) -> JournalRow | None:
        return self._orders.find_by_venue_order_id(venue, venue_order_id)

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
        None where it was written, the existing row where its key was already taken.
        Raises ``JournalUnusable`` (nothing written) when the journal takes no new orders."""
        self.check_usable()
        return self._orders.record_intents(intents)

    def record_denial(
        self, request: OrderRequest, *, code: str, reason: str, events: Sequence[Event] = ()
    ) -> JournalRow | None:
        """Record a local refusal. Returns the existing row if the key already holds an order
        (which then stands: a denial never overwrites a sent order)."""
        return self._orders.record_denial(request, code=code, reason=reason, events=events)

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
        statements = self._orders.state_statements(
            key, status=status, venue_order_id=venue_order_id,
            filled_quantity=filled_quantity, average_price=average_price, fees=fees,
            fills=fills, reason_code=reason_code, reason=reason,
            acknowledged_at=acknowledged_at, executed_at=executed_at,
            latency_ack_ms=latency_ack_ms, latency_final_ms=latency_final_ms, events=events,
            replace_reason=replace_reason, venue=venue,
        )
        if defer:
            self._work.defer(statements)
        else:
            self._work.commit(statements)

    def fills(self, key: str) -> list[Fill]:
        return self._fills.of_order(key)

    def fills_by_order(self) -> dict[str, list[Fill]]:
        """Every journaled fill, per idempotency key: positions and exposure are rebuilt
        from these (never from a stored average)."""
        return self._fills.by_order()

    def status_of(self, idempotency_key: str) -> OrderStatus | None:
        """The key's status, or None when the journal has no order under it. Reads without
        flushing: deferred writes only move existing orders between states, so whether a
        key exists (and whether it is only a denial) is always current."""
        return self._orders.status_of(idempotency_key)

    def sent_at(self, idempotency_key: str) -> datetime | None:
        """Wall-clock time the order's intent was written before its send (its first
        ``order.sent`` event): the start of the "never received" grace, across restarts."""
        return self._events.first_at(idempotency_key, "order.sent")

    # ------------------------------------------------------------------ read side

    def non_final(self, venue: str | None = None) -> list[JournalRow]:
        return self._reads.non_final(venue)

    def query(
        self,
        *,
        venue: str | None = None,
        market: str | None = None,
        status: Sequence[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        request_id: str | None = None,
        key: str | None = None,
        tag: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[JournalRow]:
        """Matching orders, oldest first; ``limit``: only the latest so many."""
        return self._reads.query(venue=venue, market=market, status=status, since=since,
                                 until=until, request_id=request_id, key=key, tag=tag,
                                 limit=limit)

    def events(
        self,
        *,
        kinds: Sequence[str] = (),
        key: str | None = None,
        since_seq: int = 0,
        limit: int | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        latest: int | None = None,
    ) -> Iterator[tuple[int, Event]]:
        """Events in order; ``limit`` keeps the first so many, ``latest`` the last."""
        return self._events.read(kinds=kinds, key=key, since_seq=since_seq, limit=limit,
                                 request_id=request_id, since=since, until=until,
                                 latest=latest)

    # ------------------------------------------------------------------ summaries

    def positions(self) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
        """(venue, market, outcome) -> (contracts, cost basis), from the running summary."""
        self.flush()
        return {(r[0], r[1], r[2]): (Decimal(r[3]), Decimal(r[4])) for r in self._db.execute(
            "SELECT venue, market, outcome, quantity, cost FROM positions")}

    def market_exposure(self) -> dict[tuple[str, str], Decimal]:
        """(venue, market) -> money final orders leave standing there (before the
        ledger's floor at zero), from the running summary."""
        self.flush()
        return {(r[0], r[1]): Decimal(r[2]) for r in self._db.execute(
            "SELECT venue, market, amount FROM market_exposure")}

    def opened_by(self, key: str) -> Decimal:
        """The money a live order's fills journaled so far opened (``order_booking``; it
        stands when the order is final), zero when none is booked."""
        self.flush()
        found = self._db.execute("SELECT opened FROM order_booking WHERE idempotency_key=?",
                                 (key,)).fetchone()
        return ZERO if found is None else Decimal(found[0])

    def daily_pnl(self, day: date | None = None
                  ) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
        """(UTC day, venue, market) -> (realised net of fees, fees); one day or all."""
        self.flush()
        sql = "SELECT day, venue, market, realised, fees FROM daily_pnl"
        args: tuple[str, ...] = ()
        if day is not None:
            sql += " WHERE day=?"
            args = (day.isoformat(),)
        return {(r[0], r[1], r[2]): (Decimal(r[3]), Decimal(r[4]))
                for r in self._db.execute(sql + " ORDER BY day, venue, market", args)}

    def realised_on(self, day: date) -> Decimal:
        """Realised P&L net of fees booked on one UTC day (the daily loss limit's figure)."""
        return sum((realised for realised, _ in self.daily_pnl(day).values()), ZERO)

    def market_events(self) -> dict[tuple[str, str], str]:
        """(venue, market) -> the event its orders were admitted under (first one)."""
        self.flush()
        return dict(summaries.market_events(self._db))

    def summary_figures(self) -> Figures:
        """Every running summary as it stands."""
        self.flush()
        return summaries.read_figures(self._db)

    def rebuilt_figures(self) -> Figures:
        """The same figures recomputed from every order and fill (reads the whole journal)."""
        self.flush()
        return summaries.rebuild(self._db)

    def verify(self) -> list[str]:
        """What differs between the running summaries and a full rebuild; empty if
        nothing. Both are read in one transaction, so a live engine cannot split them."""
        self.flush()
        self._db.execute("BEGIN")
        try:
            return self.summary_figures().differences(self.rebuilt_figures())
        finally:
            self._db.execute("COMMIT")

    def filled_orders(self) -> list[JournalRow]:
        """Every order with fills, oldest first: positions and P&L are rebuilt from these."""
        return self._reads.filled_orders()

    def counts_by_status(self) -> dict[str, int]:
        return self._reads.counts_by_status()

    # ------------------------------------------------------------------ pairs

    def save_pair(self, pair_id: str, *, request: Mapping[str, Any], state: str, step: str,
                  detail: Mapping[str, Any], events: Sequence[Event] = ()) -> None:
        self._pairs.save(pair_id, request=request, state=state, step=step, detail=detail,
                         events=events)

    def get_pair(self, pair_id: str) -> dict[str, Any] | None:
        return self._pairs.get(pair_id)

    def pairs(self, *, unfinished_only: bool = False) -> list[dict[str, Any]]:
        return self._pairs.all(unfinished_only=unfinished_only)

    # ------------------------------------------------------------------ halt flag

    def halt_state(self) -> HaltState:
        return self._halt.current()

    def set_halt(self, halted: bool, *, reason: str | None, by: str) -> HaltState:
        return self._halt.set(halted, reason=reason, by=by)

    def data_version(self) -> int:
        """Changes when another connection commits: a cheap way to notice outside writes."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])
