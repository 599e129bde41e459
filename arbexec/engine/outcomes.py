"""Outcomes: what each answer about an order does to the journal, the books and the rules.

A venue state goes through ``advance`` (live orders) into a ``Change``; this module records
the change (journal and sinks in one call), books its fills, settles the ledger when the
order is final and tells observing rules. Local refusals, venue refusals, UNKNOWN sends and
"never received" conclusions are recorded here too, so an order's journal story has one
author.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from attrs import define, evolve

from arbexec.engine.accounting import Accounting
from arbexec.engine.live import LiveOrder, LiveOrders, advance, reason_code_of
from arbexec.engine.policy import PolicyLike
from arbexec.engine.recorder import Recorder
from arbexec.errors import ExchangeError
from arbexec.events import Event
from arbexec.exchange import Exchange
from arbexec.health import HealthBook
from arbexec.journal import Journal, order_state_summary
from arbexec.model import ExecutionResult, OrderRequest, OrderState, OrderStatus, now_utc
from arbexec.risk.base import OrderOutcome

log = logging.getLogger("arbexec.engine")


@define
class Outcomes:
    journal: Journal
    recorder: Recorder
    live: LiveOrders
    accounting: Accounting
    health: HealthBook
    policy: Callable[[], PolicyLike]
    clock: Callable[[], datetime]
    venues: Mapping[str, Exchange]
    listen: Callable[[str, Exchange], None]  # keep a venue's stream open (settling fills)

    # ------------------------------------------------------------------ venue states

    async def progress(self, live: LiveOrder, state: OrderState, *,
                       latency_ack_ms: float | None = None) -> None:
        """A non-final state: record it when it moved (status or fills)."""
        change = advance(live, state)
        if not change.moved and latency_ack_ms is None:
            return
        self.live.apply(live, change)
        await self.accounting.book(live, change.fills)
        event = Event(kind="order.state", request_id=live.request.request_id,
                      data=order_state_summary(state))
        self.recorder.state(
            live.key, status=state.status, venue_order_id=state.venue_order_id,
            filled_quantity=change.filled, average_price=state.average_price, fees=state.fees,
            fills=change.fills, venue=live.request.venue,
            acknowledged_at=live.acknowledged_at if latency_ack_ms is not None else None,
            latency_ack_ms=latency_ack_ms, events=[event, *change.alerts], defer=True,
        )

    async def finish(self, live: LiveOrder, state: OrderState, *,
                     latency_ack_ms: float | None = None) -> ExecutionResult:
        """A final state: record it, settle the ledger from the fills, tell the rules."""
        now = now_utc()
        latency_final = (time.perf_counter() - live.started) * 1000
        change = advance(live, state)
        self.live.apply(live, change)
        self.live.concluded(live, reason_code_of(state), state.reason)
        event = Event(kind="order.state", request_id=live.request.request_id,
                      data=order_state_summary(state), at=now)
        self.recorder.state(
            live.key, status=state.status, venue_order_id=state.venue_order_id,
            filled_quantity=change.filled, average_price=state.average_price, fees=state.fees,
            fills=change.fills, reason_code=live.reason_code, reason=state.reason,
            venue=live.request.venue,
            acknowledged_at=live.acknowledged_at if latency_ack_ms is not None else None,
            executed_at=now, latency_ack_ms=latency_ack_ms, latency_final_ms=latency_final,
            events=[event, *change.alerts], replace_reason=True, defer=True,
        )
        self.live.untrack(live)
        request = live.request
        exchange = self.venues.get(request.venue)
        await self.accounting.book(live, change.fills)
        await self.accounting.settle(live)
        if (live.venue_order_id and any(not fill.final for fill in state.fills)
                and exchange is not None and exchange.capabilities.order_stream):
            # the venue may still confirm (or drop) a trade: keep listening for it
            self.live.settle_later(live)
            self.listen(request.venue, exchange)
            while not live.updates.empty():  # streamed after the final state, not read yet
                await self.late(live, live.updates.get_nowait())
        if self.policy().observers:
            self.observe(OrderOutcome(
                venue=request.venue, market=request.market, request=request,
                status=state.status, filled_quantity=change.filled,
                average_price=state.average_price, fees=state.fees,
                realised_pnl=live.booking.realised,
            ))
        else:  # the venue health counters only (no rule listens)
            self.health.of(request.venue).record_outcome(self.health.clock(), False)
        if live.acknowledged_at is None:  # resolved later (UNKNOWN, reconciliation)
            row = self.journal.get(live.key)
            assert row is not None
            return self.recorder.result(row.to_result())
        return self.recorder.result(live.result(executed_at=now,
                                                latency_final_ms=latency_final))

    async def late(self, live: LiveOrder, state: OrderState) -> None:
        """A final order whose fills were still provisional (a trade MATCHED but not yet
        CONFIRMED): journal what the venue now says of its fills (a trade turned final, or
        first reported after the final state); the status stays final. The order stops
        being watched once every fill is final."""
        change = advance(live, state)
        if change.fills:
            self.live.apply(live, change, keep_status=True)
            data = {**order_state_summary(state), "status": live.status.value,
                    "filled_quantity": str(live.filled)}
            event = Event(kind="order.state", request_id=live.request.request_id, data=data)
            self.recorder.state(
                live.key, status=live.status, filled_quantity=live.filled,
                average_price=state.average_price, fills=change.fills,
                venue=live.request.venue, events=[event, *change.alerts], defer=True,
            )
            await self.accounting.book(live, change.fills, after_final=True)
        if all(fill.final for fill in state.fills):
            self.live.settled(live)

    # ------------------------------------------------------------------ other endings

    async def refused(self, request: OrderRequest, exc: ExchangeError, started: float, *,
                      failure: bool) -> ExecutionResult:
        health = self.health.of(request.venue)
        health.record_outcome(self.health.clock(), True)
        health.consecutive_failures = health.consecutive_failures + 1 if failure else 0
        await self.accounting.sent_and_refused(request.idempotency_key)
        reason = exc.venue_message or str(exc)
        event = Event(kind="order.state", request_id=request.request_id, data={
            "venue": request.venue, "status": OrderStatus.REJECTED.value,
            "reason_code": exc.reason_code, "reason": reason, "venue_code": exc.venue_code,
        })
        self.recorder.state(
            request.idempotency_key, status=OrderStatus.REJECTED, reason_code=exc.reason_code,
            reason=reason, executed_at=now_utc(),
            latency_final_ms=(time.perf_counter() - started) * 1000, events=[event],
        )
        self.observe(OrderOutcome(venue=request.venue, market=request.market,
                                  request=request, status=OrderStatus.REJECTED,
                                  failure=failure))
        row = self.journal.get(request.idempotency_key)
        assert row is not None
        return self.recorder.result(row.to_result())

    def unknown(self, live: LiveOrder, why: str) -> None:
        """The send may or may not have reached the venue: UNKNOWN, to be looked up."""
        request = live.request
        health = self.health.of(request.venue)
        health.consecutive_failures += 1
        health.unknown += 1
        event = Event(kind="order.unknown", request_id=request.request_id, data={
            "venue": request.venue, "identity": live.identity, "reason": why,
        })
        self.recorder.state(
            request.idempotency_key, status=OrderStatus.UNKNOWN, reason_code="ambiguous",
            reason=f"{why}; looking the order up by its identity, never resending",
            events=[event],
        )
        self.observe(OrderOutcome(venue=request.venue, market=request.market,
                                  request=request, status=OrderStatus.UNKNOWN, failure=True))

    def resolved(self, venue: str) -> None:
        health = self.health.of(venue)
        health.unknown = max(health.unknown - 1, 0)

    async def never_received(self, key: str) -> None:
        """An order the venue never acknowledged and still does not know after the grace
        period: it never arrived. REJECTED with that reason; its reservation released."""
        row = self.journal.get(key)
        if row is None or row.status.is_final:
            return
        event = Event(kind="order.state", request_id=row.request_id, data={
            "venue": row.venue, "status": OrderStatus.REJECTED.value,
            "reason": "the venue never received the order",
        })
        self.recorder.state(key, status=OrderStatus.REJECTED, reason_code="never_received",
                            reason="the venue never received the order (looked up by "
                                   f"identity {row.identity})",
                            executed_at=now_utc(), events=[event])
        await self.accounting.sent_and_refused(key)

    def mismatch(self, live: LiveOrder, note: str) -> None:
        """The venue acknowledged this order, yet its lookup cannot find it: reported
        loudly; the order keeps its state and exposure and stays followed."""
        log.warning("reconciliation mismatch: %s on %s (%s): %s", live.key,
                    live.request.venue, live.identity, note)
        self.recorder.events([Event(kind="reconcile.mismatch",
                                    request_id=live.request.request_id, data={
                                        "venue": live.request.venue, "identity": live.identity,
                                        "venue_order_id": live.venue_order_id,
                                        "status": live.status.value, "note": note})],
                             key=live.key)

    def adopted(self, live: LiveOrder, state: OrderState) -> None:
        """The venue answered "duplicate": its order of this identity is this key's order."""
        self.recorder.events([Event(kind="order.adopted", request_id=live.request.request_id,
                                    data={"venue": live.request.venue,
                                          "identity": live.identity,
                                          "venue_order_id": state.venue_order_id,
                                          "status": state.status.value,
                                          "reason": "the venue already had the order of this "
                                                    "identity; adopted by lookup"})],
                             key=live.key)

    def deny(self, request: OrderRequest, code: str, message: str, started: float, *,
             rule: str | None = None, figures: Mapping[str, str] | None = None,
             ) -> ExecutionResult:
        event = Event(kind="order.denied", request_id=request.request_id, data={
            "venue": request.venue, "market": request.market, "code": code, "reason": message,
            "rule": rule, "figures": dict(figures or {}),
        })
        taken = self.recorder.denial(request, code=code, reason=message, event=event)
        if taken is not None:
            return self.recorder.result(taken.to_result(duplicate=True))
        return self.recorder.result(ExecutionResult(
            request_id=request.request_id, idempotency_key=request.idempotency_key,
            status=OrderStatus.DENIED, venue=request.venue, market=request.market,
            outcome=request.outcome, side=request.side, quantity=request.quantity,
            limit_price=request.limit_price, reason_code=code, reason=message,
            tags=request.tags, requested_at=request.requested_at, executed_at=now_utc(),
            latency_final_ms=(time.perf_counter() - started) * 1000,
        ))

    def unjournaled(self, request: OrderRequest, code: str, reason: str,
                    started: float) -> ExecutionResult:
        """DENIED because the journal cannot take the order (deleted, replaced, disk full,
        or this request's own text refused): nothing is sent and nothing of it is
        journaled, so the result goes to the sinks only."""
        return self.recorder.result(ExecutionResult(
            request_id=request.request_id, idempotency_key=request.idempotency_key,
            status=OrderStatus.DENIED, venue=request.venue, market=request.market,
            outcome=request.outcome, side=request.side, quantity=request.quantity,
            limit_price=request.limit_price, reason_code=code, reason=reason,
            tags=request.tags, requested_at=request.requested_at, executed_at=now_utc(),
            latency_final_ms=(time.perf_counter() - started) * 1000,
        ))

    def invalid(self, position: str, field_name: str | None, reason: str,
                raw: str | None = None) -> ExecutionResult:
        """A request that could not be parsed: recorded as an event, answered as DENIED."""
        message = f"{position}: {field_name}: {reason}" if field_name else f"{position}: {reason}"
        self.recorder.events([Event(kind="request.invalid", data={
            "position": position, "field": field_name, "reason": reason,
            "raw": (raw or "")[:500],
        })])
        return self.recorder.result(ExecutionResult(
            request_id=position, idempotency_key="", status=OrderStatus.DENIED, venue="",
            market="", reason_code="invalid_request", reason=message, executed_at=now_utc(),
        ))

    def observe(self, outcome: OrderOutcome) -> None:
        self.accounting.freed.fire()  # waiters resume after the observers below have run
        health = self.health.of(outcome.venue)
        if outcome.status is not OrderStatus.REJECTED and not outcome.failure:
            health.record_outcome(self.health.clock(), False)
        observers = self.policy().observers
        if not observers:
            return
        now = self.clock()
        events: list[Event] = []
        for observer in observers:
            try:
                events.extend(observer.observe(outcome, now))
            except Exception:
                log.exception("a risk rule failed to observe an outcome")
        self.recorder.events(events)


def as_duplicate(result: ExecutionResult) -> ExecutionResult:
    return evolve(result, duplicate=True)
