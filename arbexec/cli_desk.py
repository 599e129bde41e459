"""The operator's desk: ``status``, ``cancel-all``, ``pnl`` and ``pairs``.

Each command imports what it reads only when it runs (``arbexec --help`` stays fast). Tables
for people, ``--json`` (global or per command) for programs, with ids in full.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from arbexec.exit_codes import ATTENTION as EXIT_ATTENTION


def json_option(command: Any) -> Any:
    """``--json`` on the command itself, as well as the global ``arbexec --json``."""
    return click.option("--json", "json_here", is_flag=True,
                        help="Machine-readable output (as `arbexec --json`).")(command)


def _wants_json(app: Any, json_here: bool) -> bool:
    return bool(json_here or app.json_output)


def _echo_json(value: Any) -> None:
    from arbexec.journal import dumps

    click.echo(dumps(value))


# ---------------------------------------------------------------------------- status


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, json_here: bool) -> None:
    """Halt state, breakers, open orders, exposure against limits, today's P&L, journal."""
    from arbexec.app import build_policy
    from arbexec.desk import status_report

    app = ctx.obj
    deployment = app.deployment
    policy = build_policy(deployment, app.host)
    journal = app.open_journal()
    try:
        report = status_report(journal, venues=[v.name for v in deployment.venues],
                               policy=getattr(policy, "rules", ()),
                               market_events=dict(deployment.market_events))
    finally:
        journal.close()
    if _wants_json(app, json_here):
        _echo_json(report)
        return
    _print_status(report)


def _print_status(report: dict[str, Any]) -> None:
    from arbexec.tables import money, plain_line, print_table

    halt = report["halt"]
    if halt["halted"]:
        plain_line(f"HALTED: {halt['reason']} (by {halt['by']} at {halt['at']}); "
                   "lift with `arbexec resume`", style="bold red")
    else:
        plain_line("trading: allowed (not halted)", style="green")
    print_table(
        ["venue", "breaker", "open orders", "in flight", "breaker reason"],
        [[v["venue"], v["breaker"], v["open"], v["in_flight"], v["breaker_reason"] or ""]
         for v in report["venues"]],
        title="venues", right={"open orders", "in flight"}, empty="none configured",
        styles={n: "red" for n, v in enumerate(report["venues"])
                if v["breaker"] != "closed" or v["in_flight"]})
    print_table(
        ["scope", "key", "held", "limit", "headroom"],
        [[e["scope"], e["key"], money(e["held"]),
          "no limit" if e["limit"] is None else money(e["limit"]),
          "" if e["headroom"] is None else money(e["headroom"])] for e in report["exposure"]],
        title="exposure", right={"held", "limit", "headroom"})
    plain_line(f"realised P&L today (UTC): {money(report['realised_pnl_today'])}")
    journal = report["journal"]
    plain_line(f"journal: {journal['path']} ({_size(journal['bytes'])})")


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


# ---------------------------------------------------------------------------- cancel-all


@click.command("cancel-all")
@click.option("--venue", help="One venue (default: every configured venue).")
@click.option("--market", help="One market (default: every market).")
@json_option
@click.pass_context
def cancel_all(ctx: click.Context, venue: str | None, market: str | None,
               json_here: bool) -> None:
    """Cancel every resting order (the venue's own cancel-all where it has one), then
    report what was cancelled and what could not be."""
    app = ctx.obj
    report = run_cancel_open(app, venue=venue, market=market)
    print_cancel_report(report, as_json=_wants_json(app, json_here))
    if not report["complete"]:
        sys.exit(EXIT_ATTENTION)


def run_cancel_open(app: Any, *, venue: str | None = None,
                    market: str | None = None) -> dict[str, Any]:
    """Cancel open orders through an engine on the journal (or, when another engine holds
    the journal, on the venues alone: that engine records the outcome)."""
    import asyncio

    from arbexec.cancel_open import cancel_open_orders
    from arbexec.errors import JournalLockedError, UserError

    names = [v.name for v in app.deployment.venues]
    if venue is not None and venue not in names:
        raise UserError(f"venue {venue!r} is not configured; configured venues: "
                        f"{', '.join(names) or 'none'}")
    chosen = [venue] if venue else None
    journaled = True
    try:
        runtime = app.runtime(quiet=True, venue_names=chosen)
    except JournalLockedError:
        journaled = False
        runtime = app.runtime(quiet=True, venue_names=chosen, lock=False)

    async def go() -> dict[str, Any]:
        try:
            if journaled:
                await runtime.engine.start()
            report = await cancel_open_orders(runtime.engine, runtime.venues, market=market,
                                              journaled=journaled)
            return {**report.as_dict(), "complete": report.complete, "journaled": journaled,
                    "journal": str(app.journal_path)}
        finally:
            await runtime.aclose()

    return asyncio.run(go())


