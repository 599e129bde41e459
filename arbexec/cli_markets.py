"""``arbexec markets`` (sync, search, show) and ``arbexec pairs propose`` / ``review``.

The catalogue and the matcher live in ``arbexec.catalog``; this module only reads options,
drives them and prints. Everything is imported when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from arbexec.exit_codes import ATTENTION as EXIT_ATTENTION

_catalog_option = click.option(
    "--catalog", "catalog_file", type=click.Path(dir_okay=False), envvar="ARBEXEC_CATALOG",
    help="The catalogue file (default: markets.sqlite3 beside the journal).")
_pairs_option = click.option(
    "--pairs", "pairs_file", type=click.Path(dir_okay=False), envvar="ARBEXEC_PAIRS",
    help="The matched-pairs file (default: [scan] pairs, else pairs.toml beside the "
         "deployment file).")


def _json_wanted(ctx: click.Context, json_here: bool) -> bool:
    return bool(json_here or ctx.obj.json_output)


def _echo_json(value: Any) -> None:
    from arbexec.journal import dumps

    click.echo(dumps(value))


def _open_catalog(app: Any, catalog_file: str | None) -> Any:
    from arbexec.catalog.paths import catalog_path
    from arbexec.catalog.store import Catalog

    return Catalog.open(catalog_path(app.deployment, catalog_file))


def _pairs_path(app: Any, pairs_file: str | None) -> Path:
    from arbexec.catalog.paths import pairs_path

    return pairs_path(app.deployment, pairs_file)


def listing_dict(listing: Any, refreshed_at: str | None = None) -> dict[str, Any]:
    out = {
        "venue": listing.venue, "market": listing.market, "title": listing.title,
        "question": listing.question, "outcomes": list(listing.outcomes),
        "event": listing.event, "event_title": listing.event_title, "series": listing.series,
        "close_time": listing.close_time, "expiration_time": listing.expiration_time,
        "resolution_time": listing.resolution_time,
        "resolution_source": listing.resolution_source, "rules": listing.rules,
        "tick_size": listing.tick_size, "price_grid": listing.price_grid,
        "neg_risk": listing.neg_risk, "group": listing.group, "status": listing.status.value,
        "venue_status": listing.venue_status, "volume": listing.volume,
        "liquidity": listing.liquidity, "updated_at": listing.updated_at,
        "extra": dict(listing.extra),
    }
    if refreshed_at is not None:
        out["refreshed_at"] = refreshed_at
    return out


def _when(moment: Any) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------- markets


@click.group()
def markets() -> None:
    """The market catalogue: sync the venues' listings, search and show markets."""


@markets.command("sync")
@click.argument("venues", nargs=-1)
@click.option("--restart", is_flag=True, help="Start a new pass instead of resuming one.")
@click.option("--full", is_flag=True, help="A full pass over every open market (default after "
              "a complete pass: only the markets changed since, where the venue can say).")
@click.option("--page-size", type=click.IntRange(1, 1000), help="Markets per request "
              "(default: the venue's maximum).")
@click.option("--propose/--no-propose", default=False,
              help="Then propose cross-venue pairs into the pairs file.")
