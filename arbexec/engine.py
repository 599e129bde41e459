"""The path of one request: validate, dedupe, halt, risk, journal, send, follow, report.

Every step that could lose or double an order is ordered so it cannot:

* the idempotency key is checked against in-flight requests and the journal before anything
  else, and the journal's UNIQUE key settles races between two concurrent submissions;
* the risk policy runs synchronously and the exposure reservation follows it, so concurrent
  requests cannot together pass a limit that each passes alone;
* the intent, with its venue-side identity, is committed before the send;
* an ambiguous send is UNKNOWN, resolved by looking the identity up, never by resending;
* a send is shielded from cancellation (Ctrl-C waits for the venue's answer).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from attrs import define, field, frozen

from arbexec.errors import (
    AmbiguousSubmission,
    ExchangeError,
    NetworkError,
    OrderNotFound,
    UserError,
)
from arbexec.events import Event
from arbexec.exchange import Exchange, MarketRules, PreparedOrder
from arbexec.halt import HaltFlag
from arbexec.health import HealthTracker
from arbexec.journal import Intent, Journal, JournalRow, order_state_summary
from arbexec.ledger import ExposureLedger, InMemoryLedger, scope_keys
from arbexec.model import (
    ZERO,
    ExecutionResult,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    Side,
    now_utc,
)
from arbexec.positions import PositionBook
from arbexec.risk.base import Claim, Need, OrderOutcome, RiskContext, Verdict
from arbexec.sinks.hub import SinkHub
from arbexec.sinks.render import result_to_dict
from arbexec.tracking import LiveOrder, reason_code_of

log = logging.getLogger("arbexec.engine")


#: First wait before reopening an order stream that ended or failed (doubling after that).
RECONNECT_DELAY = 0.05


class PolicyDecisionLike(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def verdict(self) -> Verdict | None: ...

    @property
    def verdicts(self) -> Sequence[Verdict]: ...

    @property
    def claims(self) -> Sequence[Claim]: ...


class PolicyLike(Protocol):
    """What the engine needs of a policy (``arbexec.risk.policy.Policy`` is the real one)."""

    @property
    def needs(self) -> frozenset[Need]: ...

    @property
    def observers(self) -> Sequence[Any]: ...

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> Any: ...


@frozen
class _Allow:
    allowed: bool = True
    verdict: Verdict | None = None
    verdicts: tuple[Verdict, ...] = ()
    claims: tuple[Claim, ...] = ()


_ALLOW = _Allow()


@frozen
class OpenPolicy:
    """No rules: everything valid is allowed (only for tests and explicit opt-in)."""

    needs: frozenset[Need] = frozenset()
    observers: tuple[Any, ...] = ()

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> PolicyDecisionLike:
        return _ALLOW


@frozen(kw_only=True)
class EngineSettings:
    wait_budget: float = 2.0  # seconds to follow a resting order before reporting it
    max_in_flight: int = 512  # requests executing at once (all venues)
    venue_concurrency: int = 64  # sends in flight per venue
    poll_interval: float = 0.05  # first poll delay when following an order
    poll_max_interval: float = 2.0
    unknown_grace: float = 10.0  # seconds a lookup miss is not yet proof of "never received"
    breaker_window: float = 60.0  # seconds of outcomes kept for reject-rate checks
    background_tracking: bool = True


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
    clock: Callable[[], datetime] = now_utc  # the time rules see (injectable for drills)
    _inflight: dict[str, asyncio.Future[ExecutionResult]] = field(factory=dict)
    _live: dict[str, LiveOrder] = field(factory=dict)
    _by_venue_id: dict[tuple[str, str], LiveOrder] = field(factory=dict)
    _settling: dict[tuple[str, str], LiveOrder] = field(factory=dict)  # final, fills provisional
    _open_per_market: dict[tuple[str, str], int] = field(factory=dict)
    _health: dict[str, HealthTracker] = field(factory=dict)
    _venue_gates: dict[str, asyncio.Semaphore] = field(factory=dict)
    _streams: dict[str, asyncio.Task[None]] = field(factory=dict)
    _background: set[asyncio.Task[Any]] = field(factory=set)
    positions: PositionBook = field(factory=PositionBook)
    _started: bool = False
    _closing: bool = False
    _flush_handle: asyncio.TimerHandle | None = None
    _intents: list[tuple[Intent, asyncio.Future[JournalRow | None]]] = field(factory=list)
    _reserved: dict[str, Decimal] = field(factory=dict)  # cash held by resting buys, per venue
    _market_event: dict[tuple[str, str], str] = field(factory=dict)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.hub.start()
        self._recover()

    def _recover(self) -> None:
        """Turn what a crash left into visible state: PENDING orders may have been sent, so
        they become UNKNOWN; every non-final order holds its exposure again."""
        for row in self.journal.non_final():
            if row.status is OrderStatus.PENDING:
                event = Event(kind="order.unknown", request_id=row.request_id, data={
                    "venue": row.venue, "identity": row.identity,
                    "reason": "the engine stopped while the order was being sent",
                })
                self.journal.record_state(
                    row.idempotency_key, status=OrderStatus.UNKNOWN,
                    reason_code="engine_restart",
                    reason="the engine stopped while the order was being sent; "
                           "resolved by looking it up on the venue",
                    events=[event],
                )
            self._restore_reservation(row)
        self._rebuild_books()

    def _restore_reservation(self, row: JournalRow) -> None:
        if not isinstance(self.ledger, InMemoryLedger) or row.side != Side.BUY.value:
            return
        remaining = row.quantity - row.filled_quantity
        amount = remaining * row.limit_price
        event = self.market_events.get(f"{row.venue}:{row.market}")
        self.ledger.restore(row.idempotency_key, scope_keys(row.venue, row.market, event), amount)

    async def aclose(self, *, close_venues: bool = True) -> None:
        """Stop cleanly: wait for sends to be answered, stop background tracking (the
        journal keeps those orders OPEN for the next start to reconcile), flush sinks."""
        self._closing = True
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=30)
        followers = list(self._background) + list(self._streams.values())
        for task in followers:
            task.cancel()
        if followers:  # bounded: a plugin that swallows cancellation cannot hang the exit
            _done, stuck = await asyncio.wait(followers, timeout=5.0)
            for task in stuck:
                log.warning("a tracking task did not stop within 5 s: %s", task.get_name())
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self.journal.flush()
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
        return _as_duplicate(await asyncio.shield(running))

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
        if self.policy.needs:
            # Spare the venue the risk policy's reads for a key already executed. Without
            # needs this lookup is skipped: the journal's UNIQUE key settles duplicates when
            # the intent (or a denial) is written, across restarts too.
            existing = self.journal.get(request.idempotency_key)
            if existing is not None and existing.status is not OrderStatus.DENIED:
                return self._emit_result(existing.to_result(duplicate=True))
        exchange = self.venues.get(request.venue)
        if exchange is None:
            configured = ", ".join(sorted(self.venues)) or "none"
            return self._deny(request, "unknown_venue",
                              f"venue {request.venue!r} is not configured; configured venues: "
                              f"{configured}", started)

        halt = self.halt.current()
        if halt.halted:
            return self._deny(request, "halted",
                              f"trading is halted ({halt.reason or 'no reason given'}); "
                              "lift it with `arbexec resume`", started)

        if type(self.policy) is OpenPolicy:  # no rules: nothing would read a context
            decision: Any = _ALLOW
        else:
            try:
                ctx, _rules = await self.risk_context(request, exchange)
            except Exception as exc:  # a venue error, or a plugin bug: nothing was sent
                if not isinstance(exc, ExchangeError):
                    log.exception("venue %s failed a read for the risk policy", request.venue)
                return self._deny(request, "risk_data_unavailable",
                                  f"could not fetch what the risk policy needs from "
                                  f"{request.venue}: {exc}", started)
            decision = self.policy.evaluate(request, ctx)
        self._policy_events()
        if not decision.allowed:
            verdict = decision.verdict
            code = verdict.code if verdict and verdict.code else "risk"
            message = verdict.message if verdict else "denied by the risk policy"
            figures = dict(verdict.figures) if verdict else {}
            return self._deny(request, code, message, started,
                              rule=verdict.rule if verdict else None, figures=figures)
        claims = list(decision.claims)
        breached = await self.ledger.try_reserve(request.idempotency_key, claims)
        if breached is not None:
            self._policy_release(request)
            current = await self.ledger.exposure(breached.key)
            return self._deny(
                request, breached.code,
                f"{breached.key} exposure would be {current + breached.amount} against a limit "
                f"of {breached.limit}", started, rule=breached.rule,
                figures={"limit": str(breached.limit), "current": str(current),
                         "order": str(breached.amount)},
            )

        try:
            prepared = await exchange.prepare_order(request)
        except Exception as exc:  # prepare sends nothing, whatever it raises
            await self.ledger.release(request.idempotency_key)
            self._policy_release(request)
            if isinstance(exc, ExchangeError):
                return self._deny(request, exc.reason_code, str(exc), started)
            log.exception("venue %s failed to prepare an order", request.venue)
            return self._deny(request, "prepare_failed",
                              f"the {request.venue} plugin could not prepare the order "
                              f"({type(exc).__name__}: {exc}); nothing was sent", started)

        sent_event = Event(kind="order.sent", request_id=request.request_id, data={
            "venue": request.venue, "market": request.market, "identity": prepared.identity,
            "outcome": request.outcome.value, "side": request.side.value,
            "quantity": str(request.quantity), "limit_price": str(request.limit_price),
        })
        taken = await self._write_intent(Intent(
            request=request, identity=prepared.identity,
            venue_order_id=prepared.venue_order_id, events=(sent_event,)))
        if taken is not None:
            await self.ledger.release(request.idempotency_key)
            return self._emit_result(taken.to_result(duplicate=True))
        self.hub.emit(sent_event)
        return await self._send(request, exchange, prepared, started)

    async def risk_context(
        self, request: OrderRequest, exchange: Exchange
    ) -> tuple[RiskContext, MarketRules | None]:
        """What the policy sees for this request: fetched as its rules declare, plus the
        engine's own counts (exposure, open orders, venue health, today's P&L)."""
        needs = self.policy.needs
        rules = book = balance = None
        positions: tuple[Any, ...] = ()
        if needs:
            if Need.MARKET_RULES in needs or Need.BOOK in needs:
                rules = await exchange.market_rules(request.market)  # cached by the plugin
            wanted: dict[str, Any] = {}
            if Need.BOOK in needs:
                wanted["book"] = exchange.fetch_order_book(request.market)
            if Need.BALANCE in needs:
                wanted["balance"] = exchange.fetch_balance()
            if Need.POSITIONS in needs:
                wanted["positions"] = exchange.fetch_positions()
            if len(wanted) == 1:  # one read: no tasks needed
                [(name, call)] = wanted.items()
                got = {name: await call}
            else:  # several reads go out together
                got = dict(zip(wanted, await asyncio.gather(*wanted.values()), strict=True))
            book, balance = got.get("book"), got.get("balance")
            positions = tuple(got.get("positions") or ())
        ledger_now = getattr(self.ledger, "exposure_now", None)
        event = self.market_events.get(f"{request.venue}:{request.market}") or (
            rules.event if rules is not None else None)
        if event is not None:
            self._market_event[(request.venue, request.market)] = event
        ctx = RiskContext(
            now=self.clock(),
            venue=request.venue,
            market_rules=rules,
            book=book,
            balance=balance,
            positions=positions,
            exposure=ledger_now if ledger_now is not None else (lambda _key: ZERO),
            reserved_on_venue=self._reserved.get(request.venue, ZERO),
            open_orders_market=self._open_per_market.get((request.venue, request.market), 0),
            open_orders_total=len(self._live),
            health=self._health_of(request.venue).snapshot(
                time.monotonic(), self.settings.breaker_window),
            daily_realised_pnl=self.positions.today_pnl(),
            halted=False,
            fee=exchange.fee,
            event=event,
        )
        return ctx, rules

    async def _write_intent(self, intent: Intent) -> JournalRow | None:
        """Write-ahead the intent; concurrent requests share one commit (group commit).

        Alone, a request writes at once. With others in flight, it joins a batch that is
        committed when the event loop next runs callbacks, and sends only after the commit.
        """
        if len(self._inflight) <= 1 and not self._intents:
            return self.journal.record_intent(
                intent.request, identity=intent.identity,
                venue_order_id=intent.venue_order_id, events=intent.events)
        future: asyncio.Future[JournalRow | None] = asyncio.get_running_loop().create_future()
        self._intents.append((intent, future))
        if len(self._intents) == 1:
            asyncio.get_running_loop().call_soon(self._commit_intents)
        return await future

    def _commit_intents(self) -> None:
        batch, self._intents = self._intents, []
        try:
            answers = self.journal.record_intents([intent for intent, _ in batch])
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    def _policy_release(self, request: OrderRequest) -> None:
        """Undo what an allowing policy set aside for a request that will not be sent
        (a circuit breaker's half-open probe slot, for one)."""
        release = getattr(self.policy, "release", None)
        if release is not None:
            release(request)

    def _policy_events(self) -> None:
        """Rules may change state while checking (a breaker going half-open); record it."""
        drain = getattr(self.policy, "drain_events", None)
        events = drain() if drain is not None else None
        if events:
            self.journal.append_events(events)
            for event in events:
                self.hub.emit(event)

    def _wait_budget(self, request: OrderRequest) -> float:
        """How long to follow a resting order before reporting it: the request's own
        budget, else the deployment's."""
        own = request.wait_budget
        return self.settings.wait_budget if own is None else own

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _schedule_flush(self) -> None:
        """Deferred journal writes ride on the next write-ahead commit; when none comes
        within a couple of milliseconds, this commits them on their own."""
        if self._flush_handle is None and self.journal.has_deferred:
            self._flush_handle = asyncio.get_running_loop().call_later(
                0.002, self._flush_journal)

    def _flush_journal(self) -> None:
        self._flush_handle = None
        self.journal.flush()

    def _health_of(self, venue: str) -> HealthTracker:
        health = self._health.get(venue)
        if health is None:
            health = self._health[venue] = HealthTracker()
        return health

    def _gate(self, venue: str) -> asyncio.Semaphore:
        gate = self._venue_gates.get(venue)
        if gate is None:
            gate = self._venue_gates[venue] = asyncio.Semaphore(self.settings.venue_concurrency)
        return gate

    # ------------------------------------------------------------------ send and follow

    async def _send(
        self, request: OrderRequest, exchange: Exchange, prepared: PreparedOrder, started: float
    ) -> ExecutionResult:
        key = request.idempotency_key
        health = self._health_of(request.venue)
        health.record_send(time.monotonic())
        async with self._gate(request.venue):
            try:
                state = await exchange.create_order(prepared)
            except asyncio.CancelledError:
                # The caller gave up mid-send: the order may have left. Record it UNKNOWN
                # and resolve it by lookup in the background, then let the cancel through.
                self._spawn(self._unknown(request, exchange, prepared, started,
                                          "the send was interrupted"))
                raise
            except AmbiguousSubmission as exc:
                return await self._unknown(request, exchange, prepared, started, str(exc))
            except ExchangeError as exc:
                failure = isinstance(exc, NetworkError)
                return await self._rejected(request, exc, started, failure=failure)
            except Exception as exc:  # a plugin bug: the order may have left
                log.exception("venue %s raised unexpectedly on create", request.venue)
                return await self._unknown(request, exchange, prepared, started,
                                           f"unexpected {type(exc).__name__}: {exc}")
        acked = time.perf_counter()
        health.consecutive_failures = 0
        latency_ack = (acked - started) * 1000
        live = LiveOrder(key=key, request=request, identity=prepared.identity,
                     venue_order_id=state.venue_order_id, status=OrderStatus.PENDING,
                     started=started, acknowledged_at=now_utc(), latency_ack_ms=latency_ack)
        if state.is_final:
            return await self._finish(live, state, latency_ack_ms=latency_ack)
        self._track(live)
        self._journal_state(live, state, latency_ack_ms=latency_ack)
        return await self._follow(live, exchange, latency_ack)

    async def _follow(
        self, live: LiveOrder, exchange: Exchange, latency_ack: float
    ) -> ExecutionResult:
        """Wait for a final state within the wait budget; hand the rest to the background."""
        deadline = time.perf_counter() + self._wait_budget(live.request)
        state = await self._wait_final(live, exchange, deadline)
        if state is not None:
            return await self._finish(live, state)
        if self.settings.background_tracking and not self._closing:
            task = asyncio.get_running_loop().create_task(self._background_follow(live, exchange))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return self._emit_result(live.result())

    async def _wait_final(
        self, live: LiveOrder, exchange: Exchange, deadline: float | None
    ) -> OrderState | None:
        delay = self.settings.poll_interval
        self._ensure_stream(live.request.venue, exchange)
        while True:
            remaining = None if deadline is None else deadline - time.perf_counter()
            if remaining is not None and remaining <= 0:
                return None
            wait = delay if remaining is None else min(delay, remaining)
            try:
                state = await asyncio.wait_for(live.updates.get(), timeout=wait)
            except TimeoutError:
                try:
                    assert live.venue_order_id is not None
                    state = await exchange.fetch_order(live.venue_order_id)
                except OrderNotFound:
                    state = None
                except ExchangeError as exc:
                    log.info("poll of %s on %s failed: %s", live.venue_order_id,
                             live.request.venue, exc)
                    state = None
                delay = min(delay * 2, self.settings.poll_max_interval)
            if state is None:
                continue
            if state.is_final:
                return state
            self._journal_state(live, state)

    async def _background_follow(self, live: LiveOrder, exchange: Exchange) -> None:
        state = await self._wait_final(live, exchange, None)
        if state is not None:
            await self._finish(live, state)

    def _ensure_stream(self, venue: str, exchange: Exchange) -> None:
        if venue in self._streams or self._closing or not exchange.capabilities.order_stream:
            return
        self._streams[venue] = asyncio.get_running_loop().create_task(
            self._pump(venue, exchange))

    async def _pump(self, venue: str, exchange: Exchange) -> None:
        """Feed the venue's order stream to the orders it concerns. A stream that ends or
        fails is reopened with backoff, and after each reconnect every non-final order on
        the venue is reconciled (followed ones polled once, others looked up), so updates
        sent while it was down are not lost. Polling runs alongside throughout."""
        delay = RECONNECT_DELAY
        reconnect = False
        while not self._closing:
            stream = exchange.watch_orders()
            if stream is None:
                return
            if reconnect:
                await self._catch_up(venue, exchange)
            try:
                async for state in stream:
                    delay = RECONNECT_DELAY
                    live = self._by_venue_id.get((venue, state.venue_order_id))
                    if live is not None:
                        live.updates.put_nowait(state)
                    elif (venue, state.venue_order_id) in self._settling:
                        self._settle(self._settling[(venue, state.venue_order_id)], state)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("order stream of %s failed: %s; reconnecting", venue, exc)
            reconnect = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, max(self.settings.poll_max_interval, RECONNECT_DELAY))

    async def _catch_up(self, venue: str, exchange: Exchange) -> None:
        event = Event(kind="stream.reconnect", data={"venue": venue})
        self.journal.append_events([event])
        self.hub.emit(event)
        for live in [v for v in self._live.values() if v.request.venue == venue]:
            if live.venue_order_id is None or live.status is OrderStatus.UNKNOWN:
                continue
            try:
                live.updates.put_nowait(await exchange.fetch_order(live.venue_order_id))
            except ExchangeError as exc:
                log.info("catch-up poll of %s on %s failed: %s", live.venue_order_id, venue,
                         exc)
        for (name, order_id), live in list(self._settling.items()):
            if name != venue:
                continue
            try:
                self._settle(live, await exchange.fetch_order(order_id))
            except ExchangeError as exc:
                log.info("catch-up read of %s on %s failed: %s", order_id, venue, exc)
        for row in self.journal.non_final(venue):
            if not self.tracking(row.idempotency_key):
                await self.reconcile_order(row.idempotency_key,
                                           grace=self.settings.unknown_grace)

    def _live_from_row(self, row: JournalRow) -> LiveOrder:
        """Follow a journal order this engine was not following (after a restart): the
        fills the journal holds are known and already booked (from the journal, at start)."""
        live = LiveOrder(key=row.idempotency_key, request=row.to_request(),
                     identity=row.identity or "", venue_order_id=row.venue_order_id,
                     status=row.status, started=time.perf_counter())
        for fill in self.journal.fills(row.idempotency_key):
            live.seen_trades.add(f"{fill.trade_id}:{int(fill.final)}")
            live.booked_trades.add(fill.trade_id)
        live.filled = row.filled_quantity
        live.average_price = row.average_price
        live.fees = row.fees
        return live

    def _track(self, live: LiveOrder) -> None:
        if live.key in self._live:
            return
        self._live[live.key] = live
        r = live.request
        if r.side is Side.BUY:
            self._reserved[r.venue] = self._reserved.get(r.venue, ZERO) + r.notional
        if live.venue_order_id is not None:
            self._by_venue_id[(live.request.venue, live.venue_order_id)] = live
        market = (live.request.venue, live.request.market)
        self._open_per_market[market] = self._open_per_market.get(market, 0) + 1

    def _untrack(self, live: LiveOrder) -> None:
        if self._live.pop(live.key, None) is None:
            return
        r = live.request
        if r.side is Side.BUY:
            self._reserved[r.venue] = self._reserved.get(r.venue, ZERO) - r.notional
        if live.venue_order_id is not None:
            self._by_venue_id.pop((live.request.venue, live.venue_order_id), None)
        market = (live.request.venue, live.request.market)
        self._open_per_market[market] = self._open_per_market.get(market, 1) - 1

    def _settle(self, live: LiveOrder, state: OrderState) -> None:
        """A final order whose fills were still provisional (a trade MATCHED but not yet
        CONFIRMED): journal what the venue now says of its fills (a trade turned final, or
        first reported after the final state); the status stays final. The order stops
        being watched once every fill is final."""
        fills = live.new_fills(state)
        if fills:
            filled, alerts = live.checked_fill_total(state)
            filled = max(filled, live.filled)
            live.filled = filled
            data = {**order_state_summary(state), "status": live.status.value,
                    "filled_quantity": str(filled)}
            event = Event(kind="order.state", request_id=live.request.request_id, data=data)
            self.journal.record_state(
                live.key, status=live.status, filled_quantity=filled,
                average_price=state.average_price, fills=fills, venue=live.request.venue,
                events=[event, *alerts], defer=True,
            )
            self._schedule_flush()
            self._book_fills(live, fills)  # trades first reported after the final state
            self.hub.emit(event)
            for alert in alerts:
                self.hub.emit(alert)
        if all(fill.final for fill in state.fills):
            self._settling.pop((live.request.venue, live.venue_order_id or ""), None)

    def _journal_state(
        self, live: LiveOrder, state: OrderState, *, latency_ack_ms: float | None = None
    ) -> None:
        fills = live.new_fills(state)
        if state.status is live.status and not fills and latency_ack_ms is None:
            return
        live.status = state.status
        if live.venue_order_id is None and state.venue_order_id:
            live.venue_order_id = state.venue_order_id
            self._by_venue_id[(live.request.venue, state.venue_order_id)] = live
        filled, alerts = live.checked_fill_total(state)
        live.filled, live.fees = filled, state.fees
        live.average_price = state.average_price or live.average_price
        self._book_fills(live, fills)
        event = Event(kind="order.state", request_id=live.request.request_id,
                      data=order_state_summary(state))
        self.journal.record_state(
            live.key, status=state.status, venue_order_id=state.venue_order_id,
            filled_quantity=filled, average_price=state.average_price, fees=state.fees,
            fills=fills, venue=live.request.venue,
            acknowledged_at=live.acknowledged_at if latency_ack_ms is not None else None,
            latency_ack_ms=latency_ack_ms, events=[event, *alerts], defer=True,
        )
        self._schedule_flush()
        self.hub.emit(event)
        for alert in alerts:
            self.hub.emit(alert)

    async def _finish(
        self, live: LiveOrder, state: OrderState, *, latency_ack_ms: float | None = None
    ) -> ExecutionResult:
        now = now_utc()
        latency_final = (time.perf_counter() - live.started) * 1000
        fills = live.new_fills(state)
        filled, alerts = live.checked_fill_total(state)
        live.status, live.filled, live.fees = state.status, filled, state.fees
        live.average_price = state.average_price or live.average_price
        live.venue_order_id = state.venue_order_id or live.venue_order_id
        live.reason_code, live.reason = reason_code_of(state), state.reason
        event = Event(kind="order.state", request_id=live.request.request_id,
                      data=order_state_summary(state), at=now)
        self.journal.record_state(
            live.key, status=state.status, venue_order_id=state.venue_order_id,
            filled_quantity=filled, average_price=state.average_price, fees=state.fees,
            fills=fills, reason_code=live.reason_code, reason=state.reason,
            venue=live.request.venue,
            acknowledged_at=live.acknowledged_at if latency_ack_ms is not None else None,
            executed_at=now, latency_ack_ms=latency_ack_ms, latency_final_ms=latency_final,
            events=[event, *alerts], replace_reason=True, defer=True,
        )
        self._schedule_flush()
        self._untrack(live)
        request = live.request
        exchange = self.venues.get(request.venue)
        if (live.venue_order_id and any(not fill.final for fill in state.fills)
                and exchange is not None and exchange.capabilities.order_stream):
            # the venue may still confirm (or drop) a trade: keep listening for it
            self._settling[(request.venue, live.venue_order_id)] = live
            self._ensure_stream(request.venue, exchange)
            while not live.updates.empty():  # streamed after the final state, not read yet
                self._settle(live, live.updates.get_nowait())
        money = filled * (state.average_price or ZERO)
        # A buy's reservation becomes its position; a sell's closed cost basis comes off
        # the ledger as its fills are booked.
        await self.ledger.settle(live.key, money if request.side is Side.BUY else ZERO)
        self._book_fills(live, fills)
        if self.policy.observers:
            self._observe(OrderOutcome(
                venue=request.venue, market=request.market, request=request,
                status=state.status, filled_quantity=filled,
                average_price=state.average_price, fees=state.fees,
                realised_pnl=live.realised,
            ))
        else:
            self._health_of(request.venue).record_outcome(time.monotonic(), False)
        for alert in alerts:
            self.hub.emit(alert)
        if live.acknowledged_at is None:  # resolved later (UNKNOWN, reconciliation)
            row = self.journal.get(live.key)
            assert row is not None
            return self._emit_result(row.to_result())
        return self._emit_result(live.result(executed_at=now, latency_final_ms=latency_final))

    async def _rejected(
        self, request: OrderRequest, exc: ExchangeError, started: float, *, failure: bool
    ) -> ExecutionResult:
        health = self._health_of(request.venue)
        health.record_outcome(time.monotonic(), True)
        health.consecutive_failures = health.consecutive_failures + 1 if failure else 0
        await self.ledger.release(request.idempotency_key)
        reason = exc.venue_message or str(exc)
        event = Event(kind="order.state", request_id=request.request_id, data={
            "venue": request.venue, "status": OrderStatus.REJECTED.value,
            "reason_code": exc.reason_code, "reason": reason, "venue_code": exc.venue_code,
        })
        self.journal.record_state(
            request.idempotency_key, status=OrderStatus.REJECTED, reason_code=exc.reason_code,
            reason=reason, executed_at=now_utc(),
            latency_final_ms=(time.perf_counter() - started) * 1000, events=[event],
        )
        self._observe(OrderOutcome(venue=request.venue, market=request.market, request=request,
                                   status=OrderStatus.REJECTED, failure=failure))
        row = self.journal.get(request.idempotency_key)
        assert row is not None
        return self._emit_result(row.to_result())

    async def _unknown(
        self, request: OrderRequest, exchange: Exchange, prepared: PreparedOrder,
        started: float, why: str,
    ) -> ExecutionResult:
        health = self._health_of(request.venue)
        health.consecutive_failures += 1
        health.unknown += 1
        event = Event(kind="order.unknown", request_id=request.request_id, data={
            "venue": request.venue, "identity": prepared.identity, "reason": why,
        })
        self.journal.record_state(
            request.idempotency_key, status=OrderStatus.UNKNOWN, reason_code="ambiguous",
            reason=f"{why}; looking the order up by its identity, never resending",
            events=[event],
        )
        self.hub.emit(event)
        self._observe(OrderOutcome(venue=request.venue, market=request.market, request=request,
                                   status=OrderStatus.UNKNOWN, failure=True))
        live = LiveOrder(key=request.idempotency_key, request=request, identity=prepared.identity,
                     venue_order_id=prepared.venue_order_id, status=OrderStatus.UNKNOWN,
                     started=started)
        self._track(live)
        deadline = time.perf_counter() + self._wait_budget(live.request)
        resolved = await self._resolve_unknown(live, exchange, deadline)
        if resolved is not None:
            health.unknown = max(health.unknown - 1, 0)
            if resolved.is_final:
                return await self._finish(live, resolved)
            self._journal_state(live, resolved)
            return await self._follow(live, exchange, 0.0)
        if self.settings.background_tracking and not self._closing:
            task = asyncio.get_running_loop().create_task(
                self._background_resolve(live, exchange))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        row = self.journal.get(live.key)
        assert row is not None
        return self._emit_result(row.to_result())

    async def _resolve_unknown(
        self, live: LiveOrder, exchange: Exchange, deadline: float | None
    ) -> OrderState | None:
        """Look the order up until the venue knows it or the deadline passes. Sets
        ``live.absent_since`` while the venue answers that it does not know the order; a
        failed lookup (an outage) proves nothing and resets it."""
        delay = self.settings.poll_interval
        while deadline is None or time.perf_counter() < deadline:
            try:
                found = await exchange.lookup_order(live.identity)
            except ExchangeError as exc:
                live.absent_since = None
                log.info("lookup of %s on %s failed: %s", live.identity, live.request.venue,
                         exc)
                found = None
            else:
                if found is None and live.absent_since is None:
                    live.absent_since = time.perf_counter()
            if found is not None:
                return found
            wait = delay if deadline is None else min(delay, max(deadline - time.perf_counter(), 0))
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.settings.poll_max_interval)
        return None

    async def _background_resolve(self, live: LiveOrder, exchange: Exchange) -> None:
        """Resolve an UNKNOWN order. Only a venue that keeps answering "no such order" for
        the whole grace period proves it never arrived; while lookups fail (the venue is
        down) the order stays UNKNOWN and the lookups go on."""
        grace = self.settings.unknown_grace
        while True:
            found = await self._resolve_unknown(live, exchange,
                                                time.perf_counter() + grace)
            if found is not None:
                break
            if live.absent_since is not None and (
                    time.perf_counter() - live.absent_since >= grace):
                await self.conclude_never_received(live.key)
                self._untrack(live)
                return
        self._health_of(live.request.venue).unknown = max(
            self._health_of(live.request.venue).unknown - 1, 0)
        if found.is_final:
            await self._finish(live, found)
        else:
            self._journal_state(live, found)
            await self._background_follow(live, exchange)

    async def conclude_never_received(self, key: str) -> None:
        """An UNKNOWN order the venue still does not know after the grace period: it never
        arrived. Recorded as REJECTED with that reason; its reservation is released."""
        row = self.journal.get(key)
        if row is None or row.status.is_final:
            return
        event = Event(kind="order.state", request_id=row.request_id, data={
            "venue": row.venue, "status": OrderStatus.REJECTED.value,
            "reason": "the venue never received the order",
        })
        self.journal.record_state(key, status=OrderStatus.REJECTED, reason_code="never_received",
                                  reason="the venue never received the order (looked up by "
                                         f"identity {row.identity})",
                                  executed_at=now_utc(), events=[event])
        self.hub.emit(event)
        await self.ledger.release(key)

    # ------------------------------------------------------------------ outcomes

    def _deny(
        self, request: OrderRequest, code: str, message: str, started: float, *,
        rule: str | None = None, figures: Mapping[str, str] | None = None,
    ) -> ExecutionResult:
        event = Event(kind="order.denied", request_id=request.request_id, data={
            "venue": request.venue, "market": request.market, "code": code, "reason": message,
            "rule": rule, "figures": dict(figures or {}),
        })
        taken = self.journal.record_denial(request, code=code, reason=message, events=[event])
        if taken is not None:
            return self._emit_result(taken.to_result(duplicate=True))
        self.hub.emit(event)
        now = now_utc()
        return self._emit_result(ExecutionResult(
            request_id=request.request_id, idempotency_key=request.idempotency_key,
            status=OrderStatus.DENIED, venue=request.venue, market=request.market,
            outcome=request.outcome, side=request.side, quantity=request.quantity,
            limit_price=request.limit_price, reason_code=code, reason=message,
            tags=request.tags, requested_at=request.requested_at, executed_at=now,
            latency_final_ms=(time.perf_counter() - started) * 1000,
        ))

    def deny_invalid(self, position: str, field_name: str | None, reason: str,
                     raw: str | None = None) -> ExecutionResult:
        """A request that could not be parsed: recorded as an event, answered as DENIED."""
        message = f"{position}: {field_name}: {reason}" if field_name else f"{position}: {reason}"
        event = Event(kind="request.invalid", data={
            "position": position, "field": field_name, "reason": reason,
            "raw": (raw or "")[:500],
        })
        self.journal.append_events([event])
        self.hub.emit(event)
        return self._emit_result(ExecutionResult(
            request_id=position, idempotency_key="", status=OrderStatus.DENIED, venue="",
            market="", reason_code="invalid_request", reason=message, executed_at=now_utc(),
        ))

    def _emit_result(self, result: ExecutionResult) -> ExecutionResult:
        if self.hub.active:
            self.hub.emit(Event(kind="result", request_id=result.request_id,
                                data={"result": result_to_dict(result), "result_obj": result}))
        return result

    def _observe(self, outcome: OrderOutcome) -> None:
        health = self._health_of(outcome.venue)
        if outcome.status is not OrderStatus.REJECTED and not outcome.failure:
            health.record_outcome(time.monotonic(), False)
        observers = self.policy.observers
        if not observers:
            return
        now = self.clock()
        events: list[Event] = []
        for observer in observers:
            try:
                events.extend(observer.observe(outcome, now))
            except Exception:
                log.exception("risk rule %s failed to observe an outcome",
                              getattr(observer, "name", observer))
        if events:
            self.journal.append_events(events)
            for event in events:
                self.hub.emit(event)

    def _book_fills(self, live: LiveOrder, fills: Sequence[Fill]) -> None:
        """Book fills not booked yet (by trade id; a provisional fill that turns final is
        the same trade): realised P&L of sells minus fees (for the daily loss limit), and
        the cost basis a sell closes comes off the exposure ledger."""
        fresh = [f for f in fills if f.trade_id not in live.booked_trades]
        if not fresh:
            return
        live.booked_trades.update(f.trade_id for f in fresh)
        request = live.request
        realised, closed = self.positions.book(request.venue, request.market, request.outcome.value,
                                      request.side, fresh, today=True)
        live.realised += realised
        if closed:
            event = self._market_event.get((request.venue, request.market))
            keys = scope_keys(request.venue, request.market, event)
            adjust = getattr(self.ledger, "adjust_now", None)
            if adjust is not None:
                adjust(keys, -closed)
            else:
                self._spawn(self.ledger.adjust(keys, -closed))

    def _rebuild_books(self) -> None:
        """At start: positions' cost basis, standing exposure and today's realised P&L come
        back from the journal, so a restart neither forgets exposure nor resets the daily
        loss limit."""
        today = now_utc().date()
        restore = getattr(self.ledger, "adjust_now", None)
        for row in self.journal.filled_orders():
            assert row.average_price is not None
            side = Side(row.side)
            fill = Fill(trade_id="journal", quantity=row.filled_quantity,
                        price=row.average_price, fee=row.fees)
            executed = row.executed_at or row.updated_at
            _, closed = self.positions.book(row.venue, row.market, row.outcome, side, (fill,),
                                   today=executed.date() == today)
            if restore is None or row.status.is_live:  # live orders: _restore_reservation
                continue
            event = self.market_events.get(f"{row.venue}:{row.market}")
            keys = scope_keys(row.venue, row.market, event)
            restore(keys, fill.notional if side is Side.BUY else -closed)

    # ------------------------------------------------------------------ reconciliation

    async def reconcile(self) -> list[dict[str, Any]]:
        """Look every non-final journal order up on its venue and take the venue's word.

        Found orders take the venue's state and fills; orders the venue never received
        become REJECTED with that reason; live ones go back to tracking. Returns one report
        line per order.
        """
        report: list[dict[str, Any]] = []
        for row in self.journal.non_final():
            report.append(await self._reconcile_row(row))
        if report:
            event = Event(kind="reconcile", data={"orders": len(report)})
            self.journal.append_events([event])
            self.hub.emit(event)
        return report

    def tracking(self, key: str) -> bool:
        """Whether this engine is following the order (sending, polling or streaming it)."""
        return key in self._live or key in self._inflight

    async def reconcile_order(self, key: str, *, grace: float = 0.0) -> dict[str, Any] | None:
        """Reconcile one non-final order this engine is not following (a pair leg left
        UNKNOWN, for one). A lookup miss concludes "never received" only once the order
        has been unanswered for ``grace`` seconds. None when there is nothing to do."""
        if self.tracking(key):
            return None
        row = self.journal.get(key)
        if row is None or row.status.is_final:
            return None
        return await self._reconcile_row(row, grace=grace)

    async def _reconcile_row(self, row: JournalRow, *, grace: float = 0.0) -> dict[str, Any]:
        exchange = self.venues.get(row.venue)
        entry: dict[str, Any] = {"idempotency_key": row.idempotency_key,
                                 "venue": row.venue, "was": row.status.value}
        if exchange is None:
            entry.update(now=row.status.value, note="venue not configured; left as is")
            return entry
        try:
            found = await exchange.lookup_order(row.identity or "")
        except ExchangeError as exc:
            entry.update(now=row.status.value, note=f"lookup failed: {exc}")
            return entry
        if row.status is OrderStatus.PENDING:
            row = self.journal.get(row.idempotency_key) or row
        if found is None and grace > 0 and (
                now_utc() - row.updated_at).total_seconds() < grace:
            entry.update(now=row.status.value, note="not found on the venue yet")
            return entry
        live = self._live_from_row(row)
        if found is None:
            await self.conclude_never_received(row.idempotency_key)
            entry.update(now=OrderStatus.REJECTED.value, note="never received by the venue")
        elif found.is_final:
            self._track(live)
            await self._finish(live, found)
            entry.update(now=found.status.value, filled=str(found.filled_quantity))
        else:
            self._track(live)
            self._journal_state(live, found)
            entry.update(now=found.status.value, filled=str(found.filled_quantity))
            if self.settings.background_tracking and not self._closing:
                task = asyncio.get_running_loop().create_task(
                    self._background_follow(live, exchange))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        return entry

    async def compare_venues(self) -> list[dict[str, Any]]:
        """Venue orders the journal does not know, reported (never adopted silently)."""
        report: list[dict[str, Any]] = []
        for name, exchange in self.venues.items():
            try:
                open_orders = await exchange.fetch_open_orders()
            except ExchangeError as exc:
                report.append({"venue": name, "note": f"could not list open orders: {exc}"})
                continue
            for state in open_orders:
                if self.journal.find_by_venue_order_id(name, state.venue_order_id) is None:
                    report.append({
                        "venue": name, "venue_order_id": state.venue_order_id,
                        "market": state.market, "status": state.status.value,
                        "note": "open on the venue but not in the journal (not adopted)",
                    })
        return report

    # ------------------------------------------------------------------ venue calls

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
        state = await exchange.cancel_order(row.venue_order_id)
        live = self._live.get(row.idempotency_key) or self._live_from_row(row)
        if state.is_final:
            if live.key not in self._live:
                self._track(live)
            return await self._finish(live, state)
        self._journal_state(live, state)
        refreshed = self.journal.get(row.idempotency_key)
        assert refreshed is not None
        return refreshed.to_result()


def _as_duplicate(result: ExecutionResult) -> ExecutionResult:
    from attrs import evolve

    return evolve(result, duplicate=True)




__all__ = [
    "Engine",
    "EngineSettings",
    "OpenPolicy",
    "PolicyLike",
]
