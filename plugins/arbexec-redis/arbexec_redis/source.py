"""The ``redis`` source: requests and pairs from a stream, through a consumer group.

- A message is acknowledged only when its request is journaled and answered (the runner
  calls ``ack_result``): a crash in between redelivers it, and the journal's idempotency
  key makes the redelivery harmless.
- Messages a dead consumer left pending are claimed after ``claim_idle`` seconds
  (``XAUTOCLAIM``). A live engine keeps its own messages fresh (``XCLAIM`` of what it holds,
  resetting their idle time) while it follows a long order, so they are never claimed from
  under it.
- A poisoned message (bad JSON, invalid fields, an unknown venue) becomes a DENIED result
  with the reason, is acknowledged once and copied to the dead-letter stream, in one script.
- Back-pressure: at most ``max_in_flight`` messages are held unacknowledged; the consumer
  reads no more until some are answered, so a flood waits in Redis, not in memory.
- Redis away: reading backs off and resumes; acknowledgements wait and are retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

from arbexec.api import SourceItem, SourceSettings, parse_line
from arbexec_redis.delivery import DELIVERIES
from arbexec_redis.errors import describe, unreachable_errors
from arbexec_redis.recovery import DRAIN_ENV, Recovery
from arbexec_redis.settings import (
    Connection,
    check_keys,
    count_option,
    engine_name,
    parse_connection,
    seconds_option,
    text_option,
)

log = logging.getLogger("arbexec.redis")

#: Result codes that mean the message itself is bad: never retried, dead-lettered.
POISON_CODES = frozenset({"invalid_request", "unknown_venue"})
_OWN_KEYS = {"stream", "group", "consumer", "dead_letter", "claim_idle", "block",
             "batch", "max_in_flight", "exit_when_idle", "dead_letter_maxlen", "alive_seconds"}

#: XACK, and only if that acknowledged it (first time) copy it to the dead-letter stream.
_ACK_DEAD = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[2], 'stream', KEYS[1],
             'reason', ARGV[4], 'code', ARGV[5], 'request_id', ARGV[6], 'message', ARGV[7])
  return 1
end
return 0
"""


@frozen(kw_only=True)
class SourceKeys:
    prefix: str
    stream: str

    def alive(self, consumer: str) -> str:
        return f"{{{self.prefix}}}:consumer:{self.stream}:{consumer}:alive"

    @property
    def consumers(self) -> str:
        return f"{{{self.prefix}}}:consumers:{self.stream}"


def _config_path(where: str | None) -> str:
    return str(Path(where).resolve()) if where and Path(where).is_file() else ""


