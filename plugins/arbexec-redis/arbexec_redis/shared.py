"""The shared ledger and halt flag: several engines, one risk budget, one kill switch.

Every change is one Lua script (``scripts``), so a check and the reservation it allows are
a single atomic step for all engines. Each engine books what it adds under its own name;
when an engine starts, and when a dead engine's journal is reconciled, its share is taken
back and rebuilt from that journal (the engine's recovery replays it through the ledger), so
nothing is counted twice and nothing is held forever by a process that is gone, and no
reservation expires by itself while the order it covers may still rest on a venue.

Losing Redis: new reservations wait (backing off) for ``outage_wait`` seconds and are then
refused with the reason (``LedgerUnavailable``: nothing is sent); give-backs (settle,
release, adjust) wait until Redis is back, never dropped. The halt flag is read every
``halt_poll`` seconds; when it has not been read for ``halt_stale`` seconds the engine
reports itself halted with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from attrs import define, field, frozen

from arbexec.api import (
    Claim,
    ClaimKind,
    ConfigError,
    LedgerUnavailable,
    SharedSettings,
    UserError,
    merge_claims,
)
from arbexec_redis import scripts, units
from arbexec_redis.errors import describe, unreachable_errors
from arbexec_redis.recovery import DRAIN_ENV
from arbexec_redis.settings import (
    Connection,
    check_keys,
    engine_name,
    parse_connection,
    seconds_option,
)

log = logging.getLogger("arbexec.redis")
ZERO = Decimal(0)
_OWN_KEYS = {"engine", "lease_seconds", "outage_wait", "halt_poll", "halt_stale"}


@frozen
class SharedHaltState:
    """The shared flag as this engine last read it (``HaltState``'s shape)."""

    halted: bool
    reason: str | None = None
    by: str | None = None
    at: datetime | None = None


@frozen(kw_only=True)
class LedgerKeys:
    """Every key of one shared ledger, under one hash tag."""

    prefix: str
    engine: str

    def _key(self, name: str) -> str:
        return f"{{{self.prefix}}}:ledger:{name}"

    def for_scripts(self, engine: str | None = None) -> list[str]:
        name = engine or self.engine
        return [self._key(n) for n in ("totals", "earmarked", "holds", "earmarks", "windows")
                ] + [self._key(f"standing:{name}"), self._key(f"holders:{name}")]

    def lease(self, engine: str | None = None) -> str:
        return self._key(f"lease:{engine or self.engine}")

    @property
    def engines(self) -> str:
        return self._key("engines")

    @property
    def halt(self) -> str:
        return f"{{{self.prefix}}}:halt"


@define
class RedisLedger:
    """``ExposureLedger`` on Redis (see the module docstring)."""

    connection: Connection
    keys: LedgerKeys
    journal_path: str = ""
    config_path: str = ""
    lease_seconds: float = 15.0
    outage_wait: float = 10.0
    client: Any = None
    _scripts: dict[str, Any] = field(factory=dict)
    _cache: dict[str, Decimal] = field(factory=dict)
    _token: str = field(factory=lambda: uuid.uuid4().hex)
    _ready: bool = False
    _lost: str | None = None  # why this engine may take no new risk (its lease was taken)
    _start: asyncio.Lock | None = None
    _heartbeat: asyncio.Task[None] | None = None
    down_since: float | None = None
    last_error: str = ""
    _closing: bool = False

    def __attrs_post_init__(self) -> None:
        if self.client is None:
            self.client = self.connection.client()
        for name in ("ADMIT", "RELEASE", "SETTLE", "ADJUST", "RESET", "READ"):
            self._scripts[name] = self.client.register_script(getattr(scripts, name))

    # ------------------------------------------------------------------ lifecycle

    async def ensure_started(self) -> None:
        """Once per process, before the first change: take this engine's lease (refused
        while another live process holds it) and take back what the engine held before,
        which the journal's replay then books again."""
        if self._ready:
            return
        if self._start is None:
            self._start = asyncio.Lock()
        async with self._start:
            if self._ready:
                return
            await self._until_reachable(self._take_lease)
            await self._until_reachable(lambda: self._scripts["RESET"](
                keys=self.keys.for_scripts(), args=[]))
            self._ready = True
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _take_lease(self) -> None:
        ms = int(self.lease_seconds * 1000)
        taken = await self.client.set(self.keys.lease(), self._token, nx=True, px=ms)
        if not taken and os.environ.get(DRAIN_ENV) == "1":
            # recovering a stopped engine: its lease lapses lease_seconds after it stopped
            deadline = time.monotonic() + 2 * self.lease_seconds + 1
            while not taken and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                taken = await self.client.set(self.keys.lease(), self._token, nx=True, px=ms)
        if not taken:
            holder = await self.client.get(self.keys.lease())
            if holder != self._token:
                raise UserError(
                    f"engine {self.keys.engine!r} is already running on the shared ledger at "
                    f"{self.connection.shown} (its lease is held; it lapses "
                    f"{self.lease_seconds:g}s after that process stops). Give each engine "
                    "its own [ledger] engine name")
        await self.client.hset(self.keys.engines, self.keys.engine, json.dumps({
            "journal": self.journal_path, "config": self.config_path, "pid": os.getpid(),
            "started": datetime.now(UTC).isoformat()}))

    async def _beat(self) -> None:
        """Renew the lease; a lease lost to another process stops new risk."""
        ms = int(self.lease_seconds * 1000)
        while not self._closing:
            await asyncio.sleep(min(self.lease_seconds / 3, 0.5))
            try:
                await self.refresh()
                holder = await self.client.get(self.keys.lease())
                if holder is None:
                    await self.client.set(self.keys.lease(), self._token, nx=True, px=ms)
                    holder = await self.client.get(self.keys.lease())
                if holder == self._token:
                    await self.client.pexpire(self.keys.lease(), ms)
                    self._lost = None
                else:
                    self._lost = (f"engine {self.keys.engine!r} lost its lease on the shared "
                                  "ledger to another process")
                self._up()
            except unreachable_errors() as exc:
                self._down(exc)

    async def aclose(self) -> None:
        self._closing = True
        await _stopped(self._heartbeat)
        try:
            if self._ready:
                # give the lease back only if it is still ours
                await self.client.eval(
                    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                    "return redis.call('DEL', KEYS[1]) end return 0",
                    1, self.keys.lease(), self._token)
        except unreachable_errors():
            pass  # it lapses by itself
        finally:
            await self.client.aclose()

    # ------------------------------------------------------------------ outage handling

    def _down(self, exc: BaseException) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("shared ledger at %s unreachable (%s): no new risk until it is back",
                        self.connection.shown, describe(exc))
        self.last_error = describe(exc)

    def _up(self) -> None:
        if self.down_since is not None:
            log.warning("shared ledger at %s is back after %.1fs", self.connection.shown,
                        time.monotonic() - self.down_since)
        self.down_since = None

    async def _until_reachable(self, call: Any, *, give_up_after: float | None = None) -> Any:
        """Run ``call`` until Redis answers, backing off; with ``give_up_after``, raise
        ``LedgerUnavailable`` once that long has passed."""
        delay = 0.05
        started = time.monotonic()
        while True:
            try:
                answer = await call()
                self._up()
                return answer
            except unreachable_errors() as exc:
                self._down(exc)
                if self._closing or (give_up_after is not None
                                     and time.monotonic() - started >= give_up_after):
                    raise LedgerUnavailable(
                        f"the shared ledger at {self.connection.shown} is unreachable "
                        f"({describe(exc)}); no new risk is taken until it is back") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.connection.backoff_max)

    async def _run(self, name: str, args: Sequence[str], *, new_risk: bool) -> Any:
        await self.ensure_started()
        if new_risk and self._lost is not None:
            raise LedgerUnavailable(f"{self._lost}; no new risk is taken")
        script = self._scripts[name]
        keys = self.keys.for_scripts()
        return await self._until_reachable(
            lambda: script(keys=keys, args=list(args)),
            give_up_after=self.outage_wait if new_risk else None)

    def _remember(self, pairs: Sequence[Any]) -> None:
        for i in range(0, len(pairs) - 1, 2):
            self._cache[str(pairs[i])] = units.decimal(pairs[i + 1])

    # ------------------------------------------------------------------ the protocol

    def exposure_now(self, key: str) -> Decimal:
        return self._cache.get(key, ZERO)

    async def exposure(self, key: str) -> Decimal:
        try:
            [value] = await self._run("READ", [key], new_risk=True)
        except LedgerUnavailable:
            return self._cache.get(key, ZERO)
        self._cache[key] = units.decimal(value)
        return self._cache[key]

    async def refresh(self) -> None:
        """Re-read every figure this engine has seen (other engines change them too)."""
        known = list(self._cache)
        if not known or not self._ready:
            return
        values = await self._scripts["READ"](keys=self.keys.for_scripts(), args=known)
        self._cache.update(zip(known, map(units.decimal, values), strict=True))

    @staticmethod
    def _claim_args(holder: str, claims: Sequence[Claim]) -> tuple[list[str], list[Claim]]:
        merged = list(merge_claims(claims).values())
        args = [holder, str(len(merged))]
        for claim in merged:
            args += [claim.key, ClaimKind(claim.kind).value, units.up(claim.amount),
                     units.limit(claim.limit), str(int(claim.window_seconds * 1000))]
        return args, merged

    async def _admit(self, mode: str, groups: Mapping[str, Sequence[Claim]]) -> Claim | None:
        args = [mode, self.keys.engine]
        merged: list[list[Claim]] = []
        for holder, claims in groups.items():
            part, claimed = self._claim_args(holder, claims)
            args += part
            merged.append(claimed)
        answer = await self._run("ADMIT", args, new_risk=True)
        group, index = int(answer[0]), int(answer[1])
        if group:
            return merged[group - 1][index - 1]
        self._remember(answer[2:])
        return None

    async def try_reserve(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        return await self._admit("reserve", {holder: claims})

    async def try_earmark(self, groups: Mapping[str, Sequence[Claim]]) -> Claim | None:
        return await self._admit("earmark", groups)

    async def release_earmark(self, holder: str) -> None:
        await self._run("RELEASE", ["earmark", holder], new_risk=False)

    async def release(self, holder: str) -> None:
        await self._run("RELEASE", ["release", holder], new_risk=False)

    async def settle(self, holder: str, amount: Decimal, keys: Sequence[str]) -> None:
        answer = await self._run("SETTLE", [uuid.uuid4().hex, holder, units.up(amount), *keys],
                                 new_risk=False)
        self._remember(answer)

    async def adjust(self, keys: Sequence[str], amount: Decimal) -> None:
        if not keys:
            return
        answer = await self._run("ADJUST", [uuid.uuid4().hex, units.up(amount), *keys],
                                 new_risk=False)
        self._remember(answer)

    async def restore(self, holder: str, keys: Iterable[str], amount: Decimal) -> None:
        claims = [Claim(key=key, amount=amount, limit=Decimal("Infinity"), rule="restart",
                        code="restored") for key in keys]
        await self._admit("reserve", {holder: claims})


@define
class RedisHaltFlag:
    """The kill switch every engine on the store obeys (``HaltFlag``'s shape).

    ``current`` is synchronous (admission calls it per order), so it answers from the
    state a background task reads every ``poll`` seconds; the first call reads it once
    directly. Not read for ``stale`` seconds (Redis away): halted, with the reason."""

    connection: Connection
    key: str
    poll: float = 0.1
    stale: float = 3.0
    _state: SharedHaltState | None = None
    _read_at: float = 0.0
    _error: str = ""
    _task: asyncio.Task[None] | None = None
    _client: Any = None
    _closing: bool = False

    def _sync_client(self) -> Any:
        if self._client is None:
            import redis

            extra: dict[str, Any] = {}
            if self.connection.password is not None:
                extra["password"] = self.connection.password
            if self.connection.db is not None:
                extra["db"] = self.connection.db
            self._client = redis.Redis.from_url(
                self.connection.url, decode_responses=True,
                socket_connect_timeout=min(self.connection.connect_timeout, 1.0),
                socket_timeout=min(self.connection.timeout, 1.0), **extra)
        return self._client

    @staticmethod
    def _parse(data: Mapping[str, str]) -> SharedHaltState:
        if data.get("halted") != "1":
            return SharedHaltState(halted=False)
        at = data.get("at")
        return SharedHaltState(halted=True, reason=data.get("reason") or None,
                               by=data.get("by") or None,
                               at=datetime.fromisoformat(at) if at else None)

    def current(self) -> SharedHaltState:
        if self._task is None:
            self._start_polling()
        if self._state is None:
            try:
                self._store(self._sync_client().hgetall(self.key))
            except unreachable_errors() as exc:
                self._error = describe(exc)
        age = time.monotonic() - self._read_at
        if self._state is None or age > self.stale:
            return SharedHaltState(
                halted=True, by="arbexec-redis", at=datetime.now(UTC),
                reason=f"the shared halt flag at {self.connection.shown} could not be read "
                f"for {age:.1f}s ({self._error or 'not read yet'}); no new risk until "
                "Redis is back")
        return self._state

    def _store(self, data: Mapping[str, str]) -> None:
        self._state = self._parse(data)
        self._read_at = time.monotonic()

    def _start_polling(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._task = loop.create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        client = self.connection.client()
        try:
            while not self._closing:
                try:
                    self._store(await client.hgetall(self.key))
                except unreachable_errors() as exc:
                    self._error = describe(exc)
                await asyncio.sleep(self.poll)
        finally:
            await client.aclose()

    def halt(self, reason: str, by: str) -> SharedHaltState:
        """Set the flag unless it is set (the first reason stands)."""
        now = datetime.now(UTC).isoformat()
        client = self._sync_client()
        client.eval("if redis.call('HGET', KEYS[1], 'halted') ~= '1' then "
                    "redis.call('HSET', KEYS[1], 'halted', '1', 'reason', ARGV[1], 'by', "
                    "ARGV[2], 'at', ARGV[3]) end return 1", 1, self.key, reason, by, now)
        self._store(client.hgetall(self.key))
        assert self._state is not None
        return self._state

    def resume(self, by: str) -> SharedHaltState:
        client = self._sync_client()
        client.hset(self.key, mapping={"halted": "0", "reason": "", "by": by,
                                       "at": datetime.now(UTC).isoformat()})
        self._store(client.hgetall(self.key))
        assert self._state is not None
        return self._state

    async def aclose(self) -> None:
        self._closing = True
        await _stopped(self._task)
        self._task = None
        if self._client is not None:
            self._client.close()


@define
class RedisShared:
    """``SharedState``: the ledger and the halt flag of one deployment's ``[ledger]``."""

    ledger: RedisLedger
    halt: RedisHaltFlag
    _refresher: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: SharedSettings) -> RedisShared:
        options = settings.options
        where = settings.source
        check_keys(options, _OWN_KEYS, where=where, table="ledger")
        connection = parse_connection(options, where=where)
        engine = engine_name(options, "engine", where=where)
        keys = LedgerKeys(prefix=connection.prefix, engine=engine)
        lease = seconds_option(options, "lease_seconds", 15.0, 1, 3600, where=where)
        halt_poll = seconds_option(options, "halt_poll", 0.1, 0.01, 60, where=where)
        halt_stale = seconds_option(options, "halt_stale", 3.0, 0.1, 3600, where=where)
        if halt_stale <= halt_poll:
            raise ConfigError("must be longer than halt_poll", source=where,
                              key="ledger.halt_stale")
        ledger = RedisLedger(
            connection=connection, keys=keys, journal_path=settings.journal_path,
            config_path=settings.source or "", lease_seconds=lease,
            outage_wait=seconds_option(options, "outage_wait", 10.0, 0, 3600, where=where))
        halt = RedisHaltFlag(connection=connection, key=keys.halt, poll=halt_poll,
                             stale=halt_stale)
        return cls(ledger=ledger, halt=halt)

    async def aclose(self) -> None:
        try:
            await self.halt.aclose()
        finally:
            await self.ledger.aclose()


async def _stopped(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task and wait a moment for it, so its client closes before the
    loop does. Bounded: a cancellation that lands just as a command's own timeout fires can
    come back as that timeout, which the loop would treat as Redis being away; the loops
    also stop by themselves once their owner is closing."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), 2.0)


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