def print_cancel_report(report: dict[str, Any], *, as_json: bool) -> None:
    from arbexec.tables import plain_line, price_limit, print_table, short_id

    if as_json:
        _echo_json(report)
        return
    for v in report["venues"]:
        swept = "" if v["swept"] is None else f": the venue cancelled {v['swept']}"
        error = f" ({v['error']})" if v["error"] else ""
        plain_line(f"{v['venue']}: {v['method']}{swept}{error}")

    def rows(items: list[dict[str, Any]], reason: bool) -> list[list[Any]]:
        return [[short_id(o["request_id"]), o["venue"], o["market"],
                 f"{o['side']} {o['quantity']} {o['outcome']} "
                 f"{price_limit(o['side'], o['limit_price'])}", o["status"],
                 *([o["reason"]] if reason else [])] for o in items]

    print_table(["request", "venue", "market", "order", "status"],
                rows(report["cancelled"], False), title="cancelled",
                empty="no journal order was open")
    if report["failed"]:
        print_table(["request", "venue", "market", "order", "status", "why not"],
                    rows(report["failed"], True), title="NOT cancelled",
                    styles=dict.fromkeys(range(len(report["failed"])), "red"))
    if not report["journaled"]:
        plain_line("another engine holds the journal: the cancels were sent to the venues "
                   "and that engine records them")


# ---------------------------------------------------------------------------- pnl


@click.command()
@json_option
@click.pass_context
def pnl(ctx: click.Context, json_here: bool) -> None:
    """Realised P&L by day, venue and market (net of fees), and open positions at cost,
    from the journal's fills."""
    from arbexec.desk import pnl_report

    app = ctx.obj
    journal = app.open_journal()
    try:
        report = pnl_report(journal)
    finally:
        journal.close()
    if _wants_json(app, json_here):
        _echo_json(report)
        return
    from arbexec.tables import average, money, plain_line, print_table

    print_table(["day (UTC)", "venue", "market", "realised", "fees"],
                [[d["day"], d["venue"], d["market"], money(d["realised"]), money(d["fees"])]
                 for d in report["realised"]],
                title="realised P&L (net of fees)", right={"realised", "fees"},
                empty="no fills in the journal")
    plain_line(f"total realised: {money(report['total_realised'])}")
    print_table(["venue", "market", "outcome", "contracts", "average", "cost basis"],
                [[p["venue"], p["market"], p["outcome"], p["quantity"],
                  average(p["average_price"]), money(p["cost_basis"])]
                 for p in report["open_positions"]],
                title="open positions", right={"contracts", "average", "cost basis"},
                empty="none")


# ---------------------------------------------------------------------------- pairs


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def pairs(ctx: click.Context, json_here: bool) -> None:
    """Arbitrage pairs in the journal: state, legs, realised edge and unwind loss.

    `pairs propose` and `pairs review` manage the matched-pairs file instead."""
    if ctx.invoked_subcommand is not None:
        if json_here:
            ctx.obj.json_output = True
        return
    from arbexec.desk import pairs_report

    app = ctx.obj
    journal = app.open_journal()
    try:
        report = pairs_report(journal)
    finally:
        journal.close()
    if _wants_json(app, json_here):
        _echo_json(report)
        return
    from arbexec.tables import average, money, print_table, short_id

    def leg_text(leg: dict[str, Any]) -> str:
        filled = "" if leg["filled_quantity"] is None else (
            f" {leg['filled_quantity']}" + (f"@{average(leg['average_price'])}"
                                            if leg["average_price"] else ""))
        return (f"{leg['venue']} {leg['market']} {leg['outcome']} @<={leg['limit_price']} "
                f"{leg['status'] or 'not sent'}{filled}")

    print_table(
        ["pair", "state", "qty", "leg a", "leg b", "edge", "unwind loss"],
        [[short_id(p["pair_id"]), p["state"], p["quantity"],
          *(leg_text(leg) for leg in p["legs"][:2]),
          "" if p["realised_edge"] is None else money(p["realised_edge"]),
          "" if p["unwind_loss"] is None else money(p["unwind_loss"])] for p in report],
        title="pairs", right={"qty", "edge", "unwind loss"}, empty="no pairs in the journal",
        styles={n: "red" for n, p in enumerate(report) if p["state"] == "EXPOSED"})


# ---------------------------------------------------------------------------- journal


@click.group("journal")
def journal_group() -> None:
    """Check the journal."""


@journal_group.command("verify")
@json_option
@click.pass_context
def journal_verify(ctx: click.Context, json_here: bool) -> None:
    """Compare the running summaries (positions, exposure, daily P&L) with a full rebuild
    from every fill; say what differs. Reads the whole journal; safe beside an engine."""
    from arbexec.tables import plain_line

    app = ctx.obj
    journal = app.open_journal()
    try:
        differences = journal.verify()
    finally:
        journal.close()
    if _wants_json(app, json_here):
        _echo_json({"journal": str(app.journal_path), "agrees": not differences,
                    "differences": differences})
    elif differences:
        plain_line(f"journal {app.journal_path}: the running summaries differ from a rebuild "
                   f"in {len(differences)} figure(s):", style="bold red")
        for line in differences:
            plain_line(f"  {line}")
    else:
        plain_line(f"journal {app.journal_path}: the running summaries agree with a full "
                   "rebuild", style="green")
    if differences:
        sys.exit(EXIT_ATTENTION)


def register(cli: click.Group) -> None:
    for command in (status, cancel_all, pnl, pairs, journal_group):
        cli.add_command(command)
