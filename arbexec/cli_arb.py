"""``arbexec arb``: execute two-leg arbitrage pairs from the command line or a file.

Registered on the main group with ``register(cli)``. Like every command it imports the
engine only when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from arbexec import cli_options

if TYPE_CHECKING:
    from arbexec.arbitrage.model import PairRequest, PairResult


def _leg(text: str, option: str) -> dict[str, Any]:
    """``VENUE:MARKET:OUTCOME:PRICE`` (the market may itself contain colons)."""
    parts = text.split(":")
    if len(parts) < 4:
        raise click.BadParameter(f"{text!r} is not VENUE:MARKET:OUTCOME:PRICE (e.g. "
                                 "paper:PAPER-ELECTION:YES:0.51)", param_hint=option)
    return {"venue": parts[0], "market": ":".join(parts[1:-2]), "outcome": parts[-2].upper(),
            "limit_price": parts[-1]}


def _pairs_from_file(path: str) -> list[PairRequest]:
    from arbexec.arbitrage.model import pair_from_mapping
    from arbexec.errors import UserError
    from arbexec.model import RequestError
    from arbexec.sources import strict_json

    pairs = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            try:
                data = strict_json.loads(text)  # exact numbers, bounded nesting
                pairs.append(pair_from_mapping(data.get("pair", data)
                                               if isinstance(data, dict) else data))
            except RequestError as exc:
                raise UserError(f"{path}:{number}: {exc.field}: {exc.message}") from None
    return pairs


@click.command("arb")
@click.option("--leg", "legs", multiple=True, metavar="VENUE:MARKET:OUTCOME:PRICE",
              help="A leg: what to buy and the worst price (give two).")
@cli_options.quantity_option(required=False, help="Contracts on each leg.")
@click.option("--min-edge", default="0", show_default=True,
              help="Smallest edge per contract after both venues' fees, in dollars.")
@click.option("--max-unwind-loss", default=None,
              help="Most the pair may lose closing an imbalance, in dollars (default: the "
                   "policy's unwind_bound rule; a pair with neither is refused).")
@click.option("--sequencing", type=click.Choice(["concurrent", "thinner_first"]),
              default="concurrent", show_default=True)
@cli_options.tif_option(choices=("ioc", "fok", "gtc"), default="ioc",
                        help="Time in force of both legs: ioc, fok or gtc.")
@click.option("--halt-on-exposed/--no-halt-on-exposed", default=None,
              help="Halt trading if the pair ends EXPOSED (default: yes).")
@click.option("--key", "pair_id", help="The pair's idempotency key (default: a new one).")
@click.option("--tag", "tags", multiple=True, help="NAME=VALUE, repeatable.")
@click.option("--file", "pair_file", type=click.Path(dir_okay=False, exists=True),
              help="Pairs from a JSON-lines file (one pair object, or {\"pair\": {...}}, "
                   "per line).")
@click.option("--resume", "resume_only", is_flag=True,
              help="Only drive unfinished pairs in the journal to a final state.")
@click.option("--policy", type=click.Path(dir_okay=False), help="Risk policy file.")
@click.pass_obj
def arb(app: Any, legs: tuple[str, ...], quantity: str | None, min_edge: str,
        max_unwind_loss: str | None, sequencing: str, time_in_force: str,
        halt_on_exposed: bool | None, pair_id: str | None, tags: tuple[str, ...],
        pair_file: str | None, resume_only: bool, policy: str | None) -> None:
    """Execute a two-leg arbitrage pair: risk-checked as a unit, journaled, and driven to
    HEDGED, MISSED, UNWOUND or EXPOSED. Unfinished pairs in the journal resume first.

    \b
    arbexec arb --leg paper-a:M:YES:0.41 --leg paper-b:M:NO:0.46 --quantity 10 \\
        --min-edge 0.02 --max-unwind-loss 1
    """
    import uuid

    from arbexec.arbitrage.model import pair_from_mapping
    from arbexec.model import RequestError

    pairs: list[PairRequest] = []
    if pair_file is not None:
        pairs.extend(_pairs_from_file(pair_file))
    if legs or quantity is not None:
        if len(legs) != 2 or quantity is None:
            raise click.UsageError("a pair needs two --leg options and --quantity")
        from arbexec.cli_options import parse_tags

        tag_map = parse_tags(tags)
        data: dict[str, Any] = {
            "pair_id": pair_id or f"arb-{uuid.uuid4().hex}", "quantity": quantity,
            "legs": [{**_leg(text, "--leg"), "time_in_force": time_in_force.upper()}
                     for text in legs],
            "min_edge": min_edge, "max_unwind_loss": max_unwind_loss,
            "sequencing": sequencing, "tags": tag_map,
        }
        if halt_on_exposed is not None:
            data["halt_on_exposed"] = halt_on_exposed
        try:
            pairs.append(pair_from_mapping(data))
        except RequestError as exc:
            raise click.BadParameter(exc.message, param_hint=exc.field) from None
    if not pairs and not resume_only:
        raise click.UsageError("give a pair (--leg ... --leg ... --quantity N), --file, or "
                               "--resume")
    results = _run(app, pairs, policy)
    _print(app, results)
    if any(r.state.value == "EXPOSED" for r in results):
        raise SystemExit(3)


def _run(app: Any, pairs: list[PairRequest], policy: str | None) -> list[PairResult]:
    import asyncio

    from arbexec.arbitrage.executor import ArbitrageSettings, PairExecutor

    runtime = app.runtime(policy_file=Path(policy) if policy else None, quiet=True)

    async def go() -> list[PairResult]:
        try:
            await runtime.engine.start()
            await runtime.engine.reconcile()
            executor = PairExecutor(runtime.engine, ArbitrageSettings(
                max_book_age=runtime.deployment.max_book_age))
            results = list(await executor.resume_all())
            results.extend(await asyncio.gather(*(executor.execute(p) for p in pairs)))
            return results
        finally:
            await runtime.aclose()

    return asyncio.run(go())


def _print(app: Any, results: list[PairResult]) -> None:
    from arbexec.arbitrage.model import pair_result_row, pair_result_to_dict
    from arbexec.journal import dumps

    for result in results:
        if app.json_output:
            click.echo(dumps(pair_result_to_dict(result)))
        else:
            click.echo(pair_result_row(result))
    if not results:
        click.echo("no pairs to execute or resume")


def register(cli: click.Group) -> None:
    """Add ``arb`` to the main command group."""
    cli.add_command(arb)
