"""Hook implementations only: importing this module must stay cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbexec.api import ExchangeSpec, hookimpl

if TYPE_CHECKING:
    import click

    from arbexec.api import Capabilities, Exchange, ExchangeSettings


def _make_exchange(settings: ExchangeSettings) -> Exchange:
    from arbexec_polymarket.exchange import make_exchange

    return make_exchange(settings)


def _capabilities() -> Capabilities:
    from arbexec_polymarket.exchange import PolymarketExchange

    return PolymarketExchange.capabilities


@hookimpl
def arbexec_exchanges() -> list[ExchangeSpec]:
    return [
        ExchangeSpec(
            name="polymarket",
            factory=_make_exchange,
            description="Polymarket CLOB V2 (EIP-712 signed orders, L1/L2 auth, user channel)",
            capabilities=_capabilities,
        )
    ]


@hookimpl
def arbexec_register_commands(cli: click.Group) -> None:
    from arbexec.api import LazyCommand

    cli.add_command(LazyCommand("polymarket", "arbexec_polymarket.cli:polymarket_group",
                                help="Polymarket: sign orders offline, derive API keys, doctor."))
