"""The ``arbexec`` command line.

Only click is imported at start; the engine, the journal and every plugin load when a
command needs them, so ``arbexec --help`` answers at once. User mistakes print one line
(``error: ...``) and exit with status 2; they never print a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from arbexec import cli_options
from arbexec.exit_codes import ATTENTION as EXIT_ATTENTION

if TYPE_CHECKING:
    from arbexec.app import Runtime
    from arbexec.config import Deployment
    from arbexec.journal import Journal, JournalRow
    from arbexec.model import ExecutionResult
    from arbexec.plugins import PluginHost

T = TypeVar("T")


class App:
    """Shared state of one invocation, built lazily."""

    def __init__(self, config: str | None, journal: str | None, json_output: bool,
                 strict: bool) -> None:
        self.config_path = config
        self.journal_override = journal
        self.json_output = json_output
        self.strict = strict
        self._host: PluginHost | None = None
        self._deployment: Deployment | None = None

    @property
    def host(self) -> PluginHost:
        if self._host is None:
            from arbexec.plugins import PluginHost

            self._host = PluginHost.create(strict=self.strict or None)
        return self._host

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            from arbexec.config import load_deployment

            self._deployment = load_deployment(self.config_path)
        return self._deployment

    @property
    def journal_path(self) -> Path:
        return Path(self.journal_override) if self.journal_override else (
            self.deployment.journal_path)

    def open_journal(self) -> Journal:
        from arbexec.journal import Journal

        return Journal.open(self.journal_path, durability=self.deployment.durability)

    def runtime(self, **kwargs: Any) -> Runtime:
        from arbexec.app import open_runtime

        return open_runtime(self.deployment, self.host, json_output=self.json_output,
                            journal_path=self.journal_path, **kwargs)


pass_app = click.make_pass_decorator(App)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    return asyncio.run(coro)


def echo_json(value: Any) -> None:
    from arbexec.journal import dumps

    click.echo(dumps(value))


class _CachedPluginCommand(click.Command):
    """A plugin command known from the command index; resolved through the host when run."""

    def __init__(self, group: ArbexecGroup, name: str, help: str) -> None:
        super().__init__(name=name, help=help, short_help=help)
        self._group = group

    def _real(self, ctx: click.Context | None) -> click.Command:
        name = self.name or ""
        command = self._group.load_plugin_command(ctx, name)
        if command is None:
            raise click.UsageError(f"the plugin command {name!r} is no longer installed; "
                                   "see `arbexec plugins`")
        return command

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        return self._real(parent).make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self._real(ctx.parent).invoke(ctx)


class ArbexecGroup(click.Group):
    """Adds plugin commands on first use, and turns user errors into one line.

    A help screen lists plugin commands from the command index (no plugin is imported);
    running one, or any name the core does not know, loads the plugin host.
    """

    _core: frozenset[str] = frozenset()
    _loaded = False
    _listed: dict[str, click.Command] | None = None

    def load_plugin_commands(self, ctx: click.Context | None) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self._core:
            self._core = frozenset(self.commands)
        app = ctx.find_object(App) if ctx is not None else None
        from arbexec import command_index
        from arbexec.plugins import PluginHost

        host = app.host if app is not None else PluginHost.create()
        host.register_commands(self)
        command_index.write(command_index.fingerprint(), [
            {"name": name, "help": command.get_short_help_str(limit=200)}
            for name, command in self.commands.items() if name not in self._core
        ])

    def load_plugin_command(self, ctx: click.Context | None, name: str) -> click.Command | None:
        self.load_plugin_commands(ctx)
        return self.commands.get(name)

    def _cached_commands(self) -> dict[str, click.Command] | None:
        if self._listed is None and not self._loaded:
            from arbexec import command_index

            entries = command_index.read(command_index.fingerprint())
            if entries is not None:
                self._listed = {
                    e["name"]: _CachedPluginCommand(self, e["name"], e.get("help", ""))
                    for e in entries if e.get("name") and e["name"] not in self.commands
                }
        return self._listed

    def list_commands(self, ctx: click.Context) -> list[str]:
        cached = None if self._loaded else self._cached_commands()
        if cached is None:
            self.load_plugin_commands(ctx)
            return super().list_commands(ctx)
        return sorted({*self.commands, *cached})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        if not self._loaded:
            cached = self._cached_commands()
            if cached is not None and cmd_name in cached:
                return cached[cmd_name]
        return self.load_plugin_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from arbexec.errors import ArbexecError, UserError

        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {_printable(str(exc))}", err=True)
            ctx.exit(2)
        except ArbexecError as exc:
            click.echo(f"error: {_printable(str(exc))}", err=True)
            ctx.exit(1)

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Every command's mistakes, core or plugin, in one format: ``error: ...`` on one
        line of stderr (no usage dump), status 2; a network failure says what failed."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        from arbexec.cli_errors import run_with_one_line_errors

        run_with_one_line_errors(lambda: super(ArbexecGroup, self).main(
            args, prog_name, complete_var, False, **extra))


def _printable(message: str) -> str:
    """A message that any terminal encoding can show: an input's lone surrogate (a path
    argument with undecodable bytes) would otherwise fail the very error report."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


