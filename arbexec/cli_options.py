"""Parsing shared by command-line options."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def parse_tag(text: str, option: str = "--tag") -> tuple[str, str]:
    """``NAME=VALUE`` -> (name, value); a clear usage error otherwise."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint=option)
    return name, value


def parse_tags(texts: Iterable[str], option: str = "--tag") -> dict[str, str]:
    return dict(parse_tag(text, option) for text in texts)


def parse_statuses(texts: Iterable[str], option: str = "--status") -> tuple[str, ...]:
    """Order statuses, any case; an unknown one is a usage error listing the valid ones
    (a typo would otherwise match nothing and look like an empty journal)."""
    from arbexec.model import OrderStatus

    valid = [s.value for s in OrderStatus]
    wanted = []
    for text in texts:
        status = text.strip().upper().replace("-", "_").replace(" ", "_")
        if status not in valid:
            raise click.BadParameter(f"unknown status {text!r}; valid: {', '.join(valid)}",
                                     param_hint=option)
        wanted.append(status)
    return tuple(wanted)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str, option: str, *, now: datetime | None = None) -> datetime:
    """A time for ``--since``/``--until``: ISO-8601 with a timezone, a span back from now
    (``90s``, ``15m``, ``1h``, ``2d``, ``1w``), or ``today`` / ``yesterday`` (UTC midnight)."""
    import re

    from arbexec.model import now_utc, utc_datetime

    current = now or now_utc()
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight if word == "today" else midnight - timedelta(days=1)
    span = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdw])", word)
    if span:
        return current - timedelta(seconds=float(span.group(1)) * _UNITS[span.group(2)])
    try:
        return utc_datetime(text)
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(
            f"{exc}; or give a span back from now (30m, 1h, 2d) or today / yesterday",
            param_hint=option) from None


# ---------------------------------------------------------------------------- one vocabulary
#
# The rules every command follows (docs/plugin-authors.md, "Command-line vocabulary"):
# a price is --price, a number of contracts is --quantity, the time in force is --tif with
# lower-case values (gtc, gtd, ioc, fok), a venue and a market are the options --venue and
# --market (never positionals), a signing command takes --method and --path and --timestamp
# in unix seconds, and a doctor takes --offline, --proxy and --environment. An old spelling
# stays as a hidden option that still works and names the new one.

#: Every time in force the core knows, in the one spelling commands accept and show.
TIME_IN_FORCE = ("gtc", "gtd", "ioc", "fok")

_ALIASES = "arbexec.option_aliases"


def deprecation(old: str, new: str) -> None:
    """Say on stderr that ``old`` still works but ``new`` is its name now."""
    click.echo(f"warning: {old} is deprecated; use {new}", err=True)


