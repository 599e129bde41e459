"""The main job: consume a source, execute concurrently, account for every request.

Ctrl-C stops reading; requests already taken run to their venue's answer (sends are never
abandoned half-way), so nothing is left UNKNOWN that could have been resolved.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
import time
from typing import Any

from arbexec.app import Runtime
from arbexec.errors import JournalUnusable
from arbexec.model import ExecutionResult, OrderRequest
from arbexec.progress import REDRAWS_PER_SECOND, RunProgress
from arbexec.sources.base import Source, SourceItem
from arbexec.summary import RunSummary


async def run_source(runtime: Runtime, source: Source, *,
                     progress: RunProgress | None = None) -> RunSummary:
    """Execute every request of ``source``; ``progress`` (on a terminal) is redrawn as
    results come in and erased at the end."""
    engine = runtime.engine
    summary = RunSummary()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = False
    try:
        loop.add_signal_handler(signal.SIGINT, _on_interrupt, stop, loop)
        installed = True
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        pass
    started = time.perf_counter()
    gate = asyncio.Semaphore(engine.settings.max_in_flight)
    tasks: set[asyncio.Task[Any]] = set()
    pairs: Any = None  # the pair executor, built when the first pair needs it

    def executor() -> Any:
        nonlocal pairs
        if pairs is None:
            from arbexec.arbitrage.executor import ArbitrageSettings, PairExecutor

            pairs = PairExecutor(engine, ArbitrageSettings(
                max_book_age=runtime.deployment.max_book_age))
        return pairs

    def finished(task: asyncio.Task[Any], item: SourceItem) -> None:
        tasks.discard(task)
        gate.release()
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, JournalUnusable):  # said once, and again in the summary
            summary.errors += 1
            return
        if error is not None:  # an engine or plugin bug: report it, never lose it silently
            summary.errors += 1
            request = item.request
            journaled = (not isinstance(request, OrderRequest)  # a pair: its row is written
                         or runtime.journal.get(request.idempotency_key) is not None)
            where = ("its state is in the journal; `arbexec reconcile` resolves it"
                     if journaled else "nothing of it is in the journal")
            print(f"error: {item.position}: {type(error).__name__}: {error} ({where})",
                  file=sys.stderr)
            return
        _count(summary, task.result())
        if progress is not None:
            progress.draw(sum(summary.statuses.values()), len(tasks), summary.statuses)
        ack = loop.create_task(_acknowledge(source, item, task.result()))
        ack.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    halted_before = runtime.journal.halt_state().halted
    ticker: asyncio.Task[None] | None = None
    try:
        await engine.start()
        await engine.reconcile()
        if runtime.journal.pairs(unfinished_only=True):  # a crash interrupted some pairs
            for resumed in await executor().resume_all():
                _count(summary, resumed)
        async def read() -> None:
            async for item in source.items():
                if item.request is None:
                    summary.add(engine.deny_invalid(item.position, item.error_field,
                                                    item.error or "invalid request", item.raw))
                    await source.ack(item)
                    continue
                await gate.acquire()
                if isinstance(item.request, OrderRequest):
                    task: asyncio.Task[Any] = loop.create_task(engine.begin(item.request))
                else:
                    task = loop.create_task(executor().execute(item.request))
                task.add_done_callback(functools.partial(_done, finished, item))
                tasks.add(task)

        # Reading is its own task so that Ctrl-C can stop it even while a source blocks
        # (stdin, a stream); the requests already taken are separate tasks and run on.
        reader = loop.create_task(read())
        ticker = None if progress is None else loop.create_task(
            _tick(progress, summary, tasks))
        stopping = loop.create_task(stop.wait())
        await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not reader.done():
            reader.cancel()
        try:
            await reader
        except asyncio.CancelledError:
            if not stop.is_set():
                raise
        if tasks:
            await asyncio.gather(*list(tasks), return_exceptions=True)
        if runtime.journal.unusable is None:  # an unusable journal is reported instead
            # found while reading back: runtime.journal.unusable then says why
            with contextlib.suppress(JournalUnusable):
                _what_is_left(summary, runtime, halted_before)
    finally:
        if progress is not None:
            if ticker is not None:
                ticker.cancel()
            progress.erase()
        summary.wall_seconds = time.perf_counter() - started
        problem = runtime.journal.unusable
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
        await source.aclose()
        await runtime.aclose()
    if problem is not None:
        summary.journal_problem = f"{problem} ({problem.code})"
    if stop.is_set():
        print("stopped by Ctrl-C: requests already taken were finished; the rest were not read",
              file=sys.stderr)
    return summary


def _acknowledge(source: Source, item: SourceItem, result: Any) -> Any:
    """``source.ack(item)``, or ``source.ack_result(item, result)`` for a source that wants
    the outcome too (a stream source dead-letters a request the engine refused)."""
    with_result = getattr(source, "ack_result", None)
    return source.ack(item) if with_result is None else with_result(item, result)
async def _tick(progress: RunProgress, summary: RunSummary, tasks: set[Any]) -> None:
    """Redraw the line while nothing completes too (a slow venue still shows in flight)."""
    while True:
        progress.draw(sum(summary.statuses.values()), len(tasks), summary.statuses,
                      force=True)
        await asyncio.sleep(1 / REDRAWS_PER_SECOND)


def _done(callback: Any, item: SourceItem, task: asyncio.Task[ExecutionResult]) -> None:
    callback(task, item)


def _count(summary: RunSummary, result: Any) -> None:
    """A result into the summary; a pair's result counts as the orders it sent."""
    if isinstance(result, ExecutionResult):
        summary.add(result)
    else:
        summary.add_pair(result.pair_id, result.state.value, result.duplicate)
        for leg in getattr(result, "legs", ()):
            summary.add(leg.result)


def _what_is_left(summary: RunSummary, runtime: Runtime, halted_before: bool) -> None:
    """Point at the journal and at what is still open, unconfirmed, or halted."""
    from arbexec.model import OrderStatus

    journal = runtime.journal
    summary.journal = str(journal.path)
    for row in journal.non_final():
        if row.status in (OrderStatus.UNKNOWN, OrderStatus.PENDING):
            summary.unknown_left.append(row.request_id)
        else:
            summary.still_open += 1
    halt = journal.halt_state()
    if halt.halted and not halted_before:
        summary.halted_during_run = halt.reason or "halted"


def _on_interrupt(stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
    if stop.is_set():  # a second Ctrl-C: stop waiting
        loop.remove_signal_handler(signal.SIGINT)
        raise KeyboardInterrupt
    stop.set()
    print("\nCtrl-C: finishing requests in flight (Ctrl-C again to stop waiting)",
          file=sys.stderr)