@click.group(cls=ArbexecGroup)
@click.option("--config", "-c", "config", type=click.Path(dir_okay=False),
              envvar="ARBEXEC_CONFIG", help="Deployment TOML file (default: the built-in paper "
              "deployment). Env: ARBEXEC_CONFIG.")
@click.option("--journal", type=click.Path(dir_okay=False), envvar="ARBEXEC_JOURNAL",
              help="Journal file, overriding the deployment's [journal] path.")
@click.option("--json", "json_output", is_flag=True, help="Machine-readable output.")
@click.option("--strict", is_flag=True, help="Treat any plugin load failure as fatal.")
@click.version_option(package_name="arbexec")
@click.pass_context
def cli(ctx: click.Context, config: str | None, journal: str | None, json_output: bool,
        strict: bool) -> None:
    """Risk-checked, journaled execution for prediction markets."""
    ctx.obj = App(config, journal, json_output, strict)


# ---------------------------------------------------------------------------- plugins


@cli.command()
@pass_app
def plugins(app: App) -> None:
    """List installed plugins: description, whether each loaded, what it provides, each
    risk rule's parameters and each venue's capabilities."""
    from arbexec.plugin_report import lines, report

    records = app.host.records()
    failed = [r for r in records if r.status == "failed"]
    entries = report(app.host)
    if app.json_output:
        echo_json(entries)
    else:
        for line in lines(entries, records):
            click.echo(line)
    if failed and app.strict:
        sys.exit(1)


# ---------------------------------------------------------------------------- config


@cli.group("config")
def config_group() -> None:
    """Check or show deployment files."""


@config_group.command("check")
@click.option("--policy", type=click.Path(dir_okay=False), help="A policy file to check too.")
@pass_app
def config_check(app: App, policy: str | None) -> None:
    """Validate the deployment and report every problem in one run: syntax, values, that
    every venue, rule, sink and source is installed, and that each builds."""
    from arbexec.config_check import build_problems, load_all_problems

    deployment, problems = load_all_problems(app.config_path)
    if deployment is not None:
        problems += build_problems(deployment, app.host, Path(policy) if policy else None)
    if app.json_output:
        echo_json({"ok": not problems, "problems": problems,
                   "source": str(deployment.source if deployment else app.config_path),
                   "venues": [{"name": v.name, "type": v.type}
                              for v in (deployment.venues if deployment else ())],
                   "journal": str(app.journal_override or (
                       deployment.journal_path if deployment else ""))})
        if problems:
            sys.exit(2)
        return
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    assert deployment is not None
    names = ", ".join(f"{v.name} ({v.type})" for v in deployment.venues) or "none"
    click.echo(f"ok: {deployment.source}: venues {names}; journal {app.journal_path}")


@config_group.command("show-default")
def config_show_default() -> None:
    """Print the built-in default deployment, to copy and adapt."""
    from arbexec.config import DEFAULT_FILE

    click.echo(DEFAULT_FILE.read_text(encoding="utf-8"), nl=False)