@_catalog_option
@_pairs_option
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@click.pass_context
def markets_sync(ctx: click.Context, venues: tuple[str, ...], restart: bool, full: bool,
                 page_size: int | None, propose: bool, catalog_file: str | None,
                 pairs_file: str | None, json_here: bool) -> None:
    """Refresh the catalogue from the venues' listings (every configured venue that lists
    its markets, or the VENUEs named). Pages are stored as they arrive: an interrupted
    sync resumes where it stopped. Accepted pairs whose market closed or changed are then
    deactivated in the pairs file."""
    from arbexec.app import build_venue
    from arbexec.catalog.sync import supports_listing, sync_venue
    from arbexec.cli import run_async
    from arbexec.errors import ArbexecError, UserError

    app = ctx.obj
    deployment = app.deployment
    configured = {v.name: v for v in deployment.venues}
    unknown = [v for v in venues if v not in configured]
    if unknown:
        raise UserError(f"no venue {unknown[0]!r} in {deployment.source}; configured: "
                        f"{', '.join(configured) or 'none'}")
    entries = [configured[v] for v in dict.fromkeys(venues)] or list(configured.values())
    as_json = _json_wanted(ctx, json_here)
    catalog = _open_catalog(app, catalog_file)
    report: list[dict[str, Any]] = []
    failed = False

    async def one(entry: Any) -> None:
        nonlocal failed
        exchange = build_venue(entry, deployment, app.host, read_only=True)
        try:
            if not supports_listing(exchange):
                if venues:
                    raise UserError(f"venue {entry.name!r} does not list its markets")
                report.append({"venue": entry.name, "skipped": "no list_markets capability"})
                return
            previous = catalog.sync_state(entry.name)
            with _SyncProgress(entry.name, previous, enabled=not as_json) as progress:
                try:
                    result = await sync_venue(catalog, exchange, restart=restart, full=full,
                                              page_size=page_size, on_page=progress.page)
                except UserError:
                    raise
                except ArbexecError as exc:
                    failed = True
                    state = catalog.sync_state(entry.name)
                    report.append({"venue": entry.name, "error": str(exc),
                                   "stored": state.markets if state else 0,
                                   "resumable": bool(state and state.cursor)})
                    return
            report.append({"venue": result.venue, "resumed": result.resumed,
                           "incremental": result.incremental,
                           "complete": result.complete, "pages": result.pages,
                           "markets": result.markets, "total": result.total,
                           "unlisted": result.unlisted})
        finally:
            await exchange.aclose()

    async def go() -> None:
        for entry in entries:
            await one(entry)

    try:
        try:
            run_async(go())
        except KeyboardInterrupt:
            click.echo("interrupted: the pages stored so far are kept; run `arbexec markets "
                       "sync` again to resume", err=True)
            sys.exit(130)
        pairs_note = _after_sync(app, catalog, pairs_file, propose)
    finally:
        catalog.close()
    if as_json:
        _echo_json({"catalog": str(catalog.path), "venues": report, **pairs_note})
    else:
        for line in report:
            click.echo(_sync_line(line))
        for key, value in pairs_note.items():
            if value:
                click.echo(f"{key.replace('_', ' ')}: {value}")
    if failed:
        sys.exit(EXIT_ATTENTION)


def _sync_line(line: dict[str, Any]) -> str:
    venue = line["venue"]
    if "skipped" in line:
        return f"{venue}: skipped ({line['skipped']})"
    if "error" in line:
        again = "; run the same command to resume" if line["resumable"] else ""
        return f"{venue}: stopped after {line['stored']} markets: {line['error']}{again}"
    how = "resumed, " if line["resumed"] else ""
    what = "markets changed since the last pass" if line["incremental"] else "markets"
    closed = f", {line['unlisted']} no longer listed (closed)" if line["unlisted"] else ""
    return (f"{venue}: {how}{line['markets']} {what} in {line['pages']} pages "
            f"({line['total']} this pass){closed}")


def _after_sync(app: Any, catalog: Any, pairs_file: str | None,
                propose: bool) -> dict[str, Any]:
    from arbexec.catalog.pairfile import load_pairs, save_pairs
    from arbexec.catalog.proposals import catalogue_matches
    from arbexec.catalog.review import deactivate_changed, merge_proposals

    path = _pairs_path(app, pairs_file)
    if not path.exists() and not propose:
        return {}
    pairs = load_pairs(path)
    added = 0
    if propose:
        pairs, added = merge_proposals(pairs, catalogue_matches(catalog))
    pairs, changed = deactivate_changed(pairs, catalog)
    if propose or changed:
        save_pairs(path, pairs)
    return {"pairs_file": str(path), "proposed": added,
            "deactivated": [{"id": p.id, "reason": p.reason} for p in changed]}


