"""Events: what the engine tells sinks, and what the journal's event history holds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from arbexec.model import now_utc

#: Event kinds on the money path. Sinks must never lose these.
MONEY_PATH = frozenset(
    {
        "order.sent",
        "order.state",
        "order.fill",
        "order.unknown",
        "order.adopted",
        "reconcile.mismatch",
        "result",
        "pair.state",
        "pair.result",
        "alert",
        "halt",
        "resume",
    }
)


@frozen(kw_only=True)
class Event:
    """Something that happened. ``data`` is JSON-ready (strings for Decimals)."""

    kind: str
    data: Mapping[str, Any] = field(factory=dict, hash=False)
    at: datetime = field(factory=now_utc)
    request_id: str | None = None

    @property
    def money_path(self) -> bool:
        return self.kind in MONEY_PATH