# ---------------------------------------------------------------------------- run


@cli.command()
@click.argument("source", required=False)
@click.option("--policy", type=click.Path(dir_okay=False), help="Risk policy file for this run.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
@pass_app
def run(app: App, source: str | None, policy: str | None, quiet: bool) -> None:
    """Execute requests from SOURCE (a JSON-lines file, or - for stdin; default: the
    deployment's [source]) and print results as they complete, then a summary."""
    from arbexec.app import build_source
    from arbexec.config import PluginConfig
    from arbexec.errors import ConfigError

    deployment = app.deployment
    if source is not None:
        from arbexec.sources.jsonl import is_readable_file

        if source != "-" and not is_readable_file(source):
            raise click.BadParameter(f"request file {_short(source)} does not exist or "
                                     "cannot be read", param_hint="SOURCE")
        entry = PluginConfig(name="jsonl", type="jsonl", options={"path": source}, key="SOURCE")
    elif deployment.request_source is not None:
        entry = deployment.request_source
    else:
        raise ConfigError("no request source: give a file (arbexec run requests.jsonl), '-' "
                          "for stdin, or a [source] table in the deployment",
                          source=deployment.source)
    request_source = build_source(entry, deployment, app.host)
    from arbexec.progress import ErasingStream, RunProgress
    from arbexec.runner import run_source

    progress = RunProgress.for_terminal()
    real_stdout = sys.stdout
    if progress is not None:  # rows written while the line shows start on a clean line
        sys.stdout = ErasingStream(real_stdout, progress)
    try:
        runtime = app.runtime(policy_file=Path(policy) if policy else None, quiet=quiet)
        summary = run_async(run_source(runtime, request_source, progress=progress))
    finally:
        sys.stdout = real_stdout
    if app.json_output:
        echo_json({"summary": summary.as_dict()})
    else:
        click.echo(summary.render())
    if summary.journal_problem:
        raise SystemExit(1)  # a run whose journal stopped taking orders did not succeed
    if summary.errors:  # a request raised: the run did not account for everything cleanly
        sys.exit(1)
    if summary.attention:
        sys.exit(EXIT_ATTENTION)


def _short(text: str) -> str:
    """A user-given name for a one-line message: ASCII, at most about 80 characters."""
    shown = repr(text if len(text) <= 80 else text[:77] + "...")
    return shown.encode("ascii", "backslashreplace").decode("ascii")


# ---------------------------------------------------------------------------- orders


def _print_result(app: App, result: ExecutionResult) -> None:
    from arbexec.sinks.render import result_row, result_to_dict

    if app.json_output:
        echo_json(result_to_dict(result))
    else:
        click.echo(result_row(result))


@cli.group()
def order() -> None:
    """Place, inspect or cancel one order."""


#: Request fields whose ``order place`` option has another name.
_PLACE_OPTIONS = {"limit_price": "--price", "time_in_force": "--tif", "expires_at": "--expires",
                  "idempotency_key": "--key", "tags": "--tag"}


@order.command("place")
@cli_options.venue_option()
@cli_options.market_option()
@click.option("--outcome", required=True, type=click.Choice(["YES", "NO"], case_sensitive=False))
@click.option("--side", required=True, type=click.Choice(["BUY", "SELL"], case_sensitive=False))
@cli_options.quantity_option(aliases=["--size", "--amount"])
@cli_options.price_option(dest="limit_price", aliases=["--limit-price"])
@cli_options.tif_option()
@click.option("--post-only", is_flag=True)
@click.option("--expires", "expires_at", help="Expiry for GTD (ISO-8601 with timezone).")
@click.option("--reference-price", help="Price the signal saw, for slippage checks.")
@click.option("--key", "idempotency_key", help="Idempotency key (default: a new one).")
@click.option("--request-id", help="Request id (default: the key).")
@click.option("--tag", "tags", multiple=True, help="NAME=VALUE, repeatable.")
@click.option("--policy", type=click.Path(dir_okay=False))
@pass_app
def order_place(app: App, policy: str | None, tags: tuple[str, ...], **values: Any) -> None:
    """Risk-check, send and follow one order."""
    import uuid

    from arbexec.model import RequestError
    from arbexec.sources.parse import request_from_mapping

    data = {k: v for k, v in values.items() if v not in (None, False)}
    data["outcome"] = data["outcome"].upper()
    data["side"] = data["side"].upper()
    data["time_in_force"] = data["time_in_force"].upper()
    data.setdefault("idempotency_key", f"cli-{uuid.uuid4().hex}")
    from arbexec.cli_options import parse_tags

    tag_map = parse_tags(tags)
    if tag_map:
        data["tags"] = tag_map
    try:
        request = request_from_mapping(data)
    except RequestError as exc:
        field = exc.field
        if field == "request_id" and not values.get("request_id"):
            field = "idempotency_key"  # the request id is the key unless given
        option = _PLACE_OPTIONS.get(field, f"--{field.replace('_', '-')}")
        raise click.BadParameter(exc.message, param_hint=option) from None
    runtime = app.runtime(policy_file=Path(policy) if policy else None, quiet=True)

    async def go() -> ExecutionResult:
        try:
            await runtime.engine.start()
            await runtime.engine.reconcile()
            return await runtime.engine.submit(request)
        finally:
            await runtime.aclose()

    result = run_async(go())
    _print_result(app, result)
    code = _not_placed_exit(result)
    if code:
        sys.exit(code)


def _not_placed_exit(result: ExecutionResult) -> int:
    """``order place`` succeeds only when the order reached the venue: DENIED or REJECTED
    is status 1, an UNKNOWN order (it may or may not rest) needs a person, status 3."""
    from arbexec.exit_codes import ERROR
    from arbexec.model import OrderStatus

    if result.status is OrderStatus.UNKNOWN:
        return EXIT_ATTENTION
    if result.status in (OrderStatus.DENIED, OrderStatus.REJECTED):
        return ERROR
    return 0


def _find_row(journal: Journal, ref: str) -> JournalRow:
    from arbexec.errors import UserError

    row = journal.get(ref)
    if row is None:
        rows = journal.find_by_request_id(ref)
        if len(rows) > 1:
            raise UserError(f"request id {ref!r} names {len(rows)} orders; use the key")
        row = rows[0] if rows else None
    if row is None:
        raise UserError(f"no order with key or request id {ref!r} in {journal.path}")
    return row


@order.command("status")
@click.argument("ref")
@pass_app
def order_status(app: App, ref: str) -> None:
    """Show one order from the journal (REF: idempotency key or request id)."""
    journal = app.open_journal()
    try:
        row = _find_row(journal, ref)
        fills = journal.fills(row.idempotency_key)
    finally:
        journal.close()
    result = row.to_result()
    if app.json_output:
        from arbexec.sinks.render import result_to_dict

        echo_json({**result_to_dict(result), "fills": [
            {"trade_id": f.trade_id, "quantity": str(f.quantity), "price": str(f.price),
             "fee": str(f.fee), "final": f.final} for f in fills]})
    else:
        _print_result(app, result)
        for f in fills:
            click.echo(f"    fill {f.trade_id}: {f.quantity} @ {f.price} fee {f.fee}"
                       f"{'' if f.final else ' (provisional)'}")


@order.command("cancel")
@click.argument("ref")
@pass_app
def order_cancel(app: App, ref: str) -> None:
    """Cancel one order on its venue (REF: idempotency key or request id)."""
    runtime = app.runtime(quiet=True)

    async def go() -> ExecutionResult:
        try:
            await runtime.engine.start()
            return await runtime.engine.cancel(ref)
        finally:
            await runtime.aclose()

    _print_result(app, run_async(go()))


@cli.command()
@click.option("--status", "statuses", multiple=True, help="Only these statuses (repeatable).")
@click.option("--open", "only_open", is_flag=True, help="Only orders not yet final.")
@click.option("--venue")
@click.option("--market")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True,
              help="At most N orders (the latest).")
