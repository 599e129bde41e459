"""Follow: the one owner of order streams, polling, catch-up and UNKNOWN resolution.

An acknowledged order is followed until final: its venue's stream (one per venue; the
stream owns its reconnects, the engine never reopens it) feeds its queue, and polls run
alongside with backoff. If a stream ends, every order on the venue is read once, so
updates sent while nobody listened are not lost. An UNKNOWN order is looked up by identity
until the venue knows it; only an order the venue never acknowledged, still unknown to it
once the grace period has passed in wall-clock time since the send, is concluded "never
received". Plugin failures (exceptions, answers that are not order states) are contained
to the order they concern.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from attrs import define, field

from arbexec.engine.dispatch import as_state
from arbexec.engine.live import LiveOrder, LiveOrders
from arbexec.engine.outcomes import Outcomes
from arbexec.engine.recorder import Recorder
from arbexec.engine.settings import EngineSettings
from arbexec.errors import ExchangeError, OrderNotFound
from arbexec.events import Event
from arbexec.exchange import Exchange
from arbexec.journal import Journal
from arbexec.model import ExecutionResult, OrderRequest, OrderState, OrderStatus

log = logging.getLogger("arbexec.engine")

@define
class Follow:
    live: LiveOrders
    outcomes: Outcomes
    recorder: Recorder
    journal: Journal
    settings: EngineSettings
    clock: Callable[[], datetime]
    #: Reconcile a non-final journal order nobody follows (set by the engine: recovery).
    reconcile_untracked: Callable[[str], Awaitable[Any]] | None = None
    closing: bool = False
    _streams: dict[str, asyncio.Task[None]] = field(factory=dict)
    _background: set[asyncio.Task[Any]] = field(factory=set)

    def wait_budget(self, request: OrderRequest) -> float:
        """How long to follow a resting order before reporting it: the request's own
        budget, else the deployment's."""
        own = request.wait_budget
        return self.settings.wait_budget if own is None else own

    def grace_over(self, live: LiveOrder) -> bool:
        """Whether the "never received" grace has passed since the send (wall clock)."""
        if live.sent_at is None:
            return True
        return (self.clock() - live.sent_at).total_seconds() >= self.settings.unknown_grace

    def never_received(self, live: LiveOrder) -> bool:
        """Whether a lookup that finds nothing now proves the order never arrived: only for
        an order the venue never acknowledged, and only once the grace has passed."""
        return not live.seen_by_venue and self.grace_over(live)

    # ------------------------------------------------------------------ acknowledged

    async def follow(self, live: LiveOrder, exchange: Exchange) -> ExecutionResult:
        """Wait for a final state within the wait budget; hand the rest to the background."""
        deadline = time.perf_counter() + self.wait_budget(live.request)
        state = await self.wait_final(live, exchange, deadline)
        if state is not None:
            return await self.outcomes.finish(live, state)
        self.in_background(live, exchange)
        return self.recorder.result(live.result())

    def in_background(self, live: LiveOrder, exchange: Exchange) -> None:
        if self.settings.background_tracking and not self.closing:
            self.spawn(self._background_follow(live, exchange))

    async def wait_final(self, live: LiveOrder, exchange: Exchange,
                         deadline: float | None) -> OrderState | None:
        delay = self.settings.poll_interval
        self.listen(live.request.venue, exchange)
        while True:
            remaining = None if deadline is None else deadline - time.perf_counter()
            if remaining is not None and remaining <= 0:
                return None
            wait = delay if remaining is None else min(delay, remaining)
            try:
                state: OrderState | None = await asyncio.wait_for(live.updates.get(),
                                                                  timeout=wait)
            except TimeoutError:
                state = await self._poll(live, exchange)
                delay = min(delay * 2, self.settings.poll_max_interval)
            if state is None:
                continue
            if state.is_final:
                return state
            await self.outcomes.progress(live, state)

    async def _poll(self, live: LiveOrder, exchange: Exchange) -> OrderState | None:
        if live.venue_order_id is None:
            return None
        try:
            return as_state(await exchange.fetch_order(live.venue_order_id))
        except OrderNotFound:
            return None
        except Exception as exc:  # an outage, or a plugin bug: this order only
            log.info("poll of %s on %s failed: %s", live.venue_order_id, live.request.venue,
                     exc)
            return None

    async def _background_follow(self, live: LiveOrder, exchange: Exchange) -> None:
        state = await self.wait_final(live, exchange, None)
        if state is not None:
            await self.outcomes.finish(live, state)

    # ------------------------------------------------------------------ streams

    def listen(self, venue: str, exchange: Exchange) -> None:
        if venue in self._streams or self.closing or not exchange.capabilities.order_stream:
            return
        self._streams[venue] = asyncio.get_running_loop().create_task(
            self._pump(venue, exchange))

    async def _pump(self, venue: str, exchange: Exchange) -> None:
        """Feed the venue's order stream to the orders it concerns. The stream owns its
        socket (reconnects, refetch after a gap, polling while down: the venue toolkit's
        ``ReconnectingStream``); the engine never reopens it. A stream that ends or fails
        is journalled (``stream.ended``) and every non-final order on the venue is
        reconciled once (followed ones polled, others looked up); polling, which runs
        alongside throughout, follows them from then on."""
        stream = exchange.watch_orders()
        if stream is None:
            return
        try:
            async for state in stream:
                if not isinstance(state, OrderState):
                    continue
                live = self.live.by_venue_id(venue, state.venue_order_id)
                if live is not None:
                    live.updates.put_nowait(state)
                    continue
                settling = self.live.settling(venue, state.venue_order_id)
                if settling is not None:
                    await self.outcomes.late(settling, state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("order stream of %s failed: %s; following by polling", venue, exc)
        if not self.closing:
            await self._catch_up(venue, exchange)

    async def _catch_up(self, venue: str, exchange: Exchange) -> None:
        self.recorder.events([Event(kind="stream.ended", data={"venue": venue})])
        for live in self.live.on_venue(venue):
            if live.venue_order_id is None or live.status is OrderStatus.UNKNOWN:
                continue
            state = await self._poll(live, exchange)
            if state is not None:
                live.updates.put_nowait(state)
        for live in self.live.settling_on(venue):
            state = await self._poll(live, exchange)
            if state is not None:
                await self.outcomes.late(live, state)
        if self.reconcile_untracked is None:
            return
        for row in self.journal.non_final(venue):
            if row.idempotency_key not in self.live:
                await self.reconcile_untracked(row.idempotency_key)

    # ------------------------------------------------------------------ UNKNOWN

    async def resolve(self, live: LiveOrder, exchange: Exchange) -> ExecutionResult:
        """An UNKNOWN order: look it up within the wait budget, then in the background."""
        deadline = time.perf_counter() + self.wait_budget(live.request)
        found, _absent = await self.lookup(live, exchange, deadline)
        if found is not None:
            self.outcomes.resolved(live.request.venue)
            if found.is_final:
                return await self.outcomes.finish(live, found)
            await self.outcomes.progress(live, found)
            return await self.follow(live, exchange)
        self.resolve_in_background(live, exchange)
        row = self.journal.get(live.key)
        assert row is not None
        return self.recorder.result(row.to_result())

    def resolve_in_background(self, live: LiveOrder, exchange: Exchange) -> bool:
        """Go on looking the order up in the background (False where that is off)."""
        if self.settings.background_tracking and not self.closing:
            self.spawn(self._background_resolve(live, exchange))
            return True
        return False

    async def lookup(self, live: LiveOrder, exchange: Exchange, deadline: float | None, *,
                     conclusive: bool = False) -> tuple[OrderState | None, bool]:
        """Look the order up until the venue knows it or the deadline passes (at least
        once when ``conclusive``). Returns the state found, and whether the last answer was
        a definite "no such order" (a failed lookup, an outage or a plugin fault, proves
        nothing). With ``conclusive``, a miss that proves "never received" returns at once.
        """
        delay = self.settings.poll_interval
        if not conclusive and deadline is not None and time.perf_counter() >= deadline:
            return None, False  # no budget to wait: the background goes on looking
        while True:
            try:
                found = as_state(await exchange.lookup_order(live.identity))
            except Exception as exc:
                if not isinstance(exc, ExchangeError):
                    log.warning("lookup of %s on %s failed in the plugin: %s: %s",
                                live.identity, live.request.venue, type(exc).__name__, exc)
                else:
                    log.info("lookup of %s on %s failed: %s", live.identity,
                             live.request.venue, exc)
                found, absent = None, False
            else:
                absent = found is None
            if found is not None:
                return found, False
            if absent and conclusive and self.never_received(live):
                return None, True
            if deadline is not None and time.perf_counter() >= deadline:
                return None, absent
            wait = delay if deadline is None else min(delay,
                                                      max(deadline - time.perf_counter(), 0))
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.settings.poll_max_interval)

    async def _background_resolve(self, live: LiveOrder, exchange: Exchange) -> None:
        """Resolve an UNKNOWN order. While lookups fail (the venue is down) the order stays
        UNKNOWN and the lookups go on; a venue that does not know it proves it never arrived
        only once the grace has passed since the send, and only if it never acknowledged it.
        """
        while True:
            window = self.settings.poll_max_interval
            found, absent = await self.lookup(live, exchange, time.perf_counter() + window,
                                              conclusive=True)
            if found is not None:
                break
            if absent and self.never_received(live):
                await self.outcomes.never_received(live.key)
                self.live.untrack(live)
                return
        self.outcomes.resolved(live.request.venue)
        if found.is_final:
            await self.outcomes.finish(live, found)
        else:
            await self.outcomes.progress(live, found)
            await self._background_follow(live, exchange)

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        """Stop background tracking (the journal keeps those orders non-final for the next
        start to reconcile); bounded, so a plugin that swallows cancellation cannot hang the
        exit."""
        self.closing = True
        followers = list(self._background) + list(self._streams.values())
        for task in followers:
            task.cancel()
        if followers:
            _done, stuck = await asyncio.wait(followers, timeout=5.0)
            for task in stuck:
                log.warning("a tracking task did not stop within 5 s: %s", task.get_name())
