"""Hook implementations only: importing this module stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbexec.api import ExchangeSpec, hookimpl

if TYPE_CHECKING:
    from arbexec.api import Capabilities, Exchange, ExchangeSettings


def _make(settings: ExchangeSettings) -> Exchange:
    from arbexec_tinyvenue.venue import TinyVenue

    return TinyVenue.from_settings(settings)


def _capabilities() -> Capabilities:
    from arbexec_tinyvenue.venue import TinyVenue

    return TinyVenue(name="tinyvenue").capabilities  # what every TinyVenue declares


@hookimpl
def arbexec_exchanges() -> list[ExchangeSpec]:
    return [ExchangeSpec(name="tinyvenue", factory=_make,
                         description="in-memory venue that fills every order at its limit",
                         capabilities=_capabilities)]