@click.option("--watch", is_flag=True, help="Follow the journal until Ctrl-C: a live table "
              "on a terminal; in a pipe, a line per order and per change.")
@click.option("--interval", type=click.FloatRange(0.05, 3600), default=1.0,
              show_default=True, help="Seconds between refreshes with --watch.")
@pass_app
def orders(app: App, statuses: tuple[str, ...], only_open: bool, venue: str | None,
           market: str | None, limit: int, watch: bool, interval: float) -> None:
    """List orders from the journal."""
    from arbexec.cli_options import parse_statuses
    from arbexec.journal import NON_FINAL
    from arbexec.sinks.render import result_row, result_to_dict

    wanted = parse_statuses(statuses) or (NON_FINAL if only_open else ())

    def read() -> list[JournalRow]:
        journal = app.open_journal()
        try:
            return journal.query(venue=venue, market=market, status=wanted, limit=limit)
        finally:
            journal.close()

    if watch:
        from arbexec.watch import watch as follow

        follow(read, interval=interval, as_json=app.json_output)
        return
    rows = read()
    if app.json_output:
        echo_json([result_to_dict(r.to_result()) for r in rows])
    else:
        for r in rows:
            click.echo(result_row(r.to_result()))
        if not rows:
            click.echo("no orders")


# ---------------------------------------------------------------------------- venue reads


