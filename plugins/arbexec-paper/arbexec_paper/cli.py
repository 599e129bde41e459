"""``arbexec paper ...``: offline commands on a paper venue's saved account."""

from __future__ import annotations

import click

from arbexec.errors import ExchangeError
from arbexec.model import Outcome
from arbexec_paper.store import state_path


@click.group(name="paper")
def paper_group() -> None:
    """The simulated venue: settle markets, inspect the paper account."""


_STATE_DIR = click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="The deployment's state directory (where the paper venue keeps paper-VENUE.sqlite3).",
)


@paper_group.command()
@click.argument("venue")
@click.argument("market")
@click.argument("outcome", type=click.Choice(["YES", "NO"], case_sensitive=False))
@_STATE_DIR
def resolve(venue: str, market: str, outcome: str, state_dir: str) -> None:
    """Resolve MARKET on paper venue VENUE: cancel its orders, pay $1 per winning contract.

    Run it while no engine is driving the venue (a running engine keeps its own copy of the
    account and would overwrite the settlement on its next flush).
    """
    from arbexec_paper.exchange import open_state

    path = state_path(state_dir, venue)
    if not path.exists():
        raise click.ClickException(f"no paper account for venue {venue!r} at {path}")

    exchange = open_state(state_dir, venue)
    try:
        payout = exchange.settle(market, Outcome(outcome.upper()))
        cash = exchange.ledger.cash
    except ExchangeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        exchange.close()
    click.echo(f"{venue}: {market} resolved {outcome.upper()}; paid ${payout}; cash ${cash}")


@paper_group.command()
@click.argument("venue")
@_STATE_DIR
def account(venue: str, state_dir: str) -> None:
    """Show the cash, positions and open orders of paper venue VENUE."""
    from arbexec_paper.exchange import open_state

    path = state_path(state_dir, venue)
    if not path.exists():
        raise click.ClickException(f"no paper account for venue {venue!r} at {path}")

    exchange = open_state(state_dir, venue)
    try:
        balance = exchange.ledger.balance(venue)
        click.echo(f"cash ${balance.total} (available ${balance.available})")
        for p in exchange.ledger.positions(venue):
            click.echo(f"{p.market} {p.outcome.value}: {p.quantity} @ {p.average_price} "
                       f"realised ${p.realised_pnl}")
        for o in exchange.open_orders():
            click.echo(f"open {o.venue_order_id} {o.side.value} {o.remaining} "
                       f"{o.outcome.value} {o.market} @ {o.limit_price}")
    finally:
        exchange.close()
