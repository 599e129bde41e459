"""A well-behaved fake plugin: one venue, one rule, one sink, one source, one command."""

import click

from arbexec.api import ExchangeSpec, RiskRuleSpec, SinkSpec, SourceSpec, hookimpl


def _factory(settings):
    raise NotImplementedError


@hookimpl
def arbexec_exchanges():
    return [ExchangeSpec(name="fakevenue", factory=_factory, description="fake")]


@hookimpl
def arbexec_risk_rules():
    return [RiskRuleSpec(name="fake_rule", factory=_factory)]


@hookimpl
def arbexec_sinks():
    return [SinkSpec(name="fakesink", factory=_factory)]


@hookimpl
def arbexec_sources():
    return [SourceSpec(name="fakesource", factory=_factory)]


@click.command("fakecmd")
def fakecmd():
    """A command added by a plugin."""
    click.echo("fake command ran")


@hookimpl
def arbexec_register_commands(cli):
    cli.add_command(fakecmd)