def _venue_runtime(app: App, venue: str | None) -> Runtime:
    from arbexec.errors import UserError

    names = [v.name for v in app.deployment.venues]
    if venue is not None and venue not in names:
        raise UserError(f"venue {venue!r} is not configured; configured venues: "
                        f"{', '.join(names) or 'none'}")
    return app.runtime(quiet=True, venue_names=[venue] if venue else None, lock=False,
                       read_only=True)


@cli.command()
@click.option("--venue", help="One venue (default: every configured venue).")
@pass_app
def balance(app: App, venue: str | None) -> None:
    """Cash on each venue."""
    runtime = _venue_runtime(app, venue)

    async def go() -> list[Any]:
        try:
            return [await v.fetch_balance() for v in runtime.venues.values()]
        finally:
            await runtime.aclose()

    balances = run_async(go())
    if app.json_output:
        echo_json([{"venue": b.venue, "total": str(b.total), "available": str(b.available),
                    "currency": b.currency} for b in balances])
    else:
        for b in balances:
            click.echo(f"{b.venue}: total {b.total} {b.currency}, available {b.available}")


@cli.command()
@click.option("--venue")
@pass_app
def positions(app: App, venue: str | None) -> None:
    """Positions on each venue."""
    runtime = _venue_runtime(app, venue)

    async def go() -> list[Any]:
        try:
            out = []
            for v in runtime.venues.values():
                out.extend(await v.fetch_positions())
            return out
        finally:
            await runtime.aclose()

    found = run_async(go())
    if app.json_output:
        echo_json([{"venue": p.venue, "market": p.market, "outcome": p.outcome.value,
                    "quantity": str(p.quantity),
                    "average_price": None if p.average_price is None else str(p.average_price)}
                   for p in found])
    else:
        for p in found:
            average = "?" if p.average_price is None else (
                f"{round(p.average_price, 6).normalize():f}")
            click.echo(f"{p.venue} {p.market} {p.outcome.value}: {p.quantity} @ {average}")
        if not found:
            click.echo("no positions")


