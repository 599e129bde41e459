"""What a venue's own commands (``doctor``, ``build-order``, ``sign-request``, ...) read:
the deployment given with ``arbexec -c`` and the ``.env`` beside it, as the engine does.

A tool that read environment variables alone would check or sign with other settings than
the ones the engine trades with (another funder, another signature type, another key file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from attrs import field, frozen

from arbexec.errors import ConfigError, UserError


@frozen(kw_only=True)
class VenueToolSettings:
    """The deployment's table for one venue (secrets resolved, relative paths made relative
    to the deployment's folder) and the environment with its ``.env`` applied."""

    venue: str | None  # the deployment's name for the venue, None without one
    options: Mapping[str, Any] = field(factory=dict, repr=False)
    environ: Mapping[str, str] = field(factory=dict, repr=False)
    source: str | None = None  # the deployment file, for messages
    base_dir: Path = field(factory=Path.cwd)


def venue_tool_settings(venue_type: str, venue: str | None = None) -> VenueToolSettings:
    """Settings for a tool of venue type ``venue_type``.

    ``venue`` picks one of the deployment's venues by name (``--venue``); without it, the
    deployment's only venue of that type. Without a deployment (no ``-c`` and no
    ``ARBEXEC_CONFIG``) the options are empty and the environment (with a ``.env`` in the
    working folder) is all there is.
    """
    context = click.get_current_context(silent=True)
    app = context.find_root().obj if context is not None else None
    config_path = getattr(app, "config_path", None)
    if app is None or config_path is None:
        _load_dotenv(Path.cwd())
        if venue is not None:
            raise UserError(f"--venue {venue} names a deployment venue, but no deployment "
                            "is given: add -c deployment.toml (or set ARBEXEC_CONFIG)")
        return VenueToolSettings(venue=None, environ=dict(os.environ))
    deployment = app.deployment  # loads the .env beside it (and in the working folder)
    source = str(deployment.source)
    matching = [v for v in deployment.venues if v.type == venue_type]
    if venue is not None:
        entry = next((v for v in deployment.venues if v.name == venue), None)
        if entry is None:
            names = ", ".join(v.name for v in deployment.venues) or "none"
            raise ConfigError(f"no venue named {venue!r}; its venues: {names}",
                              source=source, key="venues")
        if entry.type != venue_type:
            raise ConfigError(f"venue {venue!r} is a {entry.type} venue, not {venue_type}",
                              source=source, key=entry.key)
    elif len(matching) > 1:
        names = ", ".join(v.name for v in matching)
        raise UserError(f"{source} has {len(matching)} {venue_type} venues ({names}); pick "
                        "one with --venue")
    else:
        entry = matching[0] if matching else None
    return VenueToolSettings(
        venue=None if entry is None else entry.name,
        options={} if entry is None else dict(entry.options),
        environ=dict(os.environ), source=source,
        base_dir=Path(config_path).resolve().parent)


def _load_dotenv(directory: Path) -> None:
    candidate = directory / ".env"
    if candidate.is_file():
        from dotenv import load_dotenv

        load_dotenv(candidate, override=False)
