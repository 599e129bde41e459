"""Running summaries: positions, standing exposure, realised P&L per day, learned events.

Start-up and the desk's read commands need these figures, and rebuilding them from every
fill costs time and memory that grow with the journal's history. So the journal keeps them
up to date itself: each fill is booked inside the transaction that writes it (a ``Step`` of
the unit of work, run against the database as it stands at that point, so deferred writes
and rollbacks need no special care), and an order's final state adds the money it leaves
standing in the same transaction. A crash therefore never leaves a fill without its booking.

The booking rules are the engine's (``arbexec.positions.book_trade``): positions at
average cost; a sell closes cost basis at once and, beyond the contracts held, opens the
other outcome at 1 - p per contract; a final order leaves standing what its fills opened
(p per contract bought, 1 - p per contract sold beyond the position). Sums are kept
exactly (no rounding in additions), so the figures do not depend on the order in which
orders became final, and ``rebuild`` (a replay of every fill in the order the journal
first wrote them) gives the same figures: ``verify`` compares the two and says what
differs.
"""

from __future__ import annotations

import decimal
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import define, field

from arbexec.model import ZERO, Fill, OrderStatus
from arbexec.positions import book_trade, other_outcome

#: Exact additions: summed figures must not depend on the order they were added in.
_EXACT = decimal.Context(prec=200)

#: Event kinds read at start or by the desk; a partial index finds them without a scan.
RARE_EVENT_KINDS = ("risk.breaker", "pair.result", "risk.daily_loss")

#: The statements schema 3 adds (``arbexec.journal.schema``); a new journal runs them too.
SUMMARY_DDL = (
    """CREATE TABLE IF NOT EXISTS positions (
        venue TEXT NOT NULL, market TEXT NOT NULL, outcome TEXT NOT NULL,
        quantity TEXT NOT NULL, cost TEXT NOT NULL,
        PRIMARY KEY (venue, market, outcome)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS market_exposure (
        venue TEXT NOT NULL, market TEXT NOT NULL, amount TEXT NOT NULL,
        PRIMARY KEY (venue, market)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS daily_pnl (
        day TEXT NOT NULL, venue TEXT NOT NULL, market TEXT NOT NULL,
        realised TEXT NOT NULL, fees TEXT NOT NULL,
        PRIMARY KEY (day, venue, market)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS order_booking (
        idempotency_key TEXT PRIMARY KEY, notional TEXT NOT NULL, opened TEXT NOT NULL
        ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS market_events (
        venue TEXT NOT NULL, market TEXT NOT NULL, event TEXT NOT NULL,
        PRIMARY KEY (venue, market)) WITHOUT ROWID""",
    # named by its schema: a new list of kinds is a new index (schema 4 drops the old one)
    "CREATE INDEX IF NOT EXISTS events_rare_4 ON events(kind, seq) WHERE kind IN "
    f"({', '.join(repr(k) for k in RARE_EVENT_KINDS)})",
    # The event an order was admitted under (its per-event exposure scope), first one wins,
    # as the engine learned it from every ``order.sent`` event before.
    """CREATE TRIGGER IF NOT EXISTS learn_market_event AFTER INSERT ON events
    WHEN NEW.kind = 'order.sent' AND json_valid(NEW.data)
        AND json_type(NEW.data, '$.event') = 'text'
        AND json_type(NEW.data, '$.venue') = 'text'
        AND json_type(NEW.data, '$.market') = 'text'
    BEGIN
        INSERT OR IGNORE INTO market_events(venue, market, event) VALUES (
            json_extract(NEW.data, '$.venue'), json_extract(NEW.data, '$.market'),
            json_extract(NEW.data, '$.event'));
    END""",
)


