"""``arbexec redis doctor``: what is wrong with each Redis table, and how to fix it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from arbexec.api import ConfigError
from arbexec_redis.errors import describe, unreachable_errors
from arbexec_redis.settings import parse_connection

#: XAUTOCLAIM arrived in Redis 6.2.
OLDEST = (6, 2)


@frozen
class Finding:
    ok: bool
    what: str
    fix: str = ""

    def line(self) -> str:
        return f"ok: {self.what}" if self.ok else f"problem: {self.what}" + (
            f" -- {self.fix}" if self.fix else "")


async def diagnose(tables: Mapping[str, Mapping[str, Any]], *, where: str | None
                   ) -> list[Finding]:
    findings: list[Finding] = []
    for role, options in tables.items():
        try:
            connection = parse_connection(
                {k: v for k, v in options.items() if k in (
                    "url", "password_env", "db", "connect_timeout", "timeout", "backoff_max",
                    "prefix")}, where=where)
        except ConfigError as exc:
            findings.append(Finding(False, f"{role}: {exc}", "fix the deployment file"))
            continue
        findings += await _check(role, connection, options)
    return findings


async def _check(role: str, connection: Any, options: Mapping[str, Any]) -> list[Finding]:
    from redis.exceptions import AuthenticationError, ResponseError

    client = connection.client()
    found: list[Finding] = []
    try:
        info = await client.info("server")
        version = tuple(int(p) for p in str(info.get("redis_version", "0.0")).split(".")[:2])
        tls = "on" if connection.tls else "off"
        found.append(Finding(True, f"{role}: {connection.shown} answers (Redis "
                             f"{info.get('redis_version')}, TLS {tls})"))
        if version < OLDEST:
            found.append(Finding(False, f"{role}: Redis {info.get('redis_version')} has no "
                                 "XAUTOCLAIM", "use Redis 6.2 or newer"))
        if role == "source":
            found += await _stream(role, client, options)
        if role == "ledger":
            found += await _ledger(role, client, connection.prefix)
    except AuthenticationError:
        found.append(Finding(False, f"{role}: {connection.shown} refused the password",
                             "set the variable named by password_env (default "
                             "ARBEXEC_REDIS_PASSWORD) to the server's password"))
    except ResponseError as exc:
        text = describe(exc)
        fix = ("the server needs a password: set ARBEXEC_REDIS_PASSWORD (or password_env)"
               if "NOAUTH" in text else "see the server's message")
        found.append(Finding(False, f"{role}: {connection.shown}: {text}", fix))
    except unreachable_errors() as exc:
        found.append(Finding(False, f"{role}: {connection.shown} is unreachable "
                             f"({describe(exc)})", "start redis-server, or fix url"))
    finally:
        await client.aclose()
    return found


async def _stream(role: str, client: Any, options: Mapping[str, Any]) -> list[Finding]:
    stream = options.get("stream", "arbexec:requests")
    group = options.get("group", "arbexec")
    dead = options.get("dead_letter", f"{stream}:dead")
    if not await client.exists(stream):
        return [Finding(True, f"{role}: stream {stream} does not exist yet (the first engine "
                        "creates it with its group)")]
    groups = {g["name"]: g for g in await client.xinfo_groups(stream)}
    found = [Finding(True, f"{role}: stream {stream} holds {await client.xlen(stream)} "
                     "message(s)")]
    if group not in groups:
        found.append(Finding(True, f"{role}: group {group} not created yet (the first engine "
                             "creates it)"))
    else:
        found.append(Finding(True, f"{role}: group {group}: {groups[group]['pending']} "
                             f"pending, {groups[group]['consumers']} consumer(s)"))
    dead_count = await client.xlen(dead) if await client.exists(dead) else 0
    found.append(Finding(dead_count == 0, f"{role}: dead-letter stream {dead} holds "
                         f"{dead_count} message(s)",
                         "" if dead_count == 0 else f"read them with XRANGE {dead} - +"))
    return found


async def _ledger(role: str, client: Any, prefix: str) -> list[Finding]:
    from arbexec_redis.shared import LedgerKeys

    keys = LedgerKeys(prefix=prefix, engine="-")
    engines = await client.hgetall(keys.engines)
    found = []
    for name in sorted(engines):
        alive = await client.exists(keys.lease(name))
        held = await client.scard(keys.for_scripts(name)[6])
        found.append(Finding(
            alive or not held, f"{role}: engine {name}: "
            f"{'running' if alive else 'stopped'}, {held} reservation(s) held",
            "" if alive or not held else "its journal still holds live orders: start that "
            "engine again (or `arbexec --config ITS_FILE reconcile`) to reconcile them"))
    halt = await client.hgetall(keys.halt)
    halted = halt.get("halted") == "1"
    found.append(Finding(not halted, f"{role}: shared halt flag "
                         + (f"SET: {halt.get('reason')} (by {halt.get('by')})" if halted
                            else "clear"),
                         "lift with `arbexec redis resume`" if halted else ""))
    return found