@cli.command()
@cli_options.venue_option()
@cli_options.market_option()
@cli_options.legacy_positionals("venue", "market")
@click.option("--depth", type=int, default=5, show_default=True)
@pass_app
def book(app: App, venue: str, market: str, depth: int) -> None:
    """The order book of MARKET on VENUE (YES prices; NO is the mirror)."""
    runtime = _venue_runtime(app, venue)

    async def go() -> Any:
        try:
            return await runtime.venues[venue].fetch_order_book(market)
        finally:
            await runtime.aclose()

    ob = run_async(go())
    if app.json_output:
        echo_json({"venue": ob.venue, "market": ob.market, "timestamp": ob.timestamp,
                   "bids": [[str(lv.price), str(lv.size)] for lv in ob.bids[:depth]],
                   "asks": [[str(lv.price), str(lv.size)] for lv in ob.asks[:depth]]})
        return
    click.echo(f"{ob.venue} {ob.market} (YES) at {ob.timestamp.isoformat()}")
    click.echo(f"{'bid size':>12} {'bid':>8} | {'ask':<8} {'ask size':<12}")
    for i in range(max(min(depth, len(ob.bids)), min(depth, len(ob.asks)))):
        b = ob.bids[i] if i < len(ob.bids) else None
        a = ob.asks[i] if i < len(ob.asks) else None
        click.echo(f"{str(b.size) if b else '':>12} {str(b.price) if b else '':>8} | "
                   f"{str(a.price) if a else '':<8} {str(a.size) if a else '':<12}")


# ---------------------------------------------------------------------------- audit


@cli.command()
@click.option("--events", "show_events", is_flag=True, help="The event history, not orders.")
@click.option("--kind", "kinds", multiple=True, help="Event kinds (with --events).")
@click.option("--key", help="One idempotency key.")
@click.option("--request-id")
@click.option("--venue")
@click.option("--market")
@click.option("--status", "statuses", multiple=True)
@click.option("--since", help="From this time: ISO-8601 with timezone, a span back from now "
              "(30m, 1h, 2d), today or yesterday (UTC).")
@click.option("--until", help="Before this time (same forms as --since).")
@click.option("--tag", help="NAME=VALUE: orders whose request carried this tag.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N rows (the latest).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=None,
              help="Output format (default: table, or json with --json).")
@pass_app
def audit(app: App, show_events: bool, kinds: tuple[str, ...], key: str | None,
          request_id: str | None, venue: str | None, market: str | None,
          statuses: tuple[str, ...], since: str | None, until: str | None, tag: str | None,
          limit: int | None, fmt: str | None) -> None:
    """Query the journal: orders (default) or the append-only event history."""
    import csv
    import json

    from arbexec.cli_options import parse_statuses, parse_tag, parse_when
    from arbexec.sinks.render import limit_text, result_to_dict

    fmt = fmt or ("json" if app.json_output else "table")
    since_at = None if since is None else parse_when(since, "--since")
    until_at = None if until is None else parse_when(until, "--until")
    wanted = parse_statuses(statuses)
    if show_events:
        refused = [name for name, value in (("--venue", venue), ("--market", market),
                                            ("--status", statuses), ("--tag", tag)) if value]
        if refused:
            raise click.UsageError(f"{', '.join(refused)} filter orders, not events; with "
                                   "--events use --kind, --key, --request-id, --since, "
                                   "--until and --limit")
    elif kinds:
        raise click.UsageError("--kind filters events: add --events")
    tag_pair = None if tag is None else parse_tag(tag)
    journal = app.open_journal()
    try:
        if show_events:
            rows: list[dict[str, Any]] = [
                {"seq": seq, "at": event.at.isoformat(), "kind": event.kind,
                 "request_id": event.request_id,
                 "data": json.loads(json.dumps(dict(event.data), default=str))}
                for seq, event in journal.events(kinds=kinds, key=key, request_id=request_id,
                                                 since=since_at, until=until_at,
                                                 latest=limit)]
        else:
            found = journal.query(venue=venue, market=market, status=wanted, since=since_at,
                                  until=until_at, request_id=request_id, key=key,
                                  tag=tag_pair, limit=limit)
            rows = [result_to_dict(r.to_result()) for r in found]
    finally:
        journal.close()
    if fmt == "json":
        echo_json(rows)
    elif fmt == "csv":
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v) if isinstance(v, dict) else v
                                 for k, v in row.items()})
    else:
        for row in rows:
            if show_events:
                data = json.dumps(row["data"], separators=(",", ":"))
                click.echo(f"{row['seq']:>6} {row['at']} {row['kind']:<16} {data}")
            else:
                click.echo(f"{row['status']:<16} {row['request_id']:<16} {row['venue']} "
                           f"{row['market']} {row['side']} {row['quantity']} {row['outcome']} "
                           f"{limit_text(row['side'], row['limit_price'])} "
                           f"filled {row['filled_quantity']}"
                           + (f" @{row['average_price']}" if row['average_price'] else "")
                           + (f" [{row['reason_code']}] {row['reason']}" if row['reason'] else ""))
        if not rows:
            click.echo("nothing matches")


