"""Running summaries: positions, standing exposure, realised P&L per day, learned events.

Start-up and the desk's read commands need these figures, and rebuilding them from every
fill costs time and memory that grow with the journal's history. So the journal keeps them
up to date itself: each fill is booked inside the transaction that writes it (a ``Step`` of
the unit of work, run against the database as it stands at that point, so deferred writes
and rollbacks need no special care), and an order's final state adds the money it leaves
standing in the same transaction. A crash therefore never leaves a fill without its booking.

The booking rules are the engine's (``arbexec.engine.accounting``): positions at average
cost; a sell closes cost basis at once and, beyond the contracts held, opens (1 - p) per
contract; a final buy leaves the money its fills took. Sums are kept exactly (no rounding
in additions), so the figures do not depend on the order in which orders became final, and
``rebuild`` (a replay of every fill in the order the journal first wrote them) gives the
same figures: ``verify`` compares the two and says what differs.
"""

from __future__ import annotations

import decimal
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import define, field, frozen

from arbexec.model import ZERO, OrderStatus

#: Exact additions: summed figures must not depend on the order they were added in.
_EXACT = decimal.Context(prec=200)
ONE = Decimal(1)

#: Event kinds read at start or by the desk; a partial index finds them without a scan.
RARE_EVENT_KINDS = ("risk.breaker", "pair.result")

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
    "CREATE INDEX IF NOT EXISTS orders_requested_at ON orders(requested_at)",
    "CREATE INDEX IF NOT EXISTS events_rare ON events(kind, seq) WHERE kind IN "
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


@frozen(kw_only=True)
class OrderFacts:
    """What booking a fill needs to know of its order."""

    key: str
    venue: str
    market: str
    outcome: str
    side: str


@frozen(kw_only=True)
class BookedFill:
    """One fill as booking sees it."""

    quantity: Decimal
    price: Decimal
    fee: Decimal
    day: str


@define
class Figures:
    """The summaries in memory: what a rebuild computes and what the tables hold."""

    positions: dict[tuple[str, str, str], tuple[Decimal, Decimal]] = field(factory=dict)
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


class Books:
    """Where booking reads and writes: the tables (``TableBooks``) or memory (``Figures``)."""

    def position(self, venue: str, market: str, outcome: str) -> tuple[Decimal, Decimal]:
        raise NotImplementedError

    def put_position(self, venue: str, market: str, outcome: str, quantity: Decimal,
                     cost: Decimal) -> None:
        raise NotImplementedError

    def add_exposure(self, venue: str, market: str, amount: Decimal) -> None:
        raise NotImplementedError

    def add_pnl(self, day: str, venue: str, market: str, realised: Decimal,
                fee: Decimal) -> None:
        raise NotImplementedError

    def booking(self, key: str) -> tuple[Decimal, Decimal]:
        raise NotImplementedError

    def put_booking(self, key: str, notional: Decimal, opened: Decimal) -> None:
        raise NotImplementedError


@define
class MemoryBooks(Books):
    figures: Figures = field(factory=Figures)

    def position(self, venue: str, market: str, outcome: str) -> tuple[Decimal, Decimal]:
        return self.figures.positions.get((venue, market, outcome), (ZERO, ZERO))

    def put_position(self, venue: str, market: str, outcome: str, quantity: Decimal,
                     cost: Decimal) -> None:
        self.figures.positions[(venue, market, outcome)] = (quantity, cost)

    def add_exposure(self, venue: str, market: str, amount: Decimal) -> None:
        key = (venue, market)
        self.figures.exposure[key] = _add(self.figures.exposure.get(key, ZERO), amount)

    def add_pnl(self, day: str, venue: str, market: str, realised: Decimal,
                fee: Decimal) -> None:
        key = (day, venue, market)
        was_realised, was_fees = self.figures.pnl.get(key, (ZERO, ZERO))
        self.figures.pnl[key] = (_add(was_realised, realised), _add(was_fees, fee))

    def booking(self, key: str) -> tuple[Decimal, Decimal]:
        return self.figures.bookings.get(key, (ZERO, ZERO))

    def put_booking(self, key: str, notional: Decimal, opened: Decimal) -> None:
        self.figures.bookings[key] = (notional, opened)


