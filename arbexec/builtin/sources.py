"""Built-in request sources (implementations imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbexec.hookspecs import hookimpl
from arbexec.specs import SourceSpec

if TYPE_CHECKING:
    from arbexec.sources.base import Source, SourceSettings


def _jsonl(settings: SourceSettings) -> Source:
    from arbexec.sources.jsonl import JsonlSource

    return JsonlSource.from_settings(settings)


@hookimpl
def arbexec_sources() -> list[SourceSpec]:
    return [
        SourceSpec(name="jsonl", factory=_jsonl,
                   description="one JSON request per line from a file, or '-' for stdin"),
    ]
