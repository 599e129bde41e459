"""The engine: one request's path through admission, dispatch, follow and accounting.

Every step that could lose or double an order is ordered so it cannot:

* the idempotency key is checked against in-flight requests and the journal before anything
  else (before any ledger change), and the journal's UNIQUE key settles races;
* the risk policy runs synchronously and the exposure reservation follows it, so concurrent
  requests cannot together pass a limit that each passes alone;
* the intent, with its venue-side identity, is committed before the send;
* an ambiguous send is UNKNOWN, resolved by looking the identity up, never by resending;
* a send is shielded from cancellation (Ctrl-C waits for the venue's answer).

``Engine`` wires the modules of this package together and is what callers use: ``start``,
``submit`` / ``begin``, ``cancel``, ``explain``, ``reconcile`` and ``aclose``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import Factory, define, field

from arbexec.engine.accounting import Accounting
from arbexec.engine.admission import Admission, Denied, Duplicate, Explanation
from arbexec.engine.dispatch import (
    Acknowledged,
    Ambiguous,
    Dispatch,
    Refused,
    Unjournalable,
    as_state,
)
from arbexec.engine.follow import Follow
from arbexec.engine.live import LiveOrder, LiveOrders
from arbexec.engine.outcomes import Outcomes, as_duplicate
from arbexec.engine.policy import OpenPolicy, PolicyLike
from arbexec.engine.recorder import Recorder
from arbexec.engine.recovery import Recovery
from arbexec.engine.settings import EngineSettings
from arbexec.errors import JournalUnusable, UserError
from arbexec.events import Event
from arbexec.exchange import Exchange, MarketRules, PreparedOrder
from arbexec.halt import HaltFlag
from arbexec.health import HealthBook
from arbexec.journal import Journal
from arbexec.ledger import ExposureLedger, InMemoryLedger
from arbexec.model import ExecutionResult, OrderRequest, OrderStatus, now_utc
from arbexec.positions import PositionBook
from arbexec.risk.base import RiskContext
from arbexec.secrets import venue_secrets
from arbexec.sinks.hub import SinkHub

log = logging.getLogger("arbexec.engine")


@define
class Engine:
    journal: Journal
    venues: Mapping[str, Exchange]
    halt: HaltFlag
    hub: SinkHub
    policy: PolicyLike = field(factory=OpenPolicy)
    ledger: ExposureLedger = field(factory=InMemoryLedger)
    settings: EngineSettings = field(factory=EngineSettings)
    market_events: Mapping[str, str] = field(factory=dict)  # "venue:market" -> event (config)
    clock: Callable[[], datetime] = now_utc  # wall clock for rules and the grace period
    #: today's P&L is of the engine clock's day (the daily loss rule's)
    positions: PositionBook = field(
        default=Factory(lambda self: PositionBook(clock=self.clock), takes_self=True))
    #: monotonic seconds timing sends for the venue health (the rate and breaker rules);
    #: pass the ledger's clock so rate windows and send counts move together
    monotonic: Callable[[], float] = time.monotonic
    live: LiveOrders = field(factory=LiveOrders, init=False)
    _inflight: dict[str, asyncio.Future[ExecutionResult]] = field(factory=dict, init=False)
    _started: bool = field(default=False, init=False)
    _recorder: Recorder = field(init=False)
    _accounting: Accounting = field(init=False)
    _admission: Admission = field(init=False)
    _dispatch: Dispatch = field(init=False)
    _outcomes: Outcomes = field(init=False)
    _follow: Follow = field(init=False)
    _recovery: Recovery = field(init=False)

    def __attrs_post_init__(self) -> None:
        health = HealthBook(clock=self.monotonic)
        policy = self._current_policy
        self._recorder = recorder = Recorder(self.journal, self.hub,
                                             scrub=venue_secrets(self.venues.values()))
        self._accounting = accounting = Accounting(self.ledger, self.positions,
                                                   self.market_events)
        self._admission = Admission(
            journal=self.journal, venues=self.venues, halt=self.halt, policy=policy,
            ledger=self.ledger, live=self.live, accounting=accounting, health=health,
            recorder=recorder, settings=self.settings, clock=self._now)
        self._dispatch = Dispatch(recorder, health, self.settings,
                                  in_flight=self._inflight.__len__, clock=self._now)
        self._outcomes = outcomes = Outcomes(
            journal=self.journal, recorder=recorder, live=self.live, accounting=accounting,
            health=health, policy=policy, clock=self._now, venues=self.venues,
            listen=self._listen)
        self._follow = follow = Follow(live=self.live, outcomes=outcomes, recorder=recorder,
                                       journal=self.journal, settings=self.settings,
                                       clock=self._now)
        self._recovery = Recovery(journal=self.journal, venues=self.venues, live=self.live,
                                  outcomes=outcomes, follow=follow, accounting=accounting,
                                  recorder=recorder, clock=self._now)
        follow.reconcile_untracked = self._recovery.reconcile_order

    def _current_policy(self) -> PolicyLike:
        return self.policy

    def _now(self) -> datetime:
        return self.clock()

    def _read_events(self, kinds: Sequence[str], *, within: float | None = None
                     ) -> list[Event]:
        """The journal's events of ``kinds`` for a rule's ``restore_state``: all of them, or
        those of the last ``within`` seconds of the engine clock (read newest first in
        growing pages, so a long journal is not scanned for a minute of sends)."""
        if within is None:
            return [event for _, event in self.journal.events(kinds=kinds)]
        since, page = self._now() - timedelta(seconds=within), 256
        while True:
            found = [event for _, event in self.journal.events(kinds=kinds, latest=page)]
            if len(found) < page or found[0].at < since:
                return [event for event in found if event.at >= since]
            page *= 4

    def _listen(self, venue: str, exchange: Exchange) -> None:
        self._follow.listen(venue, exchange)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.hub.start()
        # rules whose memory outlives a process (an open breaker) rebuild it first
        self.policy.restore(self._read_events)
        await self._recovery.recover()

    async def aclose(self, *, close_venues: bool = True) -> None:
        """Stop cleanly: wait for sends to be answered, stop background tracking (the
        journal keeps those orders OPEN for the next start to reconcile), flush sinks."""
        self._follow.closing = True
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=30)
        await self._follow.aclose()
        self._recorder.close()
        await self.hub.aclose()
        if close_venues:
            for exchange in self.venues.values():
                try:
                    await exchange.aclose()
                except Exception as exc:
                    log.warning("closing venue %s failed: %s", exchange.name, exc)

    # ------------------------------------------------------------------ submit

    async def submit(self, request: OrderRequest) -> ExecutionResult:
        """Execute one request and return its result. Never raises for a trading outcome."""
        return await self.begin(request)

    def begin(self, request: OrderRequest) -> Coroutine[Any, Any, ExecutionResult]:
        """Register the request as in flight now and return the coroutine that executes it.

        Registering at call time lets a burst of requests (``run`` schedules many at once)
        see each other: they dedupe against one another and share journal commits. The
        returned coroutine must be awaited or scheduled.
        """
        key = request.idempotency_key
        running = self._inflight.get(key)
        if running is not None:
            return self._duplicate_of(running)
        future: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        return self._execute_into(request, future)

    async def _duplicate_of(self, running: asyncio.Future[ExecutionResult]) -> ExecutionResult:
        """The answer to a request whose key is already executing: reported like every
        other result (a duplicate inside one file is printed, not only counted)."""
        return self._recorder.result(as_duplicate(await asyncio.shield(running)))

    async def _execute_into(self, request: OrderRequest,
                            future: asyncio.Future[ExecutionResult]) -> ExecutionResult:
        try:
            result = await self._execute(request)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved
            raise
        finally:
            del self._inflight[request.idempotency_key]

    async def _execute(self, request: OrderRequest) -> ExecutionResult:
        started = time.perf_counter()
        outcomes = self._outcomes
        if self.journal.unusable is not None:  # no new risk on a journal that cannot hold it
            problem = self.journal.unusable
            return outcomes.unjournaled(request, problem.code, f"{problem}; nothing was sent",
                                        started)
        admitted = await self._admission.admit(request)
        if isinstance(admitted, Duplicate):
            return self._recorder.result(admitted.row.to_result(duplicate=True))
        if isinstance(admitted, Denied):
            return outcomes.deny(request, admitted.code, admitted.message, started,
                                 rule=admitted.rule, figures=admitted.figures)
        exchange = admitted.exchange
        prepared = await self._dispatch.prepare(request, exchange)
        if isinstance(prepared, Denied):
            await self._admission.undo(request)
            return outcomes.deny(request, prepared.code, prepared.message, started)
        try:
            taken = await self._dispatch.write_ahead(
                request, prepared,
                event=self._accounting.event_of(request.venue, request.market),
                opening=admitted.opening)
        except JournalUnusable as problem:  # nothing was written, so nothing is sent
            await self._admission.undo(request)
            return outcomes.unjournaled(request, problem.code, f"{problem}; nothing was sent",
                                        started)
        except Unjournalable as exc:
            await self._admission.undo(request)
            return outcomes.unjournaled(request, "unjournalable", str(exc), started)
        if taken is not None:  # the key was taken meanwhile (its order's hold stays)
            if admitted.reserved:
                await self._accounting.release(request.idempotency_key)
            return self._recorder.result(taken.to_result(duplicate=True))
        live = LiveOrder(key=request.idempotency_key, request=request,
                         identity=prepared.identity, venue_order_id=prepared.venue_order_id,
                         status=OrderStatus.PENDING, started=started, sent_at=self._now())
        answer = await self._dispatch.send(
            exchange, prepared, started,
            interrupted=lambda why: self._follow.spawn(self._unknown(live, exchange, why)))
        if isinstance(answer, Refused):
            return await outcomes.refused(request, answer.error, started,
                                          failure=answer.failure)
        if isinstance(answer, Ambiguous):
            return await self._unknown(live, exchange, answer.why)
        return await self._acknowledged(live, exchange, prepared, answer)

    async def _acknowledged(self, live: LiveOrder, exchange: Exchange, prepared: PreparedOrder,
                            answer: Acknowledged) -> ExecutionResult:
        self.live.acknowledged(live, answer.at, answer.latency_ms)
        state = answer.state
        if answer.adopted:
            self._outcomes.adopted(live, state)
        if state.is_final:
            return await self._outcomes.finish(live, state, latency_ack_ms=answer.latency_ms)
        self.live.track(live)
        await self._outcomes.progress(live, state, latency_ack_ms=answer.latency_ms)
        return await self._follow.follow(live, exchange)

    async def _unknown(self, live: LiveOrder, exchange: Exchange, why: str) -> ExecutionResult:
        self.live.unknown(live)
        self._outcomes.unknown(live, why)
        self.live.track(live)
        return await self._follow.resolve(live, exchange)

    def deny_invalid(self, position: str, field_name: str | None, reason: str,
                     raw: str | None = None) -> ExecutionResult:
        """A request that could not be parsed: recorded as an event, answered as DENIED."""
        return self._outcomes.invalid(position, field_name, reason, raw)

    # ------------------------------------------------------------------ questions

    async def risk_context(
        self, request: OrderRequest, exchange: Exchange
    ) -> tuple[RiskContext, MarketRules | None]:
        """What the policy would see for this request now."""
        return await self._admission.risk_context(request, exchange)

    async def explain(self, request: OrderRequest) -> Explanation:
        """Every rule's verdict and figures for a request, sending and changing nothing
        (``arbexec risk explain``)."""
        return await self._admission.explain(request)

    def record_events(self, events: Sequence[Event]) -> None:
        """Journal events and emit them to the sinks in one call (for tools built on the
        engine, such as the holdings report)."""
        self._recorder.events(events)

    def tracking(self, key: str) -> bool:
        """Whether this engine is following the order (sending, polling or streaming it)."""
        return key in self.live or key in self._inflight

    # ------------------------------------------------------------------ reconciliation

    async def reconcile(self) -> list[dict[str, Any]]:
        """Look every non-final journal order up on its venue and take the venue's word
        (see ``arbexec.engine.recovery``). Returns one report line per order."""
        return await self._recovery.reconcile()

    async def reconcile_order(self, key: str, *, grace: float | None = None
                              ) -> dict[str, Any] | None:
        """Reconcile one non-final order this engine is not following (a pair leg left
        UNKNOWN, for one). The deployment's grace from the send applies (``grace`` is
        accepted for older callers and ignored). None when there is nothing to do."""
        if key in self._inflight:
            return None
        return await self._recovery.reconcile_order(key)

    async def compare_venues(self) -> list[dict[str, Any]]:
        """Venue orders the journal does not know, reported (never adopted silently)."""
        return await self._recovery.compare_venues()

    # ------------------------------------------------------------------ cancel

    async def cancel(self, key_or_request_id: str) -> ExecutionResult:
        row = self.journal.get(key_or_request_id)
        if row is None:
            rows = self.journal.find_by_request_id(key_or_request_id)
            row = rows[0] if len(rows) == 1 else None
        if row is None:
            raise UserError(f"no order with key or request id {key_or_request_id!r} in the "
                            "journal (see `arbexec orders`)")
        if row.status.is_final:
            return row.to_result()
        exchange = self.venues.get(row.venue)
        if exchange is None:
            raise UserError(f"order {key_or_request_id!r} is on venue {row.venue!r}, which this "
                            "deployment does not configure")
        if row.venue_order_id is None:
            raise UserError(f"order {key_or_request_id!r} has no venue order id yet (it is "
                            f"{row.status.value}); run `arbexec reconcile` first")
        answer = await exchange.cancel_order(row.venue_order_id)
        try:
            state = as_state(answer)
        except TypeError as exc:
            raise UserError(f"the {row.venue} plugin answered the cancel of "
                            f"{key_or_request_id!r} oddly ({exc}); run `arbexec reconcile` "
                            "to read the order's state") from None
        if state is None:
            raise UserError(f"the {row.venue} plugin gave no state for the cancel of "
                            f"{key_or_request_id!r}; run `arbexec reconcile`")
        live = self.live.get(row.idempotency_key)
        if live is None:
            live = self._recovery.live_from_row(row)
            self.live.track(live)
        if state.is_final:
            return await self._outcomes.finish(live, state)
        await self._outcomes.progress(live, state)
        refreshed = self.journal.get(row.idempotency_key)
        assert refreshed is not None
        return refreshed.to_result()
