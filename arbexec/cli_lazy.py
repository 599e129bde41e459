"""Plugin commands that import their code only when run.

``arbexec --help`` lists every plugin's command group; building those groups must not import
the plugins' implementations (eth-account, cryptography, ...). A plugin registers::

    @hookimpl
    def arbexec_register_commands(cli):
        cli.add_command(LazyCommand("kalshi", "arbexec_kalshi.cli:kalshi_group",
                                    help="Kalshi: sign requests, check credentials."))
"""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyCommand(click.Command):
    """A placeholder that becomes the real command (often a group) when invoked."""

    def __init__(self, name: str, target: str, *, help: str) -> None:
        super().__init__(name=name, help=help, short_help=help)
        self._target = target
        self._loaded: click.Command | None = None

    def load(self) -> click.Command:
        if self._loaded is None:
            module_name, _, attribute = self._target.partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._target} is not a click command")
            self._loaded = command
        return self._loaded

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        return self.load().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.load().invoke(ctx)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self.load().get_params(ctx)
