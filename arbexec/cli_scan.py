"""``arbexec scan``: watch accepted matched pairs for arbitrage, and report what was seen.

Registered on the main group with ``register(cli)``; the scanner, the engine and rich load
only when the command runs, matplotlib only for ``scan report --png``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from arbexec.catalog.pairfile import MatchedPair
    from arbexec.scanner.scan import ScanReport
    from arbexec.scanner.settings import ScanSettings


def _accepted_pairs(path: Path) -> list[MatchedPair]:
    from arbexec.catalog.pairfile import accepted, load_pairs
    from arbexec.errors import UserError

    if not path.exists():
        raise UserError(f"no pairs file at {path}: accept pairs with `arbexec pairs review`, "
                        "or write one by hand (docs/markets.md), or name another with "
                        "--pairs or [scan] pairs")
    pairs = load_pairs(path)
    chosen = accepted(pairs)
    if not chosen:
        raise UserError(f"{path} has no accepted pairs ({len(pairs)} in all); only pairs "
                        "with status = \"accepted\" are scanned (`arbexec pairs review`)")
    return chosen


def _settings(app: Any, options: dict[str, Any]) -> ScanSettings:
    from arbexec.scanner.settings import with_overrides

    return with_overrides(app.deployment.scan, options)


@click.group("scan", invoke_without_command=True)
@click.option("--pairs", "pairs_file", type=click.Path(dir_okay=False),
              help="The matched-pairs file (default: [scan] pairs, else pairs.toml beside "
                   "the deployment file).")
@click.option("--min-spread", metavar="DOLLARS",
              help="Smallest edge per contract after both venues' fees, in dollars "
                   "(default 0.05; as a pair's min_edge).")
@click.option("--max-quantity", metavar="CONTRACTS",
              help="Most contracts per opportunity (default: the depth).")
@click.option("--interval", metavar="SECONDS",
              help="Seconds between scans when running on (default 10).")
@click.option("--max-book-age", metavar="SECONDS",
              help="Seconds after which a book is stale (default 10).")
@click.option("--max-unwind-loss", metavar="DOLLARS",
              help="Per executed pair, in dollars (default: the policy's unwind_bound rule).")
@click.option("--once", is_flag=True, help="One scan, then exit (for a scheduler).")
@click.option("--iterations", type=click.IntRange(min=1),
              help="Stop after this many scans (default: run until interrupted).")
@click.option("--execute", is_flag=True,
              help="Hand each opportunity to the arbitrage executor under the risk policy.")
@click.option("--policy", type=click.Path(dir_okay=False), help="Risk policy file.")
@click.option("--json", "json_here", is_flag=True,
              help="One JSON object per scan (as `arbexec --json`).")
@click.pass_context
def scan(ctx: click.Context, pairs_file: str | None, min_spread: str | None,
         max_quantity: str | None, interval: str | None, max_book_age: str | None,
         max_unwind_loss: str | None, once: bool, iterations: int | None, execute: bool,
         policy: str | None, json_here: bool) -> None:
    """Scan accepted matched pairs for arbitrage: both books kept fresh, the edge at every
    size level after both venues' fees, opportunities above the minimum spread shown (a live
    table on a terminal) or, with --execute, executed as pairs.

    \b
    arbexec scan                     live table until Ctrl-C
    arbexec scan --once --json       one scan for a scheduler
    arbexec scan --execute           execute opportunities under the risk policy
    arbexec scan report --png s.png  what was seen, executed and missed
    """
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.obj
    settings = _settings(app, {"min_spread": min_spread, "max_quantity": max_quantity,
                               "interval": interval, "max_book_age": max_book_age,
                               "max_unwind_loss": max_unwind_loss})
    from arbexec.catalog.paths import pairs_path

    path = pairs_path(app.deployment, pairs_file)
    pairs = _accepted_pairs(path)
    as_json = bool(json_here or app.json_output)
    count = 1 if once else iterations
    exposed = _run(app, pairs, settings, execute=execute, policy=policy, count=count,
                   as_json=as_json)
    if exposed:
        raise SystemExit(3)


def _run(app: Any, pairs: list[MatchedPair], settings: ScanSettings, *, execute: bool,
         policy: str | None, count: int | None, as_json: bool) -> bool:
    import asyncio
    import contextlib

    from arbexec.arbitrage.executor import PairExecutor
    from arbexec.scanner.feed import BookFeed
    from arbexec.scanner.scan import Scanner
    from arbexec.scanner.store import ScanStore

    show = _Display(as_json=as_json, once=count == 1)
    runtime = (app.runtime(policy_file=Path(policy) if policy else None, quiet=True)
               if execute else app.runtime(quiet=True, read_only=True))
    exposed = False

    async def go() -> None:
        nonlocal exposed
        store = ScanStore.beside(app.journal_path)
        feed = BookFeed(runtime.engine.venues, max_age=settings.max_book_age)
        try:
            executor = None
            if execute:
                await runtime.engine.start()
                await runtime.engine.reconcile()
                executor = PairExecutor(runtime.engine)
                for result in await executor.resume_all():
                    exposed = exposed or result.state.value == "EXPOSED"
            scanner = Scanner(pairs, feed, settings, store=store, executor=executor)
            done = 0
            while True:
                report = await scanner.scan_once()
                exposed = exposed or any(  # a pair that ended EXPOSED in this scan
                    r.result is not None and not r.result.duplicate
                    and r.result.state.value == "EXPOSED" for r in report.rows)
                show(report)
                done += 1
                if count is not None and done >= count:
                    break
                await asyncio.sleep(settings.interval)
        finally:
            await feed.aclose()
            store.close()
            await runtime.aclose()

    try:
        with show:
            asyncio.run(go())
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            click.echo("scan stopped", err=True)
    return exposed


class _Display:
    """A live table on a terminal, plain lines on a pipe, a JSON object per scan."""

    def __init__(self, *, as_json: bool, once: bool) -> None:
        self.as_json = as_json
        self.live: Any = None
        self.terminal = sys.stdout.isatty() and not as_json
        self.once = once

    def __enter__(self) -> _Display:
        if self.terminal and not self.once:
            from rich.live import Live

            from arbexec.tables import console

            self.live = Live(console=console(), auto_refresh=False, transient=False)
            self.live.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def __call__(self, report: ScanReport) -> None:
        from arbexec.scanner import view

        if self.as_json:
            from arbexec.journal import dumps

            click.echo(dumps(view.report_to_dict(report)))
        elif self.live is not None:
            self.live.update(view.table(report), refresh=True)
        elif self.terminal:
            from arbexec.tables import console

            console().print(view.table(report))
        else:
            for line in view.plain_lines(report):
                click.echo(line)


@scan.command("report")
@click.option("--since", default="24h", metavar="WHEN", show_default=True,
              help="From when: ISO-8601, a span back (30m, 6h, 2d), today or yesterday.")
@click.option("--session", "session_id", metavar="ID",
              help="Only this scan session (ids in --json).")
@click.option("--last-session", is_flag=True, help="Only the latest scan session.")
@click.option("--png", "png_path", type=click.Path(dir_okay=False),
              help="Also draw the report as a PNG image here (needs arbexec[report]).")
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def report(app: Any, since: str, session_id: str | None, last_session: bool,
           png_path: str | None, json_here: bool) -> None:
    """What the scans saw: opportunities per pair, executed, missed and why; with --png
    also a chart of the edge over time per pair, executed vs missed."""
    from arbexec.cli_options import parse_when
    from arbexec.scanner.report import render_png, summarise
    from arbexec.scanner.store import ScanStore

    start = parse_when(since, "--since")
    store = ScanStore.beside(app.journal_path)
    try:
        if last_session:
            session_id = store.last_session()
        observations = store.observations(since=start, session_id=session_id)
    finally:
        store.close()
    summary = summarise(observations)
    summary["since"] = start.isoformat()
    if png_path:
        summary["png"] = str(render_png(observations, Path(png_path)))
    if json_here or app.json_output:
        from arbexec.journal import dumps

        click.echo(dumps(summary))
        return
    _print_report(summary)


def _print_report(summary: dict[str, Any]) -> None:
    from arbexec.tables import plain_line, print_table

    totals = summary["totals"]
    plain_line(f"since {summary['since'][:19]}Z: {totals['scans']} scans, "
               f"{totals['opportunities']} opportunities, {totals['executed']} executed, "
               f"{totals['missed']} missed, {totals['seen_only']} seen without executing")
    print_table(["pair", "scans", "opportunities", "executed", "missed", "seen only",
                 "best edge/contract", "predicted edge", "realised edge"],
                [[(r["title"] or r["pair_id"])[:40], r["scans"], r["opportunities"],
                  r["executed"], r["missed"], r["seen_only"],
                  r["best_edge_per_contract"] or "", r["predicted_edge"], r["realised_edge"]]
                 for r in summary["pairs"]],
                title="pairs", right={"scans", "opportunities", "executed", "missed",
                                      "seen only", "best edge/contract", "predicted edge",
                                      "realised edge"},
                empty="no scans in this period")
    print_table(["why not executed", "count", "example"],
                [[r["reason_code"], r["count"], r["example"][:90]]
                 for r in summary["not_executed"]],
                title="not executed", right={"count"}, empty="none")
    if summary["unavailable"]:
        plain_line("not priced (pair directions): " + ", ".join(
            f"{r['reason_code']} {r['count']}" for r in summary["unavailable"]))
    if summary.get("png"):
        plain_line(f"chart: {summary['png']}")


def register(cli: click.Group) -> None:
    """Add ``scan`` (and ``scan report``) to the main command group."""
    cli.add_command(scan)
