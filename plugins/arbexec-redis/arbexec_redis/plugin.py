"""Hook implementations only: importing this module must stay cheap (no redis import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbexec.api import LedgerSpec, SinkSpec, SourceSpec, hookimpl

if TYPE_CHECKING:
    import click

    from arbexec.api import SharedSettings, SharedState, Sink, SinkSettings, Source, SourceSettings


def _make_source(settings: SourceSettings) -> Source:
    from arbexec_redis.source import StreamSource

    return StreamSource.from_settings(settings)


def _make_sink(settings: SinkSettings) -> Sink:
    from arbexec_redis.sink import StreamSink

    return StreamSink.from_settings(settings)


def _make_shared(settings: SharedSettings) -> SharedState:
    from arbexec_redis.shared import RedisShared

    return RedisShared.from_settings(settings)


@hookimpl
def arbexec_sources() -> list[SourceSpec]:
    return [SourceSpec(name="redis", factory=_make_source,
                       description="Requests and pairs from a Redis stream (consumer group; "
                       "acknowledged once journaled; dead-letter stream for bad messages).")]


@hookimpl
def arbexec_sinks() -> list[SinkSpec]:
    return [SinkSpec(name="redis", factory=_make_sink,
                     description="Events and results to a Redis stream (MAXLEN ~), keyed by "
                     "request id; buffered locally while Redis is away.")]


@hookimpl
def arbexec_ledgers() -> list[LedgerSpec]:
    return [LedgerSpec(name="redis", factory=_make_shared,
                       description="Exposure ledger and halt flag shared by several engines "
                       "(atomic Lua scripts, leases recovered from the journal).")]


@hookimpl
def arbexec_register_commands(cli: click.Group) -> None:
    from arbexec.api import LazyCommand

    cli.add_command(LazyCommand("redis", "arbexec_redis.cli:redis_group",
                                help="Redis: check the connection (doctor), publish requests, "
                                "halt or resume every engine sharing a ledger."))
