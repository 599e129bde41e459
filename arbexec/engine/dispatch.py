"""Dispatch: prepare, write the intent ahead, send, and classify the venue's answer.

The intent (with the order's venue-side identity) is committed before the send; requests in
flight together share one commit (group commit). A send is shielded from cancellation by
the caller's handling (an interrupted send is UNKNOWN). Every answer is one of three:
``Acknowledged`` (the venue has the order, including "duplicate" answers resolved by looking
the identity up), ``Refused`` (definitely not placed), ``Ambiguous`` (maybe placed: looked
up later, never resent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from attrs import define, field, frozen

from arbexec.engine.admission import Denied
from arbexec.engine.recorder import Recorder
from arbexec.engine.settings import EngineSettings
from arbexec.errors import (
    AmbiguousSubmission,
    DuplicateOrder,
    ExchangeError,
    JournalUnusable,
    NetworkError,
)
from arbexec.events import Event
from arbexec.exchange import Exchange, PreparedOrder
from arbexec.health import HealthBook
from arbexec.journal import Intent, JournalRow
from arbexec.model import ZERO, OrderRequest, OrderState, now_utc

log = logging.getLogger("arbexec.engine")


@frozen
class Acknowledged:
    state: OrderState
    at: datetime
    latency_ms: float
    adopted: bool = False  # the venue already had it ("duplicate"): found by identity


@frozen
class Refused:
    error: ExchangeError
    failure: bool  # a transport failure, not a business refusal


@frozen
class Ambiguous:
    why: str


Answer = Acknowledged | Refused | Ambiguous


def as_state(found: object) -> OrderState | None:
    """A plugin's lookup answer, or None; anything else is the plugin's fault."""
    if found is None or isinstance(found, OrderState):
        return found
    raise TypeError(f"the plugin answered a {type(found).__name__}, not an order state")


class Unjournalable(Exception):
    """The journal refused an intent (text SQLite cannot store): it was not sent."""


@define
class Dispatch:
    recorder: Recorder
    health: HealthBook
    settings: EngineSettings
    in_flight: Callable[[], int]
    clock: Callable[[], datetime] = now_utc  # the engine's: when an intent was sent
    _gates: dict[str, asyncio.Semaphore] = field(factory=dict)
    _intents: list[tuple[Intent, asyncio.Future[JournalRow | None]]] = field(factory=list)

    async def prepare(self, request: OrderRequest,
                      exchange: Exchange) -> PreparedOrder | Denied:
        try:
            return await exchange.prepare_order(request)
        except Exception as exc:  # prepare sends nothing, whatever it raises
            if isinstance(exc, ExchangeError):
                return Denied(exc.reason_code, str(exc))
            log.exception("venue %s failed to prepare an order", request.venue)
            return Denied("prepare_failed", f"the {request.venue} plugin could not prepare "
                          f"the order ({type(exc).__name__}: {exc}); nothing was sent")

    async def write_ahead(self, request: OrderRequest, prepared: PreparedOrder, *,
                          event: str | None = None, opening: Decimal = ZERO
                          ) -> JournalRow | None:
        """Write-ahead the intent; concurrent requests share one commit (group commit).
        None when written; the existing row when the key was taken meanwhile.

        Alone, a request writes at once. With others in flight, it joins a batch that is
        committed when the event loop next runs callbacks, and sends only after the commit.
        """
        sent = Event(kind="order.sent", request_id=request.request_id, data={
            "venue": request.venue, "market": request.market, "identity": prepared.identity,
            "outcome": request.outcome.value, "side": request.side.value,
            "quantity": str(request.quantity), "limit_price": str(request.limit_price),
            **({"event": event} if event is not None else {}),  # its exposure scope
            **({"opening": str(opening)} if opening > 0 else {}),  # a sell's part beyond
        }, at=self.clock())
        intent = Intent(request=request, identity=prepared.identity,
                        venue_order_id=prepared.venue_order_id, events=(sent,))
        if self.in_flight() <= 1 and not self._intents:
            return self._write_one(intent)
        future: asyncio.Future[JournalRow | None] = asyncio.get_running_loop().create_future()
        self._intents.append((intent, future))
        if len(self._intents) == 1:
            asyncio.get_running_loop().call_soon(self._commit_intents)
        return await future

    def _commit_intents(self) -> None:
        batch, self._intents = self._intents, []
        try:
            answers = self.recorder.intents([intent for intent, _ in batch])
        except JournalUnusable as exc:  # the journal itself is gone or full: refuse them all
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except Exception:
            # one intent the journal cannot store must not sink the others: each is
            # written alone, and only the one that fails again is refused
            for intent, future in batch:
                if future.done():
                    continue
                try:
                    future.set_result(self._write_one(intent))
                except (Unjournalable, JournalUnusable) as exc:
                    future.set_exception(exc)
            return
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    def _write_one(self, intent: Intent) -> JournalRow | None:
        try:
            return self.recorder.intent(intent)
        except JournalUnusable:
            raise
        except Exception as exc:
            # the error's text may hold the very characters that could not be stored
            raise Unjournalable(f"the request could not be journaled "
                                f"({type(exc).__name__}); nothing was sent") from None

    async def send(self, exchange: Exchange, prepared: PreparedOrder, started: float,
                   interrupted: Callable[[str], None]) -> Answer:
        """Send once and classify the answer. ``interrupted`` is told when the caller gave
        up mid-send (the order may have left); the cancellation then goes on."""
        request = prepared.request
        health = self.health.of(request.venue)
        health.record_send(self.health.clock())
        async with self._gate(request.venue):
            try:
                state = await exchange.create_order(prepared)
            except asyncio.CancelledError:
                interrupted("the send was interrupted")
                raise
            except AmbiguousSubmission as exc:
                return Ambiguous(str(exc))
            except DuplicateOrder as exc:
                return await self._adopt(exchange, prepared, started, exc)
            except ExchangeError as exc:
                return Refused(exc, failure=isinstance(exc, NetworkError))
            except Exception as exc:  # a plugin bug: the order may have left
                log.exception("venue %s raised unexpectedly on create", request.venue)
                return Ambiguous(f"unexpected {type(exc).__name__}: {exc}")
        health.consecutive_failures = 0
        if not isinstance(state, OrderState):
            return Ambiguous(f"the plugin answered a {type(state).__name__} to the send")
        return Acknowledged(state, now_utc(), (time.perf_counter() - started) * 1000)

    async def _adopt(self, exchange: Exchange, prepared: PreparedOrder, started: float,
                     exc: DuplicateOrder) -> Answer:
        """The venue says it already has an order of this identity: it is this key's order
        (an earlier send landed). Look it up and take it; if it cannot be found, the order
        is UNKNOWN until a lookup says otherwise."""
        why = f"the venue already has this order ({exc}); looking it up by its identity"
        try:
            found = as_state(await exchange.lookup_order(prepared.identity))
        except Exception as error:
            log.info("lookup after a duplicate answer on %s failed: %s", exchange.name, error)
            return Ambiguous(why)
        if found is None:
            return Ambiguous(why)
        return Acknowledged(found, now_utc(), (time.perf_counter() - started) * 1000,
                            adopted=True)

    def _gate(self, venue: str) -> asyncio.Semaphore:
        gate = self._gates.get(venue)
        if gate is None:
            gate = self._gates[venue] = asyncio.Semaphore(self.settings.venue_concurrency)
        return gate
