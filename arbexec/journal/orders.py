"""Orders and their fills: write-ahead intents, local denials, venue states.

An intent (the request and its venue-side identity) is committed *before* anything is sent,
so a crash can never forget an order that may have reached a venue. A key is taken once:
only an earlier denial may be superseded, and a denial never overwrites a sent order.
A state and the fills it brings are written together (``arbexec.journal.fills``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from attrs import define, field

from arbexec.events import Event
from arbexec.journal.codec import dumps, iso, request_to_dict, text
from arbexec.journal.event_log import event_statement
from arbexec.journal.fills import REFRESH, fill_statement
from arbexec.journal.records import Intent, JournalRow
from arbexec.journal.summaries import JOURNAL_TRADE, Summaries, day_of
from arbexec.journal.unit_of_work import Statement, UnitOfWork, Write
from arbexec.model import Fill, OrderRequest, OrderStatus, now_utc

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

_FINALS = ", ".join(f"'{s.value}'" for s in OrderStatus if s.is_final)

_INSERT_DENIAL = """INSERT INTO orders(idempotency_key, request_id, venue, market, outcome, side,
        quantity, limit_price, request, status, reason_code, reason,
        requested_at, executed_at, updated_at)
    VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT(idempotency_key) DO UPDATE SET
        request_id=excluded.request_id, venue=excluded.venue,
        market=excluded.market, outcome=excluded.outcome, side=excluded.side,
        quantity=excluded.quantity, limit_price=excluded.limit_price,
        reason_code=excluded.reason_code, reason=excluded.reason,
        request=excluded.request, requested_at=excluded.requested_at,
        executed_at=excluded.executed_at, updated_at=excluded.updated_at
    WHERE orders.status='DENIED'"""

#: A final state is never undone by a later non-final report (the engine keeps a final
#: order's status when late fills arrive: ``Outcomes.late``; the summaries rely on it).
_UPDATE_STATE = f"""UPDATE orders SET status=CASE
            WHEN status IN ({_FINALS}) AND ? NOT IN ({_FINALS}) THEN status ELSE ? END,
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
    WHERE idempotency_key=?"""

@define
class OrderStore:
    work: UnitOfWork
    clock: Callable[[], datetime] = now_utc
    summaries: Summaries = field(factory=Summaries)

    def __attrs_post_init__(self) -> None:
        self.work.on_reset.append(self.summaries.forget)
        self.work.before_commit.append(self.summaries.before_commit)

    # ------------------------------------------------------------------ writes

    def record_intents(self, intents: Sequence[Intent]) -> list[JournalRow | None]:
        """Write many intents in one transaction (group commit): one answer per intent,
        None where it was written, the existing row where its key was already taken."""
        now = self.clock().isoformat()
        taken: list[int] = []
        pending = OrderStatus.PENDING.value
        with self.work.transaction() as db:
            for position, intent in enumerate(intents):
                request = intent.request
                cur = db.execute(_INSERT_INTENT, (
                    request.idempotency_key, request.request_id, request.venue, request.market,
                    request.outcome.value, request.side.value, str(request.quantity),
                    str(request.limit_price), dumps(request_to_dict(request)), pending,
                    intent.identity, intent.venue_order_id, intent.pair_id,
                    request.requested_at.isoformat(), now,
                ))
                if cur.rowcount == 0:
                    taken.append(position)
                    continue
                self.summaries.intent(request.idempotency_key, request.venue, request.market,
                                      request.outcome.value, request.side.value)
                for event in intent.events:
                    db.execute(*event_statement(event, request.idempotency_key))
        answers: list[JournalRow | None] = [None] * len(intents)
        for position in taken:
            answers[position] = self.get(intents[position].request.idempotency_key)
        return answers

    def record_denial(self, request: OrderRequest, *, code: str, reason: str,
                      events: Sequence[Event] = ()) -> JournalRow | None:
        """Record a local refusal. Returns the existing row if the key already holds an order
        (which then stands: a denial never overwrites a sent order)."""
        now = self.clock().isoformat()
        with self.work.transaction() as db:
            cur = db.execute(_INSERT_DENIAL, (
                request.idempotency_key, request.request_id, request.venue, request.market,
                request.outcome.value, request.side.value, str(request.quantity),
                str(request.limit_price), dumps(request_to_dict(request)),
                OrderStatus.DENIED.value, code, reason, request.requested_at.isoformat(),
                now, now,
            ))
            written = cur.rowcount != 0
            if written:
                for event in events:
                    db.execute(*event_statement(event, request.idempotency_key))
        return None if written else self.get(request.idempotency_key)

    def state_statements(
        self,
        key: str,
        *,
        status: OrderStatus,
        venue_order_id: str | None,
        filled_quantity: Decimal | None,
        average_price: Decimal | None,
        fees: Decimal | None,
        fills: Sequence[Fill],
        reason_code: str | None,
        reason: str | None,
        acknowledged_at: datetime | None,
        executed_at: datetime | None,
        latency_ack_ms: float | None,
        latency_final_ms: float | None,
        events: Sequence[Event],
        replace_reason: bool,
        venue: str | None,
    ) -> list[Write]:
        """The writes moving an order to a new state and appending its new fills: one step
        that also books the new fills and, when the order turns final, the money it leaves
        standing (``arbexec.journal.summaries``), so neither can be written without the
        other."""
        update = (_UPDATE_STATE, (
            status.value, status.value, venue_order_id, text(filled_quantity), text(average_price),
            text(fees), replace_reason, reason_code, reason_code, replace_reason, reason,
            reason, iso(acknowledged_at), iso(executed_at),
            latency_ack_ms, latency_final_ms, self.clock().isoformat(), key,
        ))
        if fills and venue is None:
            row = self.work.db.execute(
                "SELECT venue FROM orders WHERE idempotency_key=?", (key,)).fetchone()
            venue = row[0] if row else "?"
        statements: list[Write] = [partial(self._apply_state, key=key, status=status,
                                           update=update, fills=tuple(fills),
                                           venue=venue or "?")]
        statements.extend(event_statement(e, key) for e in events)
        return statements

    def _apply_state(self, db: Any, *, key: str, status: OrderStatus,
                     update: tuple[str, tuple[Any, ...]], fills: tuple[Fill, ...],
                     venue: str) -> None:
        """Run when the transaction carrying it runs: the day is the booking's."""
        day = day_of(self.clock())

        def synthetic(order: Any) -> tuple[Fill, Statement] | None:
            if order is None or order[1] is None or Decimal(order[0]) <= 0:
                return None
            try:
                fill = Fill(trade_id=JOURNAL_TRADE, quantity=order[0], price=order[1],
                            fee=order[2], timestamp=self.clock())
            except (TypeError, ValueError, ArithmeticError):
                return None  # not a fill the model accepts: left out, as before
            return fill, fill_statement(key, order[3], fill, day)

        self.summaries.apply_state(
            db, key, status, update, [(f, fill_statement(key, venue, f, day)) for f in fills],
            REFRESH, synthetic, day)

    # ------------------------------------------------------------------ reads by key

    def get(self, idempotency_key: str) -> JournalRow | None:
        self.work.flush()
        r = self.work.db.execute(
            "SELECT * FROM orders WHERE idempotency_key=?", (idempotency_key,)).fetchone()
        return None if r is None else JournalRow.from_sqlite(r)

    def status_of(self, idempotency_key: str) -> OrderStatus | None:
        """Without flushing: deferred writes only move existing orders between states."""
        r = self.work.db.execute("SELECT status FROM orders WHERE idempotency_key=?",
                                 (idempotency_key,)).fetchone()
        return None if r is None else OrderStatus(r[0])

    def find_by_request_id(self, request_id: str) -> list[JournalRow]:
        self.work.flush()
        rows = self.work.db.execute("SELECT * FROM orders WHERE request_id=?", (request_id,))
        return [JournalRow.from_sqlite(r) for r in rows]

    def find_by_venue_order_id(self, venue: str, venue_order_id: str) -> JournalRow | None:
        self.work.flush()
        r = self.work.db.execute(
            "SELECT * FROM orders WHERE venue=? AND venue_order_id=?", (venue, venue_order_id)
        ).fetchone()
        return None if r is None else JournalRow.from_sqlite(r)