class _SyncProgress:
    """A rich progress bar on a terminal (stderr), nothing otherwise."""

    def __init__(self, venue: str, previous: Any, *, enabled: bool) -> None:
        from arbexec.tables import console

        self._out = console(err=True)
        self._enabled = enabled and self._out.is_terminal
        self._venue = venue
        # the last complete full pass's size is the best guess of this one's
        self._total = previous.markets if previous is not None and not previous.interrupted \
            and previous.since is None else None
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _SyncProgress:
        if self._enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("markets"),
                                 TimeElapsedColumn(), console=self._out, transient=False)
            self._bar.start()
            self._task = self._bar.add_task(f"sync {self._venue}", total=self._total)
        return self

    def page(self, state: Any, count: int) -> None:
        if self._bar is not None:
            total = self._task_total(state)
            self._bar.update(self._task, completed=state.markets, total=total)

    def _task_total(self, state: Any) -> int | None:
        if state.cursor is None:
            return state.markets  # the last page: the pass is this big
        if state.since is not None:
            return None  # only the changed markets: no idea how many
        if self._total is not None and state.markets >= self._total:
            return None  # bigger than the last pass: no honest total any more
        return self._total

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@markets.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--venue", "venue_names", multiple=True, help="Only this venue (repeatable).")
@click.option("--all", "include_closed", is_flag=True, help="Closed markets too.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@_catalog_option
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@click.pass_context
def markets_search(ctx: click.Context, text: tuple[str, ...], venue_names: tuple[str, ...],
                   include_closed: bool, limit: int, catalog_file: str | None,
                   json_here: bool) -> None:
    """Markets whose title holds every word of TEXT, best match first."""
    from rapidfuzz import fuzz

    query = " ".join(text)
    with _open_catalog(ctx.obj, catalog_file) as catalog:
        found = list(catalog.search(query.split(), venues=venue_names,
                                    open_only=not include_closed))
    found.sort(key=lambda m: (-fuzz.WRatio(query.lower(), m.text.lower()), m.venue, m.market))
    found = found[:limit]
    if _json_wanted(ctx, json_here):
        _echo_json([listing_dict(m) for m in found])
        return
    from arbexec.tables import print_table

    print_table(["venue", "market", "title", "closes", "status"],
                [[m.venue, m.market, m.title, _when(m.close_time), m.status.value]
                 for m in found], title=f"markets matching {query!r}",
                empty="none (run `arbexec markets sync` first?)")


@markets.command("show")
@click.argument("ref")
@_catalog_option
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@click.pass_context
def markets_show(ctx: click.Context, ref: str, catalog_file: str | None,
                 json_here: bool) -> None:
    """One market: REF is VENUE:MARKET, or the market id alone."""
    from arbexec.errors import UserError

    with _open_catalog(ctx.obj, catalog_file) as catalog:
        found = catalog.find(ref)
    if not found:
        raise UserError(f"no market {ref!r} in the catalogue (search with `arbexec markets "
                        "search TEXT`; sync with `arbexec markets sync`)")
    rows = [listing_dict(listing, refreshed) for listing, refreshed in found]
    if _json_wanted(ctx, json_here):
        _echo_json(rows if len(rows) > 1 else rows[0])
        return
    from arbexec.tables import print_table

    for row in rows:
        print_table(["field", "value"], [[k, _shown(v)] for k, v in row.items()
                                         if v not in (None, "", [], {})],
                    title=f"{row['venue']}:{row['market']}")


def _shown(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= 400 else text[:397] + "..."


# ---------------------------------------------------------------------------- pairs


@click.command("propose")
@click.option("--venue", "venue_names", multiple=True,
              help="Only between these venues (repeatable; default: every catalogued venue).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Lowest score proposed (default 0.55).")
@click.option("--max-days", type=click.FloatRange(0, 366), default=3.0, show_default=True,
              help="Largest gap between the markets' close or resolution times.")
@_catalog_option
@_pairs_option
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@click.pass_context
def pairs_propose(ctx: click.Context, venue_names: tuple[str, ...], min_score: float | None,
                  max_days: float, catalog_file: str | None, pairs_file: str | None,
                  json_here: bool) -> None:
    """Propose cross-venue pairs from the catalogue into the pairs file (earlier reviews
    are kept: a pair accepted or rejected stays so)."""
    from datetime import timedelta

    from arbexec.catalog.matcher import DEFAULT_PROPOSE_SCORE
    from arbexec.catalog.pairfile import PairStatus, load_pairs, save_pairs
    from arbexec.catalog.proposals import catalogue_matches
    from arbexec.catalog.review import merge_proposals
    from arbexec.errors import UserError

    app = ctx.obj
    path = _pairs_path(app, pairs_file)
    pairs = load_pairs(path)
    with _open_catalog(app, catalog_file) as catalog:
        held = catalog.counts()
        if len(held) < 2:
            raise UserError(f"the catalogue {catalog.path} holds the markets of "
                            f"{len(held)} venue(s); pairs need two: run `arbexec markets "
                            "sync` with two venues configured")
        unknown = [v for v in venue_names if v not in held]
        if unknown:
            raise UserError(f"the catalogue holds no markets of {unknown[0]!r}; it has "
                            f"{', '.join(sorted(held))}")
        matches = catalogue_matches(
            catalog, venue_names, max_time_gap=timedelta(days=max_days),
            min_score=DEFAULT_PROPOSE_SCORE if min_score is None else min_score)
        pairs, added = merge_proposals(pairs, matches)
    save_pairs(path, pairs)
    waiting = sum(1 for p in pairs if p.status is PairStatus.PROPOSED)
    if _json_wanted(ctx, json_here):
        _echo_json({"pairs_file": str(path), "new": added, "awaiting_review": waiting,
                    "total": len(pairs)})
        return
    click.echo(f"{added} new proposals; {waiting} await review in {path} "
               "(`arbexec pairs review`)")


@click.command("review")
@click.option("--accept", "accept_ids", multiple=True, metavar="ID", help="Accept (repeatable).")
@click.option("--reject", "reject_ids", multiple=True, metavar="ID", help="Reject (repeatable).")
@click.option("--reason", help="Why (with --reject).")
@click.option("--invert", "invert_ids", multiple=True, metavar="ID",
              help="YES on one is NO on the other, the other way from the proposal: flip "
                   "and accept (repeatable).")
@click.option("--accept-unflagged", is_flag=True,
              help="Accept every proposal with no flags and at least --min-score.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="With --accept-unflagged (default 0.80).")
@click.option("--list", "list_only", is_flag=True, help="Only list the pairs awaiting review.")
@_catalog_option
@_pairs_option
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@click.pass_context
def pairs_review(ctx: click.Context, accept_ids: tuple[str, ...], reject_ids: tuple[str, ...],
                 reason: str | None, invert_ids: tuple[str, ...], accept_unflagged: bool,
                 min_score: float | None, list_only: bool, catalog_file: str | None,
                 pairs_file: str | None, json_here: bool) -> None:
    """Accept, reject or invert proposed pairs. With no action flags on a terminal, asks
    about each proposal in turn, showing both markets and the matcher's flags; only
    accepted pairs are scanned or traded."""
    from arbexec.catalog import review as rv
    from arbexec.catalog.matcher import DEFAULT_MIN_SCORE
    from arbexec.catalog.pairfile import PairStatus, load_pairs, save_pairs
    from arbexec.errors import UserError

    app = ctx.obj
    path = _pairs_path(app, pairs_file)
    pairs = load_pairs(path)
    if reason and not reject_ids:
        raise UserError("--reason goes with --reject")
    if min_score is not None and not accept_unflagged:
        raise UserError("--min-score goes with --accept-unflagged")
    acting = bool(accept_ids or reject_ids or invert_ids or accept_unflagged)
    as_json = _json_wanted(ctx, json_here)
    catalog = _maybe_catalog(app, catalog_file)
    try:
        if acting:
            plan = ([(r, "accept") for r in accept_ids] + [(r, "reject") for r in reject_ids]
                    + [(r, "invert") for r in invert_ids])
            chosen = [(rv.find_pair(pairs, ref), action) for ref, action in plan]
            seen: dict[int, str] = {}
            for index, action in chosen:
                if index in seen and seen[index] != action:
                    raise UserError(f"pair {pairs[index].id} is given both --{seen[index]} "
                                    f"and --{action}")
                seen[index] = action
            decided = []
            for index, action in chosen:
                pair = pairs[index]
                pairs[index] = (rv.accept(pair, catalog) if action == "accept" else
                                rv.invert(pair, catalog) if action == "invert" else
                                rv.reject(pair, reason or "rejected by review"))
                decided.append(pairs[index])
            if accept_unflagged:
                floor = DEFAULT_MIN_SCORE if min_score is None else min_score
                for index, pair in enumerate(pairs):
                    if (pair.status is PairStatus.PROPOSED and not pair.flags
                            and pair.score >= floor):
                        pairs[index] = rv.accept(pair, catalog)
                        decided.append(pairs[index])
            save_pairs(path, pairs)
            _print_decided(decided, path, as_json)
            return
        waiting = [p for p in pairs if p.status is PairStatus.PROPOSED]
        if list_only or as_json or not (sys.stdin.isatty() and sys.stdout.isatty()):
            _print_waiting(waiting, path, as_json)
            return
        _interactive(pairs, path, catalog)
    finally:
        if catalog is not None:
            catalog.close()


def _maybe_catalog(app: Any, catalog_file: str | None) -> Any:
    from arbexec.catalog.paths import catalog_path
    from arbexec.catalog.store import Catalog

    path = catalog_path(app.deployment, catalog_file)
    return Catalog.open(path) if path.exists() else None


def _pair_dict(pair: Any) -> dict[str, Any]:
    return {"id": pair.id, "status": pair.status.value, "inverted": pair.inverted,
            "score": pair.score, "flags": list(pair.flags), "reason": pair.reason,
            "a": {"venue": pair.a.venue, "market": pair.a.market, "title": pair.a.title},
            "b": {"venue": pair.b.venue, "market": pair.b.market, "title": pair.b.title},
            "reviewed_at": pair.reviewed_at}


def _print_decided(decided: list[Any], path: Path, as_json: bool) -> None:
    if as_json:
        _echo_json({"pairs_file": str(path), "decided": [_pair_dict(p) for p in decided]})
        return
    for pair in decided:
        how = f"{pair.status.value}{' (inverted)' if pair.inverted else ''}"
        click.echo(f"{how}: {pair.id}" + (f" ({pair.reason})" if pair.reason else ""))
    click.echo(f"{len(decided)} pairs decided in {path}")


def _print_waiting(waiting: list[Any], path: Path, as_json: bool) -> None:
    if as_json:
        _echo_json({"pairs_file": str(path), "awaiting_review": [_pair_dict(p) for p in waiting]})
        return
    from arbexec.tables import print_table

    print_table(["id", "score", "flags", "a", "b"],
                [[p.id, f"{p.score:.2f}", ", ".join(p.flags) or "-", p.a.title, p.b.title]
                 for p in sorted(waiting, key=lambda p: -p.score)],
                title=f"pairs awaiting review ({path})", right={"score"},
                empty="none (propose with `arbexec pairs propose`)")


def _describe(ref: Any, catalog: Any) -> list[str]:
    listing = catalog.get(ref.venue, ref.market) if catalog is not None else None
    lines = [f"  {ref.venue}:{ref.market}", f"    {listing.title if listing else ref.title}"]
    if listing is not None:
        lines.append(f"    outcomes: {' / '.join(listing.outcomes)}   closes: "
                     f"{_when(listing.close_time) or '?'}   status: {listing.status.value}")
        if listing.resolution_source:
            lines.append(f"    source: {listing.resolution_source}")
        if listing.rules:
            rules = " ".join(listing.rules.split())
            lines.append(f"    rules: {rules[:300]}{'...' if len(rules) > 300 else ''}")
    return lines


def _interactive(pairs: list[Any], path: Path, catalog: Any) -> None:
    from arbexec.catalog import review as rv
    from arbexec.catalog.matcher import FLAGS
    from arbexec.catalog.pairfile import PairStatus, save_pairs

    order = sorted((i for i, p in enumerate(pairs) if p.status is PairStatus.PROPOSED),
                   key=lambda i: -pairs[i].score)
    if not order:
        click.echo(f"nothing awaits review in {path}")
        return
    counts = {"accepted": 0, "rejected": 0, "skipped": 0}
    for n, index in enumerate(order, start=1):
        pair = pairs[index]
        click.echo(f"\n[{n}/{len(order)}] {pair.id}  score {pair.score:.2f}")
        for ref in (pair.a, pair.b):
            click.echo("\n".join(_describe(ref, catalog)))
        if pair.flags:
            for flag in pair.flags:
                click.secho(f"  ! {flag}: {FLAGS.get(flag, '')}", fg="yellow")
        else:
            click.echo("  no flags")
        polarity = "YES on a is NO on b" if pair.inverted else "YES on a is YES on b"
        click.echo(f"  proposed polarity: {polarity}")
        choice = click.prompt("  [a]ccept, [r]eject, [i]nvert and accept, [s]kip, [q]uit",
                              type=click.Choice(["a", "r", "i", "s", "q"]),
                              show_choices=False)
        if choice == "q":
            break
        if choice == "s":
            counts["skipped"] += 1
            continue
        if choice == "r":
            why = click.prompt("  reason", default="not the same contract")
            pairs[index] = rv.reject(pair, why)
            counts["rejected"] += 1
        else:
            pairs[index] = rv.accept(pair, catalog) if choice == "a" else rv.invert(pair, catalog)
            counts["accepted"] += 1
        save_pairs(path, pairs)  # each decision is kept at once
    click.echo(f"\n{counts['accepted']} accepted, {counts['rejected']} rejected, "
               f"{counts['skipped']} skipped; {path}")


def register(cli: click.Group) -> None:
    cli.add_command(markets)
    pairs = cli.commands.get("pairs")
    if isinstance(pairs, click.Group):
        pairs.add_command(pairs_propose)
        pairs.add_command(pairs_review)
