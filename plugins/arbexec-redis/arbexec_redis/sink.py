"""The ``redis`` sink: every event and result appended to a results stream.

Entries carry ``kind``, ``request_id``, ``at`` and ``data`` (JSON). A result is also kept
under ``<stream>:result:<request_id>`` (for ``result_ttl`` seconds) and appended only if that
key was new, in one script: producers correlate by request id, and a replayed or repeated
result never appears twice. With ``per_tag = "strategy"`` a result whose request carries
that tag goes to ``<stream>:<tag value>`` as well. Streams are capped with ``MAXLEN ~``.

Money-path events are never dropped: while Redis is away they go to a local outbox file
(see ``outbox``), replayed in order when it is back, before anything newer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from pathlib import Path
from typing import Any

from attrs import define, field

from arbexec.api import MONEY_PATH, Event, SinkSettings
from arbexec_redis.delivery import DELIVERIES
from arbexec_redis.errors import describe, unreachable_errors
from arbexec_redis.outbox import Outbox
from arbexec_redis.settings import (
    Connection,
    check_keys,
    count_option,
    parse_connection,
    text_option,
)

log = logging.getLogger("arbexec.redis")
#: Kinds kept under their request id (a pair's result under its pair id).
KEYED = frozenset({"result", "pair.result"})
_OWN_KEYS = {"stream", "maxlen", "kinds", "per_tag", "outbox", "result_ttl"}

#: KEYS: the stream, the result key (or ''), the tag stream (or ''). ARGV: maxlen, ttl,
#: kind, request_id, at, data, result. Appends unless the result key already exists.
_APPEND = """
if KEYS[2] ~= '' then
  if not redis.call('SET', KEYS[2], ARGV[7], 'NX', 'EX', ARGV[2]) then return 0 end
