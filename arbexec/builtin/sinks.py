"""Built-in sinks, offered through the same hook as third-party ones.

Factories import their implementation on first use, so listing plugins stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbexec.hookspecs import hookimpl
from arbexec.specs import SinkSpec

if TYPE_CHECKING:
    from arbexec.sinks.base import Sink, SinkSettings


def _jsonl(settings: SinkSettings) -> Sink:
    from arbexec.sinks.builtin import JsonlSink

    return JsonlSink.from_settings(settings)


def _stdout(settings: SinkSettings) -> Sink:
    from arbexec.sinks.builtin import StdoutSink

    return StdoutSink.from_settings(settings)


@hookimpl
def arbexec_sinks() -> list[SinkSpec]:
    return [
        SinkSpec(name="jsonl", factory=_jsonl,
                 description="append every event as a JSON line to a file (option: path, kinds)"),
        SinkSpec(name="stdout", factory=_stdout,
                 description="print results as they complete (option: format = table | json)"),
    ]
