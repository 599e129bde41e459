"""The extension points. Marker, entry-point group and hook prefix are all ``arbexec``.

Every hook is called once, at start-up, and returns small records; orders never pass
through ``pm.hook``, so plugins add no per-order overhead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from arbexec.specs import ExchangeSpec, RiskRuleSpec, SinkSpec, SourceSpec

PROJECT = "arbexec"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def arbexec_exchanges() -> Iterable[ExchangeSpec]:
    """Offer venue adapters, one ``ExchangeSpec`` per venue type.

    Example::

        @hookimpl
        def arbexec_exchanges():
            return [ExchangeSpec(name="myvenue", factory=make_exchange)]
    """


@hookspec
def arbexec_risk_rules() -> Iterable[RiskRuleSpec]:
    """Offer risk rule types; a deployment's policy decides which run, in what order.

    Example::

        @hookimpl
        def arbexec_risk_rules():
            return [RiskRuleSpec(name="strategy_budget", factory=StrategyBudget.from_params)]
    """


@hookspec
def arbexec_sinks() -> Iterable[SinkSpec]:
    """Offer result sink types (where events and results are written).

    Example::

        @hookimpl
        def arbexec_sinks():
            return [SinkSpec(name="webhook", factory=WebhookSink.from_settings)]
    """


@hookspec
def arbexec_sources() -> Iterable[SourceSpec]:
    """Offer request source types (where order requests come from).

    Example::

        @hookimpl
        def arbexec_sources():
            return [SourceSpec(name="redis", factory=RedisSource.from_settings)]
    """


@hookspec
def arbexec_register_commands(cli: click.Group) -> None:
    """Add CLI commands: one click group named after the plugin (``arbexec kalshi ...``).

    Example::

        @hookimpl
        def arbexec_register_commands(cli):
            cli.add_command(kalshi_group, name="kalshi")
    """