end
local fields = {'kind', ARGV[3], 'request_id', ARGV[4], 'at', ARGV[5], 'data', ARGV[6]}
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
if KEYS[3] ~= '' then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], '*', unpack(fields)) end
return 1
"""


def entry_of(event: Event) -> dict[str, Any]:
    data = {k: v for k, v in event.data.items() if k != "result_obj"}
    return {"kind": event.kind, "request_id": event.request_id or "",
            "at": event.at.isoformat(), "data": json.dumps(data, default=str,
                                                          separators=(",", ":"))}


@define
class StreamSink:
    name: str
    connection: Connection
    stream: str
    outbox: Outbox
    maxlen: int = 100_000
    kinds: frozenset[str] | None = None
    per_tag: str | None = None
    result_ttl: int = 86_400
    client: Any = None
    _append: Any = None
    _replay: asyncio.Task[None] | None = None
    _lock: asyncio.Lock = field(factory=asyncio.Lock)
    _queue: deque[dict[str, Any]] = field(factory=deque)
    _wake: asyncio.Event = field(factory=asyncio.Event)
    _writer: asyncio.Task[None] | None = None
    buffered: int = 0
    _closing: bool = False

    @classmethod
    def from_settings(cls, settings: SinkSettings) -> StreamSink:
        options, where = settings.options, settings.source
        check_keys(options, _OWN_KEYS, where=where, table=f"sinks.{settings.name}")
        kinds = options.get("kinds")
        if kinds is not None and (not isinstance(kinds, list)
                                  or not all(isinstance(k, str) for k in kinds)):
            from arbexec.api import ConfigError

            raise ConfigError("must be a list of event kinds", source=where,
                              key=f"sinks.{settings.name}.kinds")
        per_tag = options.get("per_tag")
        if per_tag is not None:
            per_tag = text_option(options, "per_tag", "", where=where)
        base = Path(where).parent if where and Path(where).is_file() else Path.cwd()
        default_outbox = base / ".arbexec" / f"redis-outbox-{settings.name}.jsonl"
        outbox = Path(text_option(options, "outbox", str(default_outbox), where=where))
        return cls(
            name=settings.name, connection=parse_connection(options, where=where),
            stream=text_option(options, "stream", "arbexec:results", where=where),
            outbox=Outbox(outbox if outbox.is_absolute() else base / outbox),
            maxlen=count_option(options, "maxlen", 100_000, 10, 10**9, where=where),
            kinds=None if kinds is None else frozenset(kinds), per_tag=per_tag,
            result_ttl=count_option(options, "result_ttl", 86_400, 1, 10**8, where=where))

    def _connect(self) -> Any:
        if self.client is None:
            DELIVERIES.sinks += 1
            self.client = self.connection.client()
            self._append = self.client.register_script(_APPEND)
            if self.outbox:  # a previous run left events undelivered: they go first
                self._start_replay()
        return self.client

    def _keys_of(self, entry: dict[str, Any]) -> list[str]:
        if entry["kind"] not in KEYED or not entry["request_id"]:
            return [self.stream, "", ""]
        tag_stream = ""
        if self.per_tag is not None:
            tags = json.loads(entry["data"]).get("result", {}).get("tags") or {}
            value = tags.get(self.per_tag)
            if isinstance(value, str) and value:
                tag_stream = f"{self.stream}:{value}"
        return [self.stream, f"{self.stream}:result:{entry['request_id']}", tag_stream]

    async def _send(self, entry: dict[str, Any], pipe: Any = None) -> None:
        keys = self._keys_of(entry)
        data = json.loads(entry["data"]) if keys[1] else {}
        result = data.get("result", data)
        await self._append(keys=keys, args=[
            str(self.maxlen), str(self.result_ttl), entry["kind"], entry["request_id"],
            entry["at"], entry["data"], json.dumps(result, separators=(",", ":"))],
            client=pipe)

    async def emit(self, event: Event) -> None:
        """Queue the event; a writer task sends queued events in pipelined batches (one
        round trip for many), in order."""
        if self.kinds is not None and event.kind not in self.kinds:
            return
        self._connect()
        self._queue.append(entry_of(event))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        self._wake.set()

    async def _write_loop(self) -> None:
        while not self._closing:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self.flush()

    async def flush(self) -> None:
        """Send what is queued; what Redis cannot take goes to the outbox (money path)."""
        async with self._lock:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), 500))]
                await self._deliver(batch)
                for entry in batch:  # in Redis, or safe in the outbox
                    if entry["kind"] in KEYED:
                        DELIVERIES.delivered(entry["request_id"])

    async def _deliver(self, batch: list[dict[str, Any]]) -> None:
        if self.outbox:  # keep order: behind what is waiting
            for entry in batch:
                self._buffer(entry)
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for entry in batch:
                    await self._send(entry, pipe)
                await pipe.execute()
        except unreachable_errors() as exc:
            log.warning("Redis at %s unreachable (%s): money-path events go to %s until it "
                        "is back", self.connection.shown, describe(exc), self.outbox.path)
            for entry in batch:  # delivered at least once: results are keyed
                self._buffer(entry)

    def _buffer(self, entry: dict[str, Any]) -> None:
        if entry["kind"] not in MONEY_PATH:
            return
        self.outbox.append(entry)
        self.buffered += 1
        self._start_replay()

    def _start_replay(self) -> None:
        if self._replay is None or self._replay.done():
            self._replay = asyncio.get_running_loop().create_task(self._replay_loop())

    async def replay_once(self) -> bool:
        """Deliver the outbox in order; True when it is empty."""
        async with self._lock:
            entries = self.outbox.pending()
            for done, entry in enumerate(entries):
                try:
                    await self._send(entry)
                except unreachable_errors():
                    self.outbox.keep(entries[done:])
                    return False
            self.outbox.keep([])
            return True

    async def _replay_loop(self) -> None:
        delay, started = 0.05, time.monotonic()
        while not self._closing and not await self.replay_once():
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.connection.backoff_max)
        log.warning("Redis at %s is back: the outbox was delivered after %.1fs",
                    self.connection.shown, time.monotonic() - started)

    async def aclose(self) -> None:
        if self.client is None:
            return
        self._closing = True
        if self._writer is not None:
            self._writer.cancel()
        try:  # bounded: what is still queued then waits in the outbox for the next run
            await asyncio.wait_for(self.flush(), 2 * self.connection.timeout)
        except TimeoutError:
            while self._queue:
                self._buffer(self._queue.popleft())
        if self.outbox:
            gone: tuple[type[BaseException], ...] = (TimeoutError,
                                                     *unreachable_errors())
            with contextlib.suppress(*gone):
                await asyncio.wait_for(self.replay_once(), self.connection.timeout)
        if self._replay is not None:
            self._replay.cancel()
        if self.outbox:
            log.warning("sink %s: undelivered money-path events stay in %s (the next run "
                        "delivers them)", self.name, self.outbox.path)
        DELIVERIES.sinks -= 1
        await self.client.aclose()
