"""Every command of the ``arbexec`` tree, core and installed plugins, for the tests that
hold them all to the same vocabulary and error format."""

from __future__ import annotations

import click

from arbexec.cli import cli
from arbexec.cli_lazy import LazyCommand


def real(command: click.Command) -> click.Command:
    return command.load() if isinstance(command, LazyCommand) else command


def every_command() -> list[tuple[tuple[str, ...], click.Command]]:
    """(path, command) for every leaf command, and every group that takes options of its
    own (``scan``, ``pairs``: a group that runs when called alone), plugin commands loaded."""
    cli.load_plugin_commands(None)  # type: ignore[attr-defined]
    out: list[tuple[tuple[str, ...], click.Command]] = []

    def walk(path: tuple[str, ...], command: click.Command) -> None:
        command = real(command)
        if isinstance(command, click.Group):
            if path and option_names(command) - {"--help"}:
                out.append((path, command))
            for name, sub in sorted(command.commands.items()):
                walk((*path, name), sub)
        else:
            out.append((path, command))

    walk((), cli)
    return out


def option_names(command: click.Command, *, hidden: bool = True) -> set[str]:
    return {name for p in command.params if isinstance(p, click.Option)
            and (hidden or not p.hidden) for name in (*p.opts, *p.secondary_opts)}


ROOT_OPTIONS = option_names(cli) | {"--help", "--version"}
