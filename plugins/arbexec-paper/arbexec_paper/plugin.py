"""Hook implementations only: importing this module must stay cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbexec.api import ExchangeSpec, hookimpl

if TYPE_CHECKING:
    import click

    from arbexec.api import Capabilities, Exchange, ExchangeSettings


def _make_exchange(settings: ExchangeSettings) -> Exchange:
    from arbexec_paper.exchange import make_exchange

    return make_exchange(settings)


def _capabilities() -> Capabilities:
    from arbexec_paper.exchange import PaperExchange

    return PaperExchange.capabilities


@hookimpl
def arbexec_exchanges() -> list[ExchangeSpec]:
    return [
        ExchangeSpec(
            name="paper",
            factory=_make_exchange,
            description="Simulated venue: seeded, snapshot or shadow books; book-walking "
            "fills, fees, persistence and settlement.",
            capabilities=_capabilities,
        )
    ]


@hookimpl
def arbexec_register_commands(cli: click.Group) -> None:
    from arbexec.api import LazyCommand

    cli.add_command(LazyCommand("paper", "arbexec_paper.cli:paper_group",
                                help="The simulated venue: settle markets, inspect the account."))