def _add(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.add(a, b)


_FINAL = frozenset(s.value for s in OrderStatus if s.is_final)

#: Final statuses an order may have fills in.
FINAL_WITH_FILLS = tuple(sorted(_FINAL - {OrderStatus.DENIED.value}))

#: The trade id of the one fill written for an order whose venue lists no trades.
JOURNAL_TRADE = "journal"

Position = tuple[Decimal, Decimal]  # contracts, cost basis
Where = tuple[str, str, str]  # venue, market, outcome


def book_fill(position_of: Callable[[Where], Position], where: Where, side: str,
              q: Decimal, p: Decimal, fee: Decimal
              ) -> tuple[dict[Where, Position], Decimal, Decimal, Decimal]:
    """One fill booked by the engine's own rule (``arbexec.positions.book_trade``), on the
    positions it changes: (new positions, realised net of fee, cost basis closed, money at
    risk opened). A sell's part beyond the contracts held opens the other outcome, bought
    at 1 - p, as the venue holds it."""
    quantity, cost = position_of(where)
    trade = book_trade(quantity, cost, side, q, p, fee)
    changed = {where: (trade.quantity, trade.cost)}
    if trade.other:
        other = (where[0], where[1], other_outcome(where[2]))
        held, basis = position_of(other)
        changed[other] = (_add(held, trade.other), _add(basis, trade.opened))
    return changed, trade.realised, trade.closed, trade.opened


@define
class Figures:
    """The summaries in memory: what a rebuild computes and what the tables hold. Bookings
    (the money an order's fills took and opened) are kept while the order is not final."""

    positions: dict[tuple[str, str, str], Position] = field(factory=dict)
    exposure: dict[tuple[str, str], Decimal] = field(factory=dict)
    pnl: dict[tuple[str, str, str], tuple[Decimal, Decimal]] = field(factory=dict)
    bookings: dict[str, tuple[Decimal, Decimal]] = field(factory=dict)

    def differences(self, other: Figures) -> list[str]:
        """One line per figure that differs (``self`` is the summary, ``other`` the
        rebuild); empty when they agree exactly."""
        lines: list[str] = []
        tables: tuple[tuple[str, Mapping[Any, Any], Mapping[Any, Any]], ...] = (
            ("position", self.positions, other.positions),
            ("exposure", self.exposure, other.exposure),
            ("daily P&L", self.pnl, other.pnl),
            ("order booking", self.bookings, other.bookings))
        for name, mine, theirs in tables:
            for key in sorted(set(mine) | set(theirs), key=str):
                a, b = mine.get(key), theirs.get(key)
                if a != b:
                    lines.append(f"{name} {'/'.join(key) if isinstance(key, tuple) else key}: "
                                 f"summary {_shown(a)}, rebuild {_shown(b)}")
        return lines


def _shown(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------------------- the step

_ORDER = "SELECT venue, market, outcome, side, status FROM orders WHERE idempotency_key=?"
_WRITE_POSITION = ("INSERT OR REPLACE INTO positions(venue, market, outcome, quantity, cost) "
                   "VALUES(?,?,?,?,?)")
_WRITE_PNL = ("INSERT OR REPLACE INTO daily_pnl(day, venue, market, realised, fees) "
              "VALUES(?,?,?,?,?)")
_WRITE_EXPOSURE = "INSERT OR REPLACE INTO market_exposure(venue, market, amount) VALUES(?,?,?)"
_DROP_EXPOSURE = "DELETE FROM market_exposure WHERE venue=? AND market=?"


@define
class Summaries:
    """Keeps the summary tables inside the journal's transactions. Rows it has read or
    written are cached (one engine writes a journal) and the rows a transaction changed are
    written just before it commits; the cache is dropped whenever a transaction rolls back
    or another connection has committed (``UnitOfWork``)."""

    _positions: dict[tuple[str, str, str], Position] = field(factory=dict)
    _pnl: dict[tuple[str, str, str], tuple[Decimal, Decimal]] = field(factory=dict)
    _exposure: dict[tuple[str, str], Decimal] = field(factory=dict)
    #: Orders not final that this connection wrote: facts, status, booking (None: none).
    _orders: dict[str, tuple[str, str, str, str, str, tuple[Decimal, Decimal] | None, bool]] \
        = field(factory=dict)

    _dirty: set[tuple[str, tuple[str, ...]]] = field(factory=set)

    def forget(self) -> None:
        self._positions.clear()
        self._pnl.clear()
        self._exposure.clear()
        self._orders.clear()
        self._dirty.clear()

    def intent(self, key: str, venue: str, market: str, outcome: str, side: str) -> None:
        """An order just written as PENDING: nothing booked for it yet."""
        self._orders[key] = (venue, market, outcome, side, OrderStatus.PENDING.value, None,
                             False)

    def before_commit(self, db: sqlite3.Connection) -> None:
        """Write the rows this transaction changed, once each, before it commits (many
        fills of one group commit touch the same few rows)."""
        if not self._dirty:
            return
        positions, pnl, exposure, gone = [], [], [], []
        for table, key in self._dirty:
            if table == "positions":
                quantity, cost = self._positions[key]  # type: ignore[index]
                positions.append((*key, str(quantity), str(cost)))
            elif table == "daily_pnl":
                realised, fees = self._pnl[key]  # type: ignore[index]
                pnl.append((*key, str(realised), str(fees)))
            elif amount := self._exposure[key]:  # type: ignore[index]
                exposure.append((*key, str(amount)))
            else:
                gone.append(key)
        self._dirty.clear()
        for sql, rows in ((_WRITE_POSITION, positions), (_WRITE_PNL, pnl),
                          (_WRITE_EXPOSURE, exposure), (_DROP_EXPOSURE, gone)):
            if len(rows) == 1:
                db.execute(sql, rows[0])
            elif rows:
                db.executemany(sql, rows)

    def _position(self, db: sqlite3.Connection, key: tuple[str, str, str]) -> Position:
        found = self._positions.get(key)
        if found is None:
            r = db.execute("SELECT quantity, cost FROM positions WHERE venue=? AND market=? "
                           "AND outcome=?", key).fetchone()
            found = (ZERO, ZERO) if r is None else (Decimal(r[0]), Decimal(r[1]))
        return found

    def _add_pnl(self, db: sqlite3.Connection, key: tuple[str, str, str], realised: Decimal,
                 fee: Decimal) -> None:
        was = self._pnl.get(key)
        if was is None:
            r = db.execute("SELECT realised, fees FROM daily_pnl WHERE day=? AND venue=? "
                           "AND market=?", key).fetchone()
            was = (ZERO, ZERO) if r is None else (Decimal(r[0]), Decimal(r[1]))
        self._pnl[key] = (_add(was[0], realised), _add(was[1], fee))
        self._dirty.add(("daily_pnl", key))

    def _add_exposure(self, db: sqlite3.Connection, key: tuple[str, str],
                      amount: Decimal) -> None:
        was = self._exposure.get(key)
        if was is None:
            r = db.execute("SELECT amount FROM market_exposure WHERE venue=? AND market=?",
                           key).fetchone()
            was = ZERO if r is None else Decimal(r[0])
        self._exposure[key] = _add(was, amount)
        self._dirty.add(("market_exposure", key))

    def apply_state(self, db: sqlite3.Connection, key: str, status: OrderStatus,
                    update: tuple[str, Sequence[Any]],
                    fills: Sequence[tuple[Fill, tuple[str, Sequence[Any]]]],
                    refresh: str,
                    synthetic: Callable[[sqlite3.Row], tuple[Fill, tuple[str, Sequence[Any]]]
                                        | None],
                    day: str) -> None:
        """Move the order to its new state, write its fills and book the new ones, in the
        caller's transaction. ``fills`` are (fill, insert-or-ignore); ``refresh`` updates a
        fill reported again; ``synthetic`` gives the fill to write when the order turns
        final with fills its venue never listed."""
        known = self._orders.get(key)
        if known is None:
            before = db.execute(_ORDER, (key,)).fetchone()
            if before is None:
                return  # no such order: the update changes nothing, and fills need one
            venue, market, outcome, side, was = before
            booking, stored, looked = None, False, False
        else:
            venue, market, outcome, side, was, booking, stored = known
            looked = True
        was_final = was in _FINAL
        after = was if was_final and not status.is_final else status.value  # as the SQL
        is_final = after in _FINAL
        db.execute(*update)
        change = ZERO
        new = []
        for fill, insert in fills:
            if db.execute(*insert).rowcount:
                new.append(fill)
            else:
                db.execute(refresh, (int(fill.final), key, fill.trade_id))
        if not was_final and not looked:  # read before it is cached (or used) below
            r = db.execute("SELECT notional, opened FROM order_booking WHERE "
                           "idempotency_key=?", (key,)).fetchone()
            if r is not None:
                booking, stored = (Decimal(r[0]), Decimal(r[1])), True
        if not new and is_final and not was_final and booking is None \
                and after != OrderStatus.DENIED.value:
            made = synthetic(db.execute("SELECT filled_quantity, average_price, fees, venue "
                                        "FROM orders WHERE idempotency_key=?",
                                        (key,)).fetchone())
            if made is not None:
                db.execute(*made[1])
                new.append(made[0])
        where = (venue, market, outcome)
        for fill in new:
            q, p = fill.quantity, fill.price
            changed, realised, closed, opened = book_fill(
                lambda at: self._position(db, at), where, side, q, p, fill.fee)
            self._positions.update(changed)
            self._dirty.update(("positions", at) for at in changed)
            self._add_pnl(db, (day, venue, market), realised, fill.fee)
            change = _add(change, -closed)
            if was_final:  # a fill reported after the order's final state stands at once
                change = _add(change, opened)
            else:
                notional, opened_before = booking or (ZERO, ZERO)
                booking = (_add(notional, q * p), _add(opened_before, opened))
        if is_final:
            self._orders.pop(key, None)
            if not was_final and booking is not None:
                change = _add(change, booking[1])  # what its fills opened
                if stored:
                    db.execute("DELETE FROM order_booking WHERE idempotency_key=?", (key,))
        else:
            if new and booking is not None:
                db.execute("INSERT OR REPLACE INTO order_booking(idempotency_key, notional, "
                           "opened) VALUES(?,?,?)", (key, str(booking[0]), str(booking[1])))
                stored = True
            self._orders[key] = (venue, market, outcome, side, after, booking, stored)
        if change:
            self._add_exposure(db, (venue, market), change)


# ---------------------------------------------------------------------------- reading


def read_figures(db: sqlite3.Connection) -> Figures:
    """The summary tables as they stand."""
    figures = Figures()
    for r in db.execute("SELECT venue, market, outcome, quantity, cost FROM positions"):
        figures.positions[(r[0], r[1], r[2])] = (Decimal(r[3]), Decimal(r[4]))
    for r in db.execute("SELECT venue, market, amount FROM market_exposure"):
        figures.exposure[(r[0], r[1])] = Decimal(r[2])
    for r in db.execute("SELECT day, venue, market, realised, fees FROM daily_pnl"):
        figures.pnl[(r[0], r[1], r[2])] = (Decimal(r[3]), Decimal(r[4]))
    for r in db.execute("SELECT idempotency_key, notional, opened FROM order_booking"):
        figures.bookings[r[0]] = (Decimal(r[1]), Decimal(r[2]))
    return figures


def rebuild(db: sqlite3.Connection) -> Figures:
    """The summaries recomputed from every order and fill: each fill booked in the order
    the journal first wrote it (its rowid), then each final order's standing money."""
    figures = Figures()
    orders: dict[str, tuple[str, str, str, str, bool]] = {}
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    exposure: dict[tuple[str, str], Decimal] = {}
    rows = db.execute(
        "SELECT f.idempotency_key, f.quantity, f.price, f.fee, f.booked_on, o.venue, "
        "o.market, o.outcome, o.side, o.status FROM fills f "
        "JOIN orders o ON o.idempotency_key = f.idempotency_key ORDER BY f.rowid")
    for r in rows:
        key, venue, market, outcome, side = r[0], r[5], r[6], r[7], r[8]
        orders.setdefault(key, (venue, market, outcome, side, r[9] in _FINAL))
        q, p, fee = Decimal(r[1]), Decimal(r[2]), Decimal(r[3])
        where = (venue, market, outcome)
        changed, realised, closed, opened = book_fill(
            lambda at: figures.positions.get(at, (ZERO, ZERO)), where, side, q, p, fee)
        figures.positions.update(changed)
        day = (r[4] or "", venue, market)
        was = figures.pnl.get(day, (ZERO, ZERO))
        figures.pnl[day] = (_add(was[0], realised), _add(was[1], fee))
        exposure[(venue, market)] = _add(exposure.get((venue, market), ZERO), -closed)
        notional, opened_before = totals.get(key, (ZERO, ZERO))
        totals[key] = (_add(notional, q * p), _add(opened_before, opened))
    for key, (venue, market, _, _, final) in orders.items():
        if final:
            exposure[(venue, market)] = _add(exposure.get((venue, market), ZERO),
                                             totals[key][1])
        else:
            figures.bookings[key] = totals[key]
    figures.exposure = {k: v for k, v in exposure.items() if v}
    return figures


def write_figures(db: sqlite3.Connection, figures: Figures) -> None:
    """Replace the summary tables with ``figures`` (the schema 3 migration)."""
    for table in ("positions", "market_exposure", "daily_pnl", "order_booking"):
        db.execute(f"DELETE FROM {table}")
    db.executemany("INSERT INTO positions VALUES(?,?,?,?,?)",
                   [(*k, str(q), str(c)) for k, (q, c) in figures.positions.items()])
    db.executemany("INSERT INTO market_exposure VALUES(?,?,?)",
                   [(*k, str(a)) for k, a in figures.exposure.items()])
    db.executemany("INSERT INTO daily_pnl VALUES(?,?,?,?,?)",
                   [(*k, str(r), str(f)) for k, (r, f) in figures.pnl.items()])
    db.executemany("INSERT INTO order_booking VALUES(?,?,?)",
                   [(k, str(n), str(o)) for k, (n, o) in figures.bookings.items()])


def market_events(db: sqlite3.Connection) -> Mapping[tuple[str, str], str]:
    return {(r[0], r[1]): r[2] for r in db.execute(
        "SELECT venue, market, event FROM market_events")}


def day_of(at: datetime) -> str:
    """The UTC day a booking falls on."""
    return at.date().isoformat()
