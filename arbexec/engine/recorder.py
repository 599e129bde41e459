"""The recorder: every event the engine journals is emitted to the sinks in the same call.

Nothing else in the engine writes to the journal or the hub, so an event cannot reach one
and miss the other (the docs promise sinks every event the journal holds). For the same
reason the venues' known secrets are scrubbed here (``arbexec.secrets``): from every reason
and every event string, before either is written or emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from attrs import define, evolve, field

from arbexec.errors import JournalUnusable
from arbexec.events import Event
from arbexec.journal import Intent, Journal, JournalRow
from arbexec.model import ExecutionResult, OrderRequest
from arbexec.secrets import SecretScrubber
from arbexec.sinks.hub import SinkHub
from arbexec.sinks.render import result_to_dict

#: Deferred journal writes wait this long for a write-ahead commit to carry them.
FLUSH_DELAY = 0.002


@define
class Recorder:
    journal: Journal
    hub: SinkHub
    scrub: SecretScrubber = field(factory=SecretScrubber)
    _flush_handle: asyncio.TimerHandle | None = field(default=None, init=False)

    def events(self, events: Sequence[Event], key: str | None = None) -> None:
        if not events:
            return
        events = self._scrubbed(events)
        self.journal.append_events(events, key)
        self._emit(events)

    def state(self, key: str, *, events: Sequence[Event], defer: bool = False,
              **fields: Any) -> None:
        """Move an order to a new state (``Journal.record_state``) and emit its events.
        ``defer`` lets the write ride on the next commit (see ``Journal.record_state``)."""
        events = self._scrubbed(events)
        if self.scrub and isinstance(fields.get("reason"), str):
            fields["reason"] = self.scrub.text(fields["reason"])
        self.journal.record_state(key, events=events, defer=defer, **fields)
        if defer:
            self._schedule_flush()
        self._emit(events)

    def denial(self, request: OrderRequest, *, code: str, reason: str,
               event: Event) -> JournalRow | None:
        """Record a local refusal; the existing row when the key already holds an order
        (then nothing is recorded or emitted)."""
        taken = self.journal.record_denial(request, code=code, reason=reason, events=[event])
        if taken is None:
            self.hub.emit(event)
        return taken

    def intent(self, intent: Intent) -> JournalRow | None:
        taken = self.journal.record_intent(
            intent.request, identity=intent.identity, venue_order_id=intent.venue_order_id,
            events=intent.events)
        if taken is None:
            self._emit(intent.events)
        return taken

    def intents(self, batch: Sequence[Intent]) -> list[JournalRow | None]:
        """Group commit: one transaction for many intents; events of those written."""
        answers = self.journal.record_intents(batch)
        for intent, taken in zip(batch, answers, strict=True):
            if taken is None:
                self._emit(intent.events)
        return answers

    def result(self, result: ExecutionResult) -> ExecutionResult:
        """Report a request's result to the sinks (results are not journal events)."""
        if self.hub.active:
            self.hub.emit(Event(kind="result", request_id=result.request_id,
                                data={"result": result_to_dict(result), "result_obj": result}))
        return result

    def _scrubbed(self, events: Sequence[Event]) -> Sequence[Event]:
        if not self.scrub:
            return events
        return [evolve(e, data=self.scrub.value(e.data)) for e in events]

    def _emit(self, events: Iterable[Event]) -> None:
        for event in events:
            self.hub.emit(event)

    # ------------------------------------------------------------------ deferred writes

    def _schedule_flush(self) -> None:
        """Deferred journal writes ride on the next write-ahead commit; when none comes
        within a couple of milliseconds, this commits them on their own."""
        if self._flush_handle is None and self.journal.has_deferred:
            self._flush_handle = asyncio.get_running_loop().call_later(
                FLUSH_DELAY, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        self._flush_quietly()

    def _flush_quietly(self) -> None:
        # a journal that cannot be written said so once; the writes stay queued
        with contextlib.suppress(JournalUnusable):
            self.journal.flush()

    def close(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._flush_quietly()
