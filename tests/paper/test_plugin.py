"""The plugin entry point offers the paper venue type and the ``paper`` command group."""

from __future__ import annotations

import subprocess
import sys

import click
from arbexec_paper import plugin

from arbexec.exchange import Exchange, ExchangeSettings


async def test_the_hook_offers_a_working_paper_venue():
    [spec] = plugin.arbexec_exchanges()
    assert spec.name == "paper"
    venue = spec.factory(ExchangeSettings(name="paper-a"))
    assert isinstance(venue, Exchange)
    assert venue.name == "paper-a"
    await venue.aclose()


def test_the_hook_adds_a_paper_command_group():
    cli = click.Group()
    plugin.arbexec_register_commands(cli)
    command = cli.commands["paper"]
    real = command.load() if hasattr(command, "load") else command
    assert set(real.commands) == {"resolve", "account"}  # type: ignore[attr-defined]


def test_importing_the_plugin_module_is_cheap():
    code = ("import sys, arbexec_paper.plugin; "
            "print(sorted(m for m in sys.modules if m.startswith('arbexec_paper')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['arbexec_paper', 'arbexec_paper.plugin']"


def test_the_installed_entry_point_is_found_by_the_core():
    from arbexec.plugins import PluginHost

    assert PluginHost.create().require("exchange", "paper").name == "paper"
