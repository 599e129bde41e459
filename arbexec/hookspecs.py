"""The extension points. Marker, entry-point group and hook prefix are all ``arbexec``.

How the host calls them (``arbexec.plugins.PluginHost``), for every hook below:

- Only functions marked ``@hookimpl`` are hook implementations. A function that merely has
  a hook's name is never called (``arbexec --json plugins`` notes it, so a forgotten marker
  is visible). A marked function whose name is no hook (a misspelling) fails the plugin
  (pluggy's ``check_pending``), unless it is marked ``@hookimpl(optionalhook=True)``.
- Each is called once, when its records are first needed (start-up), never per order:
  orders never pass through ``pm.hook``, so plugins add no per-order overhead.
- Each plugin's implementation is called on its own, so one plugin that raises or returns
  the wrong type is recorded as failed (``arbexec plugins`` shows why) and the others still
  load; what that plugin offered through *other* hooks stays available. In strict mode
  (``--strict``, ``ARBEXEC_STRICT_PLUGINS=1``) any such failure is an error instead.
  For the same reason these hooks take no ``wrapper=True`` / ``hookwrapper=True``
  implementations: a plugin declaring one is refused.
- Names are unique per kind. pluggy calls ``tryfirst`` implementations before plain ones
  and plain ones before ``trylast`` ones, and the first offer of a name wins: a
  ``@hookimpl(tryfirst=True)`` offering ``"jsonl"`` replaces the built-in jsonl sink, a
  ``trylast`` one only fills a gap. Two offers of a name at the same priority are a
  conflict, reported naming both distributions; the one registered first (built-ins, then
  entry points in discovery order) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from arbexec.specs import ExchangeSpec, LedgerSpec, RiskRuleSpec, SinkSpec, SourceSpec

PROJECT = "arbexec"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def arbexec_exchanges() -> Iterable[ExchangeSpec] | None:
    """Offer venue adapters, one ``ExchangeSpec`` per venue type.

    Called the first time the host needs the exchange types (checking a deployment,
    ``arbexec plugins``, building venues). Keep it cheap: import the adapter inside the
    spec's factory, not here.

    What a venue can do beyond the ``Exchange`` protocol it announces in its
    ``Capabilities``; for example ``list_markets=True`` with a ``list_markets(cursor,
    limit)`` method puts the venue's markets in the catalogue (``arbexec markets sync``).

    :returns: An iterable (a list, tuple or generator) of ``ExchangeSpec``. ``None`` or an
        empty list offers nothing.

    If it raises, or returns anything else (a single spec, a mapping, a list holding
    something that is not an ``ExchangeSpec``), none of its offers are used and the plugin
    is recorded as failed with the reason.

    Example::

        @hookimpl
        def arbexec_exchanges():
            return [ExchangeSpec(name="myvenue", factory=make_exchange)]
    """


@hookspec
def arbexec_risk_rules() -> Iterable[RiskRuleSpec] | None:
    """Offer risk rule types; a deployment's policy decides which run, in what order.

    Called the first time the host needs the rule types (loading a policy, ``arbexec
    plugins``). Installing a plugin never adds a rule to a policy by itself.

    :returns: An iterable of ``RiskRuleSpec``; ``None`` or an empty list offers nothing.

    If it raises or returns anything else, none of its offers are used and the plugin is
    recorded as failed with the reason.

    Example::

        @hookimpl
        def arbexec_risk_rules():
            return [RiskRuleSpec(name="strategy_budget", factory=StrategyBudget.from_params)]
    """


@hookspec
def arbexec_sinks() -> Iterable[SinkSpec] | None:
    """Offer result sink types (where events and results are written).

    Called the first time the host needs the sink types. A deployment's ``[sinks.*]``
    tables decide which sinks run.

    :returns: An iterable of ``SinkSpec``; ``None`` or an empty list offers nothing.

    If it raises or returns anything else, none of its offers are used and the plugin is
    recorded as failed with the reason.

    Example::

        @hookimpl
        def arbexec_sinks():
            return [SinkSpec(name="webhook", factory=WebhookSink.from_settings)]
    """


@hookspec
def arbexec_sources() -> Iterable[SourceSpec] | None:
    """Offer request source types (where order requests come from).

    Called the first time the host needs the source types. A deployment's ``[source]``
    table decides which one runs.

    :returns: An iterable of ``SourceSpec``; ``None`` or an empty list offers nothing.

    If it raises or returns anything else, none of its offers are used and the plugin is
    recorded as failed with the reason.

    Example::

        @hookimpl
        def arbexec_sources():
            return [SourceSpec(name="redis", factory=RedisSource.from_settings)]
    """


@hookspec
def arbexec_register_commands(cli: click.Group) -> None:
    """Add CLI commands: one click group named after the plugin (``arbexec kalshi ...``).

    Called when a command line needs the plugins' commands (running one, or a help screen
    whose command index is out of date), before the command runs. Add a ``LazyCommand`` so
    that ``arbexec --help`` does not import the plugin's implementation.

    :param cli: The root ``arbexec`` group; call ``cli.add_command(...)`` on it.
    :returns: ``None``. Anything else is recorded as a failure of the plugin (the commands it
        added stay).

    If it raises, the plugin is recorded as failed; ``arbexec plugins`` and every other
    command keep working.

    Example::

        @hookimpl
        def arbexec_register_commands(cli):
            cli.add_command(LazyCommand("kalshi", "arbexec_kalshi.cli:kalshi_group",
                                        help="Kalshi: sign requests, check credentials."))
    """


@hookspec
def arbexec_ledgers() -> Iterable[LedgerSpec] | None:
    """Offer shared ledger types: the exposure ledger and halt flag several engines share.

    Called the first time the host needs the ledger types. A deployment's ``[ledger]``
    table (``type = "redis"``) picks one; without it each engine keeps its own ledger in
    memory (rebuilt from its journal) and its halt flag in its journal.

    :returns: An iterable of ``LedgerSpec``; ``None`` or an empty list offers nothing.

    Example::

        @hookimpl
        def arbexec_ledgers():
            return [LedgerSpec(name="redis", factory=RedisShared.from_settings)]
    """
