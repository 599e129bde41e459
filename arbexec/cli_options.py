"""Parsing shared by command-line options."""

from __future__ import annotations

from collections.abc import Iterable

import click


def parse_tag(text: str, option: str = "--tag") -> tuple[str, str]:
    """``NAME=VALUE`` -> (name, value); a clear usage error otherwise."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint=option)
    return name, value


def parse_tags(texts: Iterable[str], option: str = "--tag") -> dict[str, str]:
    return dict(parse_tag(text, option) for text in texts)