@define
class StreamSource:
    name: str
    connection: Connection
    stream: str
    group: str
    consumer: str
    dead_letter: str
    claim_idle: float = 30.0
    block: float = 1.0
    batch: int = 100
    max_in_flight: int = 256
    exit_when_idle: float = 0.0  # 0: run until stopped
    dead_letter_maxlen: int = 100_000
    alive_seconds: float = 10.0
    config: str = ""  # this engine's deployment file, for its recovery by another engine
    drain: bool = False
    keys: SourceKeys = field(factory=lambda: SourceKeys(prefix="arbexec", stream="-"))
    recovery: Recovery = field(factory=Recovery)
    client: Any = None
    _held: dict[str, float] = field(factory=dict)  # message id -> when it was taken
    _room: asyncio.Event = field(factory=asyncio.Event)
    _tasks: set[asyncio.Task[Any]] = field(factory=set)
    _ack_dead: Any = None
    _to_ack: list[str] = field(factory=list)
    # an outage may have lost the answer to a read Redis carried out: the messages it gave
    # this consumer are in its pending list but not held here; look there once it is back
    _look_at_own: bool = False
    _ack_wake: asyncio.Event = field(factory=asyncio.Event)
    _acker: asyncio.Task[None] | None = None
    acked: int = 0
    dead_lettered: int = 0
    _closing: bool = False

    @classmethod
    def from_settings(cls, settings: SourceSettings) -> StreamSource:
        options, where = settings.options, settings.source
        check_keys(options, _OWN_KEYS, where=where, table="source")
        stream = text_option(options, "stream", "arbexec:requests", where=where)
        connection = parse_connection(options, where=where)
        return cls(
            name=settings.name, connection=connection,
            stream=stream, group=text_option(options, "group", "arbexec", where=where),
            consumer=engine_name(options, "consumer", where=where),
            dead_letter=text_option(options, "dead_letter", f"{stream}:dead", where=where),
            claim_idle=seconds_option(options, "claim_idle", 30.0, 0.05, 86400, where=where),
            block=seconds_option(options, "block", 1.0, 0.001, 60, where=where),
            batch=count_option(options, "batch", 100, 1, 10_000, where=where),
            max_in_flight=count_option(options, "max_in_flight", 256, 1, 100_000,
                                       where=where),
            exit_when_idle=seconds_option(options, "exit_when_idle", 0.0, 0, 86400,
                                          where=where),
            dead_letter_maxlen=count_option(options, "dead_letter_maxlen", 100_000, 1,
                                            10**9, where=where),
            alive_seconds=seconds_option(options, "alive_seconds", 10.0, 0.1, 3600,
                                         where=where),
            config=_config_path(where), drain=os.environ.get(DRAIN_ENV) == "1",
            keys=SourceKeys(prefix=connection.prefix, stream=stream))

    @property
    def label(self) -> str:
        return f"{self.connection.shown} stream {self.stream}"

    def _connect(self) -> Any:
        if self.client is None:
            self.client = self.connection.client()
            self._ack_dead = self.client.register_script(_ACK_DEAD)
        return self.client

    # ------------------------------------------------------------------ reading

    async def ensure_group(self) -> None:
        from redis.exceptions import ResponseError

        try:
            await self._connect().xgroup_create(self.stream, self.group, id="0",
                                                mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def items(self) -> AsyncIterator[SourceItem]:
        client = self._connect()
        await self._with_backoff(self.ensure_group)
        await self._with_backoff(self._announce)
        self._tasks.add(asyncio.get_running_loop().create_task(self._keep_fresh()))
        # first what this consumer was given before a restart and never acknowledged
        for message_id, fields in await self._with_backoff(lambda: self._read("0")):
            yield self._take(message_id, fields)
        if self.drain:  # recovering a stopped engine: only what it was given, then stop
            async for item in self._drain():
                yield item
            return
        last_claim, quiet_since = 0.0, time.monotonic()
        while True:
            await self._wait_for_room()
            room = self.max_in_flight - len(self._held)
            taken = []
            now = time.monotonic()
            if not self.drain and now - last_claim >= min(self.claim_idle / 2, 1.0):
                last_claim = now
                taken += await self._with_backoff(lambda room=room: self._claim(room))
            if not taken and self._look_at_own:
                self._look_at_own = False
                taken = await self._with_backoff(lambda room=room: self._own_unheld(room))
            if not taken:
                taken = await self._with_backoff(lambda room=room: self._read(">", room))
            for message_id, fields in taken:
                yield self._take(message_id, fields)
            if taken or self._held:
                quiet_since = time.monotonic()
            elif self.exit_when_idle and time.monotonic() - quiet_since >= self.exit_when_idle:
                summary = await self._with_backoff(
                    lambda: client.xpending(self.stream, self.group))
                if not summary["pending"]:
                    return
                self._look_at_own = True  # pending, none held here: maybe given to us
                quiet_since = time.monotonic() - self.exit_when_idle / 2

    async def _read(self, start: str, room: int | None = None) -> list[tuple[str, Any]]:
        count = min(self.batch, room or self.batch)
        answer = await self.client.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=count,
            block=None if start == "0" else int(self.block * 1000))
        if not answer:
            return []
        [(_stream, messages)] = answer
        return [(mid, fields) for mid, fields in messages if fields is not None]

    async def _own_unheld(self, room: int) -> list[tuple[str, Any]]:
        """Messages Redis gave this consumer that it does not hold: a read whose answer
        was lost to an outage still moved them to this consumer's pending list, where no
        other engine claims them while this one is alive."""
        answered = set(self._to_ack)  # acknowledged here, not yet in Redis
        found: list[tuple[str, Any]] = []
        start = "0"
        while len(found) < room:
            page = await self._read(start)
            if not page:
                break
            found += [(m, f) for m, f in page if m not in self._held and m not in answered]
            start = page[-1][0]
        if found:
            log.warning("took back %d message(s) Redis gave this consumer in a read whose "
                        "answer was lost", len(found))
        return found[:room]

    async def _claim(self, room: int) -> list[tuple[str, Any]]:
        """Messages idle past ``claim_idle`` whose consumer is gone. A gone consumer whose
        deployment file is known is recovered through its own journal (``recovery``): a
        message it journaled is answered from there, never sent twice. Only a consumer
        with no known deployment has its messages claimed and executed here."""
        idle = int(self.claim_idle * 1000)
        entries = await self.client.xpending_range(self.stream, self.group, min="-",
                                                   max="+", count=max(room, 1), idle=idle)
        owners = {e["consumer"] for e in entries} - {self.consumer}
        if not owners:
            return []
        gone = [o for o, alive in zip(owners, await self.client.mget(
            [self.keys.alive(o) for o in owners]), strict=True) if alive is None]
        if not gone:
            return []
        registered = await self.client.hmget(self.keys.consumers, gone)
        orphans: list[str] = []
        for owner, record in zip(gone, registered, strict=True):
            config = json.loads(record).get("config") if record else None
            if config and self.recovery.can_recover(config):
                await self.recovery.recover(owner, config)
            else:
                orphans.append(owner)
        ids = [e["message_id"] for e in entries if e["consumer"] in orphans]
        if not ids:
            return []
        messages = await self.client.xclaim(self.stream, self.group, self.consumer, idle, ids)
        fresh = [(mid, fields) for mid, fields in messages
                 if fields is not None and mid not in self._held]
        if fresh:
            log.warning("claimed %d message(s) left pending longer than %gs by a consumer "
                        "that is gone and whose deployment is unknown (%s)", len(fresh),
                        self.claim_idle, ", ".join(sorted(orphans)))
        return fresh

    def _take(self, message_id: str, fields: Mapping[str, str]) -> SourceItem:
        self._held[message_id] = time.monotonic()
        position = f"{self.stream}:{message_id}"
        text = fields.get("request")
        if text is None:
            return SourceItem(position=position, token=message_id, raw=_shown(fields),
                              error_field="request",
                              error="the message has no 'request' field (publish "
                                    "{\"request\": \"<one JSON request or pair>\"})")
        item = parse_line(text, position)
        return SourceItem(position=item.position, request=item.request, error=item.error,
                          error_field=item.error_field, raw=item.raw, token=message_id)

    async def _drain(self) -> AsyncIterator[SourceItem]:
        """Every message this consumer holds, until none is left unacknowledged."""
        while True:
            await self._wait_for_room()
            messages = await self._with_backoff(lambda: self._read("0"))
            answered = set(self._to_ack)  # acknowledged here, not yet in Redis
            fresh = [(m, f) for m, f in messages if m not in self._held and m not in answered]
            for message_id, fields in fresh:
                yield self._take(message_id, fields)
            if not messages:
                return
            if not fresh:
                await asyncio.sleep(0.05)

    async def _announce(self) -> None:
        """Say this consumer is alive, and where its deployment is (for its recovery)."""
        await self.client.set(self.keys.alive(self.consumer), "1",
                              px=int(self.alive_seconds * 1000))
        if self.config:
            await self.client.hset(self.keys.consumers, self.consumer,
                                   json.dumps({"config": self.config}))

    async def _wait_for_room(self) -> None:
        while len(self._held) >= self.max_in_flight:
            self._room.clear()
            await self._room.wait()

    async def _keep_fresh(self) -> None:
        """Reset the idle time of the messages this engine still holds, so a long order
        is not claimed by another engine while this one follows it."""
        while not self._closing:
            await asyncio.sleep(max(min(self.claim_idle, self.alive_seconds) / 4, 0.02))
            held = list(self._held)
            try:
                await self.client.set(self.keys.alive(self.consumer), "1",
                                      px=int(self.alive_seconds * 1000))
                for start in range(0, len(held), 1000):
                    await self.client.xclaim(self.stream, self.group, self.consumer, 0,
                                             held[start:start + 1000], justid=True)
            except unreachable_errors() as exc:
                log.debug("could not refresh held messages: %s", describe(exc))

    async def _with_backoff(self, call: Any) -> Any:
        delay, down_since = 0.05, None
        while True:
            try:
                answer = await call()
                if down_since is not None:
                    log.warning("Redis at %s is back after %.1fs; reading %s again",
                                self.connection.shown, time.monotonic() - down_since,
                                self.stream)
                return answer
            except unreachable_errors() as exc:
                if self._closing:  # stopping: the caller's timeout decides, not a retry
                    raise
                self._look_at_own = True  # the failed call may have been carried out
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("Redis at %s unreachable (%s): reading %s paused, retrying",
                                self.connection.shown, describe(exc), self.stream)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.connection.backoff_max)

    # ------------------------------------------------------------------ acknowledging

    async def ack(self, item: SourceItem) -> None:
        await self.ack_result(item, None)

    async def ack_result(self, item: SourceItem, result: Any) -> None:
        """Acknowledge once answered; a poisoned message goes to the dead-letter stream in
        the same step (so it is copied exactly once however often this is retried)."""
        message_id = item.token
        if message_id is None:
            return
        await DELIVERIES.wait(_result_key(result))
        code = getattr(result, "reason_code", None)
        poisoned = item.request is None or code in POISON_CODES
        if poisoned:
            reason = item.error or getattr(result, "reason", None) or "invalid request"
            args = [self.group, message_id, str(self.dead_letter_maxlen), reason,
                    code or "invalid_request", _request_id(item.raw), item.raw or ""]
            done = await self._with_backoff(
                lambda: self._ack_dead(keys=[self.stream, self.dead_letter], args=args))
            self.dead_lettered += int(bool(done))
        else:  # acknowledged in batches by the acker (one XACK for many)
            self._to_ack.append(message_id)
            if self._acker is None or self._acker.done():
                self._acker = asyncio.get_running_loop().create_task(self._ack_loop())
            self._ack_wake.set()
        self.acked += 1
        self._held.pop(message_id, None)
        self._room.set()

    async def _ack_loop(self) -> None:
        while not self._closing:
            if not self._to_ack:
                self._ack_wake.clear()
                await self._ack_wake.wait()
                continue
            await self.flush_acks()

    async def flush_acks(self) -> None:
        while self._to_ack:
            ids = self._to_ack[:1000]
            await self._with_backoff(
                lambda ids=ids: self.client.xack(self.stream, self.group, *ids))
            del self._to_ack[:len(ids)]

    async def aclose(self) -> None:
        self._closing = True
        if self._acker is not None:
            self._acker.cancel()
        if self.client is not None and self._to_ack:
            try:  # a lost acknowledgement only redelivers (the journal answers it)
                await asyncio.wait_for(self.flush_acks(), self.connection.timeout)
            except TimeoutError:
                log.warning("%d acknowledgement(s) not sent; those messages are delivered "
                            "again and answered from the journal", len(self._to_ack))
        await self.recovery.aclose()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self.client is not None:
            await self.client.aclose()


def _result_key(result: Any) -> str:
    """The id a result is published under: a pair's id, else the request id."""
    pair_id = getattr(result, "pair_id", None)
    if isinstance(pair_id, str) and not hasattr(result, "idempotency_key"):
        return pair_id
    value = getattr(result, "request_id", "")
    return value if isinstance(value, str) else ""


def _request_id(raw: str | None) -> str:
    """The producer's request id, when the bad message still names one (for correlation)."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    pair = data.get("pair")
    value = pair.get("pair_id") if isinstance(pair, dict) else data.get("request_id")
    return value if isinstance(value, str) else ""


def _shown(fields: Mapping[str, str]) -> str:
    return json.dumps(dict(fields))[:500]