@define
class TableBooks(Books):
    """Booking against the summary tables, inside the caller's transaction."""

    db: sqlite3.Connection

    def position(self, venue: str, market: str, outcome: str) -> tuple[Decimal, Decimal]:
        r = self.db.execute("SELECT quantity, cost FROM positions WHERE venue=? AND market=? "
                            "AND outcome=?", (venue, market, outcome)).fetchone()
        return (ZERO, ZERO) if r is None else (Decimal(r[0]), Decimal(r[1]))

    def put_position(self, venue: str, market: str, outcome: str, quantity: Decimal,
                     cost: Decimal) -> None:
        self.db.execute("INSERT OR REPLACE INTO positions(venue, market, outcome, quantity, "
                        "cost) VALUES(?,?,?,?,?)",
                        (venue, market, outcome, str(quantity), str(cost)))

    def add_exposure(self, venue: str, market: str, amount: Decimal) -> None:
        r = self.db.execute("SELECT amount FROM market_exposure WHERE venue=? AND market=?",
                            (venue, market)).fetchone()
        total = _add(ZERO if r is None else Decimal(r[0]), amount)
        self.db.execute("INSERT OR REPLACE INTO market_exposure(venue, market, amount) "
                        "VALUES(?,?,?)", (venue, market, str(total)))

    def add_pnl(self, day: str, venue: str, market: str, realised: Decimal,
                fee: Decimal) -> None:
        r = self.db.execute("SELECT realised, fees FROM daily_pnl WHERE day=? AND venue=? "
                            "AND market=?", (day, venue, market)).fetchone()
        was_realised, was_fees = (ZERO, ZERO) if r is None else (Decimal(r[0]),
                                                                 Decimal(r[1]))
        self.db.execute("INSERT OR REPLACE INTO daily_pnl(day, venue, market, realised, fees) "
                        "VALUES(?,?,?,?,?)", (day, venue, market,
                                              str(_add(was_realised, realised)),
                                              str(_add(was_fees, fee))))

    def booking(self, key: str) -> tuple[Decimal, Decimal]:
        r = self.db.execute("SELECT notional, opened FROM order_booking "
                            "WHERE idempotency_key=?", (key,)).fetchone()
        return (ZERO, ZERO) if r is None else (Decimal(r[0]), Decimal(r[1]))

    def put_booking(self, key: str, notional: Decimal, opened: Decimal) -> None:
        self.db.execute("INSERT OR REPLACE INTO order_booking(idempotency_key, notional, "
                        "opened) VALUES(?,?,?)", (key, str(notional), str(opened)))


def standing(side: str, notional: Decimal, opened: Decimal) -> Decimal:
    """Money a final order leaves standing: a buy's fills' notional; a sell's opened part."""
    return notional if side == "BUY" else opened


def book_fill(books: Books, order: OrderFacts, fill: BookedFill, *, final: bool) -> None:
    """Book one fill (the engine's rules: ``PositionBook.book``, ``opened_notional``)."""
    quantity, cost = books.position(order.venue, order.market, order.outcome)
    q, p = fill.quantity, fill.price
    if order.side == "BUY":
        quantity, cost = quantity + q, cost + q * p
        realised = closed = opened = ZERO
    else:
        closing = min(q, max(quantity, ZERO))
        opened = (q - closing) * (ONE - p)
        average = cost / quantity if quantity > 0 else p
        realised = q * (p - average)
        closed = q * average
        quantity, cost = quantity - q, cost - q * average
    realised -= fill.fee
    books.put_position(order.venue, order.market, order.outcome, quantity, cost)
    books.add_pnl(fill.day, order.venue, order.market, realised, fill.fee)
    notional, opened_before = books.booking(order.key)
    notional, opened_total = _add(notional, q * p), _add(opened_before, opened)
    books.put_booking(order.key, notional, opened_total)
    change = -closed
    if final:  # a fill reported after the order's final state stands at once
        change = _add(change, standing(order.side, q * p, opened))
    if change:
        books.add_exposure(order.venue, order.market, change)