class LowerChoice(click.Choice):
    """A choice given in any case and passed on in lower case; ``aliases`` maps other
    words a venue uses (Polymarket's ``fak``) onto the shared one."""

    def __init__(self, choices: Iterable[str], aliases: dict[str, str] | None = None) -> None:
        self.aliases = dict(aliases or {})
        super().__init__([c.lower() for c in choices], case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = self.aliases.get(value.strip().lower(), value.strip().lower())
        return super().convert(value, param, ctx)


def _store_alias(dest: str, old: str, new: str) -> Callable[..., None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value == ():
            return
        deprecation(old, new)
        ctx.meta.setdefault(_ALIASES, {})[dest] = (old, value)
        if dest in ctx.params and _given(ctx, dest):
            raise click.UsageError(f"give {new} only ({old} is its old name)")
    return callback


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source not in (
        click.core.ParameterSource.DEFAULT, click.core.ParameterSource.DEFAULT_MAP)


def _take_alias(required: bool, new: str, chain: Callable[..., Any] | None
                ) -> Callable[..., Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        aliased = ctx.meta.get(_ALIASES, {}).get(param.name)
        if aliased is not None:
            if _given(ctx, param.name or ""):
                raise click.UsageError(f"give {new} only ({aliased[0]} is its old name)")
            value = aliased[1]
        if required and (value is None or value == ()):
            raise click.MissingParameter(ctx=ctx, param=param)
        return chain(ctx, param, value) if chain is not None else value
    return callback


def option(*decls: str, aliases: Iterable[str] = (), required: bool = False,
           **kwargs: Any) -> Callable[[F], F]:
    """``click.option`` with old spellings kept as hidden options: each still works, says
    the new name on stderr, and is refused together with the new one.

    ``option("--quantity", aliases=["--size"], required=True, help="Contracts.")``
    """
    new = next(d for d in decls if d.startswith("--"))
    dest = next((d for d in decls if not d.startswith("-")),
                new.lstrip("-").replace("-", "_"))
    chain = kwargs.pop("callback", None)
    old_names = list(aliases)

    def decorator(f: F) -> F:
        f = click.option(*decls, callback=_take_alias(required, new, chain),
                         **kwargs)(f)
        for old in old_names:
            # Its own name: click's parser keeps one value per name, so sharing the new
            # option's name would hand the alias the new option's value.
            alias_name = "alias_" + old.lstrip("-").replace("-", "_")
            f = click.option(old, alias_name, hidden=True, expose_value=False,
                             type=kwargs.get("type"),
                             callback=_store_alias(dest, old, new),
                             is_eager=True)(f)
        return f
    return decorator


def quantity_option(*, required: bool = True, aliases: Iterable[str] = (),
                    help: str = "Contracts.", **kwargs: Any) -> Callable[[F], F]:
    return option("--quantity", aliases=aliases, required=required, help=help, **kwargs)


def price_option(*, required: bool = True, dest: str = "price",
                 help: str = "Limit price in (0, 1).", **kwargs: Any) -> Callable[[F], F]:
    return option("--price", dest, required=required, help=help, **kwargs)


def tif_option(*, choices: Iterable[str] = TIME_IN_FORCE, default: str = "gtc",
               aliases: Iterable[str] = (), value_aliases: dict[str, str] | None = None,
               dest: str = "time_in_force", help: str | None = None) -> Callable[[F], F]:
    """``--tif`` with lower-case values (any case accepted), the same on every command."""
    values = [c.lower() for c in choices]
    return option("--tif", dest, aliases=aliases, default=default.lower(), show_default=True,
                  type=LowerChoice(values, value_aliases),
                  help=help or f"Time in force: {', '.join(values)}.")


def venue_option(*, required: bool = True, help: str = "Venue name from the deployment."
                 ) -> Callable[[F], F]:
    return option("--venue", required=required, help=help)


def tool_venue_option(label: str) -> Callable[[F], F]:
    """``--venue NAME`` of a venue tool: which of the deployment's venues of this type
    (``venue_tool_settings`` reads it); needed only when the deployment has several."""
    return click.option("--venue", help=f"The deployment's {label} venue to use (with "
                        f"arbexec -c; needed only when it has several).")


def market_option(*, required: bool = True, help: str = "Market id on the venue."
                  ) -> Callable[[F], F]:
    return option("--market", required=required, help=help)


class _LegacyPositionals(click.Argument):
    """Positional values an older release took, kept working but not shown in usage."""

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        return []


def legacy_positionals(*names: str) -> Callable[[F], F]:
    """Accept ``command VENUE MARKET`` from older releases as ``--venue --market``:
    each value goes to the option of the same name, with a warning naming the option."""

    def callback(ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> None:
        if not values:
            return
        if len(values) > len(names):
            raise click.UsageError(f"unexpected argument {values[len(names)]!r}")
        spelled = " ".join(f"--{n} {v}" for n, v in zip(names, values, strict=False))
        deprecation("positional " + " ".join(n.upper() for n in names[:len(values)]),
                    spelled)
        for name, value in zip(names, values, strict=False):
            ctx.meta.setdefault(_ALIASES, {})[name] = (f"positional {name.upper()}", value)

    def decorator(f: F) -> F:
        return click.argument("legacy_positionals", nargs=-1, expose_value=False,
                              callback=callback, is_eager=True,
                              cls=_LegacyPositionals)(f)
    return decorator


def timestamp_seconds(_ctx: click.Context | None, param: click.Parameter | None,
                      value: str | None) -> Decimal | None:
    """``--timestamp``: unix seconds (a fraction allowed); milliseconds are refused with
    the fix, since a venue that signs milliseconds would otherwise sign year 55,000."""
    if value is None:
        return None
    try:
        seconds = Decimal(str(value))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not unix seconds", param=param) from None
    if not seconds.is_finite() or seconds < 0:
        raise click.BadParameter(f"{value!r} is not unix seconds", param=param)
    if seconds >= 10**11:
        raise click.BadParameter(
            f"{value} looks like milliseconds; give unix seconds (e.g. "
            f"{seconds / 1000:f})", param=param)
    return seconds


def doctor_options(*, environments: Iterable[str], default_environment: str,
                   proxy_env: str | None = None) -> Callable[[F], F]:
    """``--offline``, ``--proxy`` and ``--environment``: the same on every venue's doctor."""
    names = list(environments)

    def decorator(f: F) -> F:
        f = click.option("--offline", is_flag=True,
                         help="Only check the local configuration; send nothing.")(f)
        default = f"env {proxy_env}" if proxy_env else "the deployment's"
        f = click.option("--proxy", help=f"http(s):// or socks5:// proxy URL (default: "
                         f"{default}).")(f)
        f = click.option("--environment", type=LowerChoice(names),
                         help=f"{' or '.join(names)} (default: the deployment's, else "
                         f"{default_environment}).")(f)
        return f
    return decorator
