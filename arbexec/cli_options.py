"""Parsing shared by command-line options."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import click


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
