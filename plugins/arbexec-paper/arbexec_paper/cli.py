"""``arbexec paper ...``: offline commands on a paper venue's saved account.

The venue's state directory comes from ``--state-dir`` or, when run under the ``arbexec``
command, from the deployment (``<state_dir>/venues/<VENUE>``, where the engine keeps it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from arbexec.api import ExchangeError, Outcome, UserError, cli_options
from arbexec_paper.store import state_path

if TYPE_CHECKING:
    from arbexec_paper.exchange import PaperExchange


@click.group(name="paper")
def paper_group() -> None:
    """The simulated venue: settle markets, inspect the paper account."""


_STATE_DIR = click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    help="Directory holding paper-VENUE.sqlite3 (default: the deployment's state directory "
    "for VENUE).",
)


def _open(venue: str, state_dir: str | None, *, read_only: bool = False) -> PaperExchange:
    """The saved paper venue ``venue``, with its deployment options when there is one.
    ``read_only``: for a command that only shows the account (it never writes it back)."""
    from arbexec.api import ExchangeSettings
    from arbexec_paper.exchange import PaperExchange

    options: Mapping[str, Any] = {}
    if state_dir is None:
        deployment = _deployment()
        if deployment is None:
            raise click.UsageError("give --state-dir (no deployment is loaded)")
        entry = next((v for v in deployment.venues if v.name == venue), None)
        if entry is None or entry.type != "paper":
            raise click.ClickException(f"the deployment has no paper venue named {venue!r}")
        options = entry.options
        state_dir = str(Path(deployment.state_dir) / "venues" / venue)
    path = state_path(state_dir, venue)
    if not path.exists():
        raise click.ClickException(f"no paper account for venue {venue!r} at {path}")
    try:
        return PaperExchange(ExchangeSettings(name=venue, options=dict(options),
                                              state_dir=state_dir, read_only=read_only,
                                              find_exchange_type=_exchange_types()))
    except UserError as exc:  # the account is driven by a running engine
        raise click.ClickException(str(exc)) from None


def _exchange_types() -> Any:
    """The installed exchange types of the ``arbexec`` command's plugin host (a shadowing
    paper venue builds its upstream with them), or None outside that command."""
    context = click.get_current_context(silent=True)
    root = context.find_root().obj if context is not None else None
    host = getattr(root, "host", None)
    if host is None:
        return None
    return lambda name: host.require("exchange", name)


def _deployment() -> Any:
    """The deployment the ``arbexec`` command loaded, if this runs under it."""
    context = click.get_current_context(silent=True)
    root = context.find_root().obj if context is not None else None
    try:
        return getattr(root, "deployment", None)
    except Exception as exc:  # a broken deployment file: say so instead of guessing
        raise click.ClickException(f"cannot load the deployment: {exc}") from None


@paper_group.command()
@cli_options.venue_option(help="Paper venue name from the deployment.")
@cli_options.market_option()
@cli_options.option("--outcome", required=True,
                    type=click.Choice(["YES", "NO"], case_sensitive=False),
                    help="The winning outcome.")
@cli_options.legacy_positionals("venue", "market", "outcome")
@_STATE_DIR
def resolve(venue: str, market: str, outcome: str, state_dir: str | None) -> None:
    """Resolve --market on paper venue --venue: cancel its orders, pay $1 per winning contract.

    Run it while no engine is driving the venue: the account is locked by its engine (a
    running engine keeps its own copy and would overwrite the settlement), so it is refused.
    """
    exchange = _open(venue, state_dir)
    try:
        payout = exchange.settle(market, Outcome(outcome.upper()))
        cash = exchange.ledger.cash
    except ExchangeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        exchange.close()
    click.echo(f"{venue}: {market} resolved {outcome.upper()}; paid ${payout}; cash ${cash}")


@paper_group.command()
@cli_options.venue_option(help="Paper venue name from the deployment.")
@cli_options.legacy_positionals("venue")
@_STATE_DIR
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def account(venue: str, state_dir: str | None, as_json: bool) -> None:
    """Show the cash, positions and open orders of paper venue --venue."""
    exchange = _open(venue, state_dir, read_only=True)
    try:
        balance = exchange.ledger.balance(venue)
        held = list(exchange.ledger.positions(venue))
        resting = list(exchange.open_orders())
    finally:
        exchange.close()
    if as_json or _json_wanted():
        click.echo(json.dumps({
            "venue": venue, "cash": str(balance.total), "available": str(balance.available),
            "positions": [{"market": p.market, "outcome": p.outcome.value,
                           "quantity": str(p.quantity), "average_price": str(p.average_price),
                           "realised_pnl": str(p.realised_pnl)} for p in held],
            "open_orders": [{"venue_order_id": o.venue_order_id, "side": o.side.value,
                             "remaining": str(o.remaining), "outcome": o.outcome.value,
                             "market": o.market, "limit_price": str(o.limit_price)}
                            for o in resting]}))
        return
    click.echo(f"cash ${balance.total} (available ${balance.available})")
    for p in held:
        click.echo(f"{p.market} {p.outcome.value}: {p.quantity} @ {p.average_price} "
                   f"realised ${p.realised_pnl}")
    for o in resting:
        click.echo(f"open {o.venue_order_id} {o.side.value} {o.remaining} "
                   f"{o.outcome.value} {o.market} @ {o.limit_price}")


def _json_wanted() -> bool:
    """``arbexec --json paper account ...``: the global option counts too."""
    context = click.get_current_context(silent=True)
    root = context.find_root().obj if context is not None else None
    return bool(getattr(root, "json_output", False))
