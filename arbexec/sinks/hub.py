"""Fan events out to sinks without letting any sink stall or abort execution.

Each sink has its own queue and worker task. Informational events beyond a queue bound are
dropped (and counted); money-path events are never dropped: a failing sink gets them again
with capped backoff until it takes them or the run closes (they are in the journal in any
case, which ``arbexec audit`` replays).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Sequence

from attrs import define, field

from arbexec.events import Event
from arbexec.sinks.base import Sink

log = logging.getLogger("arbexec.sinks")


@define
class _Lane:
    sink: Sink
    queue: deque[Event] = field(factory=deque)
    wake: asyncio.Event = field(factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    dropped: int = 0
    failures: int = 0
    undelivered: int = 0


@define
class SinkHub:
    sinks: Sequence[Sink]
    max_queue: int = 10_000
    retry_limit_seconds: float = 2.0
    close_timeout: float = 5.0
    _lanes: list[_Lane] = field(factory=list)
    _closing: bool = False

    def start(self) -> None:
        self._lanes = [_Lane(sink=s) for s in self.sinks]
        for lane in self._lanes:
            lane.task = asyncio.get_running_loop().create_task(self._drain(lane))

    @property
    def active(self) -> bool:
        """Whether any sink listens (callers skip building events nobody would read)."""
        return bool(self.sinks)

    def emit(self, event: Event) -> None:
        for lane in self._lanes:
            if len(lane.queue) >= self.max_queue and not event.money_path:
                lane.dropped += 1
                continue
            lane.queue.append(event)
            lane.wake.set()

    async def _drain(self, lane: _Lane) -> None:
        while True:
            if not lane.queue:
                if self._closing:
                    return
                lane.wake.clear()
                await lane.wake.wait()
                continue
            event = lane.queue[0]
            delay = 0.01
            while True:
                try:
                    await lane.sink.emit(event)
                    break
                except Exception as exc:  # a sink's failure is its own
                    lane.failures += 1
                    if lane.failures <= 3 or lane.failures % 1000 == 0:
                        log.warning("sink %s failed on %s: %s", lane.sink.name, event.kind, exc)
                    if not event.money_path:
                        break
                    if self._closing:  # one last try per event while closing
                        lane.undelivered += 1
                        break
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.retry_limit_seconds)
            lane.queue.popleft()

    async def aclose(self) -> None:
        self._closing = True
        for lane in self._lanes:
            lane.wake.set()
        tasks = [lane.task for lane in self._lanes if lane.task is not None]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.close_timeout)
            for task in pending:
                task.cancel()
        for lane in self._lanes:
            lane.undelivered += sum(1 for e in lane.queue if e.money_path)
            if lane.undelivered:
                print(
                    f"warning: sink {lane.sink.name!r} did not take {lane.undelivered} "
                    "money-path events; they are in the journal (arbexec audit)",
                    file=sys.stderr,
                )
            try:
                await lane.sink.aclose()
            except Exception as exc:
                log.warning("sink %s failed to close: %s", lane.sink.name, exc)

    def stats(self) -> dict[str, dict[str, int]]:
        return {
            lane.sink.name: {"dropped": lane.dropped, "failures": lane.failures,
                             "undelivered": lane.undelivered}
            for lane in self._lanes
        }