# ---------------------------------------------------------------------------- kill switch


@cli.command()
@click.option("--reason", default="manual halt", show_default=True)
@click.option("--cancel-open", is_flag=True,
              help="Then cancel every resting order on every venue, and report.")
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@pass_app
def halt(app: App, reason: str, cancel_open: bool, json_here: bool) -> None:
    """Stop all new orders (persisted; survives restarts; lifted only by `resume`).

    Already halted: the first reason stands (it is the one that explains the stop)."""
    import getpass

    journal = app.open_journal()
    try:
        before = journal.halt_state()
        state = before if before.halted else journal.set_halt(True, reason=reason,
                                                               by=getpass.getuser())
    finally:
        journal.close()
    as_json = app.json_output or json_here
    report = None
    if cancel_open:
        from arbexec.cli_desk import run_cancel_open

        report = run_cancel_open(app)
    if as_json:
        echo_json({"halted": True, "already_halted": before.halted, "reason": state.reason,
                   "by": state.by, "at": state.at,
                   **({} if report is None else {"cancel": report})})
    else:
        if before.halted:
            click.echo(f"already halted since {_when(state.at)} by {state.by}: {state.reason} "
                       f"(reason kept; journal {app.journal_path})")
        else:
            click.echo(f"halted: {reason} (journal {app.journal_path}); lift with "
                       "`arbexec resume`")
        if report is not None:
            from arbexec.cli_desk import print_cancel_report

            print_cancel_report(report, as_json=False)
    if report is not None and not report["complete"]:
        sys.exit(EXIT_ATTENTION)


def _when(at: Any) -> str:
    return "?" if at is None else at.isoformat(timespec="seconds")


@cli.command()
@click.option("--json", "json_here", is_flag=True, help="Machine-readable output.")
@pass_app
def resume(app: App, json_here: bool) -> None:
    """Lift the halt."""
    import getpass

    journal = app.open_journal()
    try:
        before = journal.halt_state()
        if before.halted:
            journal.set_halt(False, reason=None, by=getpass.getuser())
    finally:
        journal.close()
    if app.json_output or json_here:
        echo_json({"halted": False, "was_halted": before.halted})
    elif before.halted:
        click.echo(f"resumed: new orders allowed (halt was: {before.reason}; journal "
                   f"{app.journal_path})")
    else:
        click.echo(f"not halted: nothing to resume (journal {app.journal_path})")


# ---------------------------------------------------------------------------- risk


@cli.group()
def risk() -> None:
    """Inspect the risk policy."""


@risk.command("explain")
@click.argument("request_json", required=False)
@click.option("--file", "request_file", type=click.Path(dir_okay=False, exists=True),
              help="Explain every request of a JSON-lines file.")
