"""``arbexec redis ...``: check the connection, publish requests, and the shared kill switch.

Connection settings come from the deployment (``arbexec --config FILE redis ...``): its
``[source]``, ``[[sinks]]`` and ``[ledger]`` tables of type ``redis``; ``--url`` overrides.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Any

import click

from arbexec.api import UserError


def redis_tables(ctx: click.Context) -> dict[str, Mapping[str, Any]]:
    """The deployment's Redis tables by role (``source``, ``sink:<name>``, ``ledger``)."""
    app = ctx.find_root().obj
    if app is None:
        return {}
    deployment = app.deployment
    found: dict[str, Mapping[str, Any]] = {}
    source = deployment.request_source
    if source is not None and source.type == "redis":
        found["source"] = dict(source.options)
    for sink in deployment.sinks:
        if sink.type == "redis":
            found[f"sink:{sink.name}"] = dict(sink.options)
    ledger = getattr(deployment, "ledger", None)
    if ledger is not None and ledger.type == "redis":
        found["ledger"] = dict(ledger.options)
    return found


def _options(ctx: click.Context, url: str | None, role: str) -> Mapping[str, Any]:
    tables = redis_tables(ctx)
    options = dict(tables.get(role) or next(iter(tables.values()), {}))
    if url is not None:
        options["url"] = url
    return options


@click.group(name="redis")
def redis_group() -> None:
    """Redis Streams: requests in, results out, one ledger and kill switch for many engines."""


@redis_group.command()
@click.option("--url", help="redis:// or rediss:// URL (default: the deployment's).")
@click.pass_context
def doctor(ctx: click.Context, url: str | None) -> None:
    """Check each Redis table of the deployment: reachable, authenticated, a server new
    enough for consumer-group claiming, the stream and group, pending and dead letters,
    the engines on the shared ledger and the halt flag; each problem with its fix."""
    from arbexec_redis.doctor import diagnose

    tables = redis_tables(ctx)
    if url is not None:
        tables = {role: {**options, "url": url} for role, options in tables.items()} or {
            "connection": {"url": url}}
    if not tables:
        raise UserError("the deployment has no table of type \"redis\" ([source], [[sinks]] "
                        "or [ledger]); give --url to check a server")
    findings = asyncio.run(diagnose(tables, where=ctx.find_root().obj.deployment.source
                                    if ctx.find_root().obj else None))
    for finding in findings:
        click.echo(finding.line())
    if not all(f.ok for f in findings):
        sys.exit(1)


@redis_group.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--url", help="redis:// or rediss:// URL (default: the deployment's [source]).")
@click.option("--stream", help="The request stream (default: the deployment's, else "
              "arbexec:requests).")
@click.option("--wait", "wait_seconds", type=click.FloatRange(0, 86400), default=0,
              help="Then wait up to this many seconds for each request's result and print it.")
@click.option("--results", help="The results stream the engines write (default: the "
              "deployment's redis sink, else arbexec:results).")
@click.pass_context
def publish(ctx: click.Context, file: Any, url: str | None, stream: str | None,
            wait_seconds: float, results: str | None) -> None:
    """Publish the requests of FILE (JSON lines, or - for stdin) to the request stream.

    Every line is checked first, with the engine's own parser: one bad line publishes
    nothing and names the line."""
    from arbexec_redis.publish import check_lines, publish_lines

    options = _options(ctx, url, "source")
    sink = next((o for role, o in redis_tables(ctx).items() if role.startswith("sink:")), {})
    lines = check_lines(file.read().splitlines(), getattr(file, "name", "-"))
    answer = asyncio.run(publish_lines(
        options, lines, stream=stream or options.get("stream", "arbexec:requests"),
        results=results or sink.get("stream", "arbexec:results"), wait=wait_seconds))
    for line in answer:
        click.echo(line)


def _halt_flag(ctx: click.Context, url: str | None) -> Any:
    from arbexec_redis.settings import parse_connection
    from arbexec_redis.shared import LedgerKeys, RedisHaltFlag

    connection = parse_connection(_options(ctx, url, "ledger"), where=None)
    return RedisHaltFlag(connection=connection,
                         key=LedgerKeys(prefix=connection.prefix, engine="-").halt)


@redis_group.command()
@click.option("--reason", default="manual halt", show_default=True)
@click.option("--url", help="redis:// or rediss:// URL (default: the deployment's [ledger]).")
@click.pass_context
def halt(ctx: click.Context, reason: str, url: str | None) -> None:
    """Stop new orders on every engine sharing the ledger (lifted only by `redis resume`)."""
    from arbexec_redis.errors import describe, unreachable_errors
    from arbexec_redis.shared import operator

    flag = _halt_flag(ctx, url)
    try:
        state = flag.halt(reason, operator())
    except unreachable_errors() as exc:
        raise UserError(f"Redis at {flag.connection.shown} is unreachable ({describe(exc)}); "
                        "nothing was changed") from None
    click.echo(f"halted every engine on {flag.connection.shown}: {state.reason} "
               f"(by {state.by}); lift with `arbexec redis resume`")


@redis_group.command()
@click.option("--url", help="redis:// or rediss:// URL (default: the deployment's [ledger]).")
@click.pass_context
def resume(ctx: click.Context, url: str | None) -> None:
    """Lift the shared halt."""
    from arbexec_redis.errors import describe, unreachable_errors
    from arbexec_redis.shared import operator

    flag = _halt_flag(ctx, url)
    try:
        flag.resume(operator())
    except unreachable_errors() as exc:
        raise UserError(f"Redis at {flag.connection.shown} is unreachable ({describe(exc)}); "
                        "nothing was changed") from None
    click.echo(f"resumed: new orders allowed on every engine on {flag.connection.shown}")
