"""Hook implementations only: importing this module must stay cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbexec.api import ExchangeSpec, hookimpl

if TYPE_CHECKING:
    import click

    from arbexec.api import Capabilities, Exchange, ExchangeSettings


def make_exchange(settings: ExchangeSettings) -> Exchange:
    from arbexec_kalshi.exchange import KalshiExchange

    return KalshiExchange.from_settings(settings)


def _capabilities() -> Capabilities:
    from arbexec_kalshi.exchange import KalshiExchange

    return KalshiExchange.capabilities


@hookimpl
def arbexec_exchanges() -> list[ExchangeSpec]:
    return [
        ExchangeSpec(
            name="kalshi",
            factory=make_exchange,
            description="Kalshi Trade API v2 (event-order endpoints, RSA-PSS/Ed25519 keys)",
            capabilities=_capabilities,
        )
    ]


@hookimpl
def arbexec_register_commands(cli: click.Group) -> None:
    from arbexec.api import LazyCommand

    cli.add_command(LazyCommand("kalshi", "arbexec_kalshi.cli:kalshi",
                                help="Kalshi: sign requests offline, check credentials (doctor)."))