@click.option("--policy", type=click.Path(dir_okay=False), help="Policy file to explain with.")
@pass_app
def risk_explain(app: App, request_json: str | None, request_file: str | None,
                 policy: str | None) -> None:
    """Show every rule's verdict and figures for a request or a pair, sending nothing.

    REQUEST_JSON is one request as a JSON object (the run format, {"pair": {...}} for a
    pair); or use --file.
    """
    from arbexec.errors import UserError
    from arbexec.journal import dumps
    from arbexec.model import OrderRequest, RequestError
    from arbexec.sources import strict_json
    from arbexec.sources.parse import request_from_mapping

    texts: list[tuple[str, str]] = []
    if request_json is not None:
        texts.append(("argument", request_json))
    if request_file is not None:
        with open(request_file, encoding="utf-8", errors="replace") as handle:
            texts.extend((f"{request_file}:{n}", line) for n, line in enumerate(handle, 1)
                         if line.strip() and not line.lstrip().startswith("#"))
    if not texts:
        raise click.UsageError("give a request as JSON, or --file requests.jsonl")
    requests: list[tuple[str, Any]] = []
    for where, text in texts:
        try:
            data = strict_json.loads(text)
            if isinstance(data, dict) and "pair" in data:
                from arbexec.arbitrage.model import pair_from_mapping

                requests.append((where, pair_from_mapping(data["pair"])))
            else:
                requests.append((where, request_from_mapping(data)))
        except RequestError as exc:
            raise UserError(f"{where}: {exc.field}: {exc.message}") from None
    runtime = app.runtime(policy_file=Path(policy) if policy else None, quiet=True, lock=False,
                          read_only=True)

    async def go() -> list[dict[str, Any]]:
        out = []
        try:
            for where, request in requests:
                if not isinstance(request, OrderRequest):  # a pair
                    from arbexec.arbitrage.executor import ArbitrageSettings, PairExecutor

                    explained = await PairExecutor(runtime.engine, ArbitrageSettings(
                        max_book_age=runtime.deployment.max_book_age)).explain(request)
                    out.append({"request": where, "request_id": request.request_id,
                                **explained})
                    continue
                explanation = await runtime.engine.explain(request)
                out.append({"request": where, "request_id": request.request_id,
                            "allowed": explanation.allowed,
                            "verdicts": list(explanation.verdicts),
                            "claims": list(explanation.claims)})
            return out
        finally:
            await runtime.aclose()

    explained = run_async(go())
    if app.json_output:
        click.echo(dumps(explained))
        return
    for item in explained:
        verdict = "allowed" if item["allowed"] else "DENIED"
        click.echo(f"{item['request']} ({item['request_id']}): {verdict}")
        for v in item["verdicts"]:
            mark = "ok  " if v["allowed"] else "DENY"
            figures = " ".join(f"{k}={x}" for k, x in v.get("figures", {}).items())
            code = f" [{v['code']}]" if v.get("code") else ""
            click.echo(f"  {mark} {v['rule']:<20}{code} {v['message']} {figures}".rstrip())
        for c in item.get("claims", []):
            click.echo(f"  claim {c['key']}: +{c['amount']} (limit {c['limit']})")


# ---------------------------------------------------------------------------- reconcile


@cli.command()
@click.option("--rebaseline", is_flag=True,
              help="Accept the venues' positions and balances as the new baseline.")
@pass_app
def reconcile(app: App, rebaseline: bool) -> None:
    """Look every unfinished order up on its venue, report venue orders the journal does
    not know, and compare positions and balances with the journal's view."""
    from arbexec.reconcile_report import full_report

    runtime = app.runtime(quiet=True)

    async def go() -> list[dict[str, Any]]:
        try:
            await runtime.engine.start()
            return await full_report(runtime.engine, rebaseline=rebaseline)
        finally:
            await runtime.aclose()

    report = run_async(go())
    if app.json_output:
        echo_json(report)
        return
    for line in report:
        click.echo("  ".join(f"{k}={v}" for k, v in line.items()))
    if not report:
        click.echo("nothing to reconcile: every journal order is final and venues agree")


def _register_core_extras() -> None:
    from arbexec import cli_arb, cli_desk, cli_markets, cli_scan

    cli_arb.register(cli)
    cli_desk.register(cli)
    cli_markets.register(cli)
    cli_scan.register(cli)
    _add_json_options(cli)


def _json_here(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        app = ctx.find_object(App)
        if app is not None:
            app.json_output = True


def _add_json_options(group: click.Group) -> None:
    """``--json`` on every core command that prints (``arbexec orders --json`` means
    ``arbexec --json orders``), unless the command declares its own."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _add_json_options(command)
        elif not any("--json" in getattr(p, "opts", ()) for p in command.params):
            command.params.append(click.Option(
                ["--json"], is_flag=True, expose_value=False, callback=_json_here,
                help="Machine-readable output (as `arbexec --json`)."))


_register_core_extras()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="arbexec")


_: Callable[..., Any] = main