def order_turned(books: Books, order: OrderFacts, *, was_final: bool,
                 is_final: bool) -> None:
    """An order became final (its money stands) or, never in practice, stopped being."""
    if was_final == is_final:
        return
    notional, opened = books.booking(order.key)
    amount = standing(order.side, notional, opened)
    if amount:
        books.add_exposure(order.venue, order.market, amount if is_final else -amount)


# ---------------------------------------------------------------------------- the step


_ORDER = ("SELECT venue, market, outcome, side, status, filled_quantity, average_price, fees "
          "FROM orders WHERE idempotency_key=?")

_FILL_EXISTS = "SELECT 1 FROM fills WHERE idempotency_key=? AND trade_id=?"

#: The trade id of the one fill written for an order whose venue lists no trades.
JOURNAL_TRADE = "journal"

#: Final statuses an order may have fills in.
FINAL_WITH_FILLS = tuple(s.value for s in OrderStatus
                         if s.is_final and s is not OrderStatus.DENIED)


def facts(key: str, r: sqlite3.Row | tuple[Any, ...]) -> OrderFacts:
    return OrderFacts(key=key, venue=r[0], market=r[1], outcome=r[2], side=r[3])


def apply_state(db: sqlite3.Connection, key: str, update: tuple[str, Sequence[Any]],
                fills: Iterable[tuple[str, tuple[str, Sequence[Any]], BookedFill]],
                synthetic: Callable[[sqlite3.Row], tuple[str, Sequence[Any]] | None],
                ) -> None:
    """Move the order to its new state, write its fills and book the new ones, in the
    caller's transaction. ``fills`` are (trade id, upsert args, booking); ``synthetic``
    gives the fill to write when the order turns final with fills but none listed."""
    before = db.execute(_ORDER, (key,)).fetchone()
    if before is None:
        return  # no such order: the update would change nothing, and fills need an order
    db.execute(*update)
    books = TableBooks(db)
    order = facts(key, before)
    was_final = OrderStatus(before[4]).is_final
    for trade_id, upsert, booked in fills:
        new = db.execute(_FILL_EXISTS, (key, trade_id)).fetchone() is None
        db.execute(*upsert)
        if new:
            book_fill(books, order, booked, final=was_final)
    after = db.execute(_ORDER, (key,)).fetchone()
    is_final = OrderStatus(after[4]).is_final
    if is_final and not was_final and after[4] != OrderStatus.DENIED.value:
        made = synthetic(after)
        if made is not None and db.execute("SELECT 1 FROM fills WHERE idempotency_key=? "
                                           "LIMIT 1", (key,)).fetchone() is None:
            db.execute(*made)
            quantity, price, fee = (Decimal(after[5]), Decimal(after[6]), Decimal(after[7]))
            book_fill(books, order, BookedFill(quantity=quantity, price=price, fee=fee,
                                               day=made[1][-1]), final=False)
    order_turned(books, order, was_final=was_final, is_final=is_final)


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
    books = MemoryBooks()
    orders: dict[str, tuple[OrderFacts, bool]] = {}
    rows = db.execute(
        "SELECT f.idempotency_key, f.quantity, f.price, f.fee, f.booked_on, o.venue, "
        "o.market, o.outcome, o.side, o.status FROM fills f "
        "JOIN orders o ON o.idempotency_key = f.idempotency_key ORDER BY f.rowid")
    for r in rows:
        key = r[0]
        known = orders.get(key)
        if known is None:
            known = orders[key] = (OrderFacts(key=key, venue=r[5], market=r[6], outcome=r[7],
                                              side=r[8]), OrderStatus(r[9]).is_final)
        book_fill(books, known[0], BookedFill(quantity=Decimal(r[1]), price=Decimal(r[2]),
                                              fee=Decimal(r[3]), day=r[4] or ""),
                  final=False)
    for order, final in orders.values():
        order_turned(books, order, was_final=False, is_final=final)
    return books.figures


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
