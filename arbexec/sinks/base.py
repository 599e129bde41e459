"""The sink contract: where events and results go."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from attrs import field, frozen

from arbexec.events import Event


@frozen(kw_only=True)
class SinkSettings:
    """A sink's deployment name, its config table, and the output preference of the run."""

    name: str
    options: Mapping[str, Any] = field(factory=dict, hash=False)
    json_output: bool = False
    source: str | None = None


@runtime_checkable
class Sink(Protocol):
    """Receives every event. The engine runs each sink behind its own queue, so a slow or
    failing sink never stalls execution; money-path events are retried, never dropped."""

    name: str

    async def emit(self, event: Event) -> None: ...

    async def aclose(self) -> None: ...
