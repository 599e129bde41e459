"""Wiring: a deployment plus the installed plugins become a running engine.

Every configured name is checked against the plugin host first, so a missing plugin is one
clear error (naming the package to install) before any venue is contacted.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from attrs import define, field

from arbexec.config import Deployment, PluginConfig
from arbexec.engine import Engine, PolicyLike
from arbexec.errors import ConfigError, UnknownNameError
from arbexec.exchange import Exchange, ExchangeSettings
from arbexec.halt import HaltFlag, JournalHaltFlag
from arbexec.journal import Journal
from arbexec.ledger import InMemoryLedger
from arbexec.plugins import PluginHost
from arbexec.shared import SharedSettings, SharedState
from arbexec.sinks.base import Sink, SinkSettings
from arbexec.sinks.hub import SinkHub
from arbexec.sources.base import Source, SourceSettings
from arbexec.specs import ExchangeSpec


def check_names(deployment: Deployment, host: PluginHost) -> list[str]:
    """Every problem with the names a deployment uses, as one line each."""
    problems = []
    for kind, entries in (("exchange", deployment.venues), ("sink", deployment.sinks)):
        for entry in entries:
            try:
                host.require(kind, entry.type, where=f"{deployment.source}:{entry.key}")
            except UnknownNameError as exc:
                problems.append(str(exc))
    if deployment.ledger is not None:
        try:
            host.require("ledger", deployment.ledger.type, where=f"{deployment.source}:ledger")
        except UnknownNameError as exc:
            problems.append(str(exc))
    if deployment.request_source is not None:
        try:
            host.require("source", deployment.request_source.type,
                         where=f"{deployment.source}:source")
        except UnknownNameError as exc:
            problems.append(str(exc))
    rules = host.risk_rules()
    for i, table in enumerate(deployment.risk_rules):
        name = table.get("rule")
        if name not in rules:
            from arbexec.suggest import did_you_mean

            available = ", ".join(sorted(rules)) or "none"
            problems.append(f"{deployment.source}:risk.rules[{i}].rule: unknown risk rule "
                            f"{name!r}{did_you_mean(name, rules)}; available: {available}")
    return problems


def build_policy(
    deployment: Deployment, host: PluginHost, *, policy_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> PolicyLike:
    """The deployment's policy: ``--policy FILE`` wins, then ``[risk] policy``, then
    ``[[risk.rules]]``; the legacy environment limits fill in what none of them sets."""
    from arbexec.risk import policy as policy_module

    available = host.risk_rules()
    chosen = policy_file or deployment.policy_file
    if chosen is not None:
        policy = policy_module.load_policy_file(chosen, available=available)
    elif deployment.risk_rules:
        policy = policy_module.load_policy(list(deployment.risk_rules), available=available,
                                           source=deployment.source, prefix="risk.rules")
    else:
        policy = policy_module.load_policy([], available=available, source=deployment.source,
                                           prefix="risk.rules")
    env = os.environ if environ is None else environ
    legacy: PolicyLike = policy_module.apply_legacy_env(policy, env, available=available)
    return legacy


def build_venue(entry: PluginConfig, deployment: Deployment, host: PluginHost, *,
                read_only: bool = False) -> Exchange:
    spec = host.require("exchange", entry.type, where=f"{deployment.source}:{entry.key}")
    def find_exchange_type(name: str) -> ExchangeSpec:
        found: ExchangeSpec = host.require("exchange", name, where=f"{deployment.source}:"
                                           f"{entry.key}.shadow.venue")
        return found

    settings = ExchangeSettings(name=entry.name, options=dict(entry.options),
                                state_dir=str(deployment.state_dir / "venues" / entry.name),
                                source=deployment.source, find_exchange_type=find_exchange_type,
                                read_only=read_only)
    try:
        return spec.factory(settings)
    except ConfigError as exc:
        raise in_deployment(exc, deployment, entry) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc), source=deployment.source, key=entry.key) from None
    except (OSError, sqlite3.Error) as exc:  # its state folder or file cannot be made
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        shown = settings.state_dir if len(settings.state_dir or "") <= 120 else (
            (settings.state_dir or "")[:117] + "...")
        raise ConfigError(f"cannot keep the venue's state under {shown}: {reason} (check "
                          "[journal] path and state_dir)", source=deployment.source,
                          key=entry.key) from None


def build_sinks(deployment: Deployment, host: PluginHost, *, json_output: bool,
                quiet: bool = False) -> list[Sink]:
    sinks = []
    for entry in deployment.sinks:
        if quiet and entry.type == "stdout":
            continue
        spec = host.require("sink", entry.type, where=f"{deployment.source}:{entry.key}")
        settings = SinkSettings(name=entry.name, options=dict(entry.options),
                                json_output=json_output, source=deployment.source)
        try:
            sinks.append(spec.factory(settings))
        except ConfigError as exc:
            raise in_deployment(exc, deployment, entry) from None
        except (ValueError, TypeError, OSError) as exc:
            raise ConfigError(str(exc), source=deployment.source, key=entry.key) from None
    return sinks


def build_source(entry: PluginConfig, deployment: Deployment, host: PluginHost) -> Source:
    spec = host.require("source", entry.type, where=f"{deployment.source}:{entry.key}")
    try:
        source: Source = spec.factory(SourceSettings(
            name=entry.name, options=dict(entry.options), source=deployment.source))
    except ConfigError as exc:
        raise in_deployment(exc, deployment, entry) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc), source=deployment.source, key=entry.key) from None
    return source


def build_shared(deployment: Deployment, host: PluginHost, journal_path: Path) -> SharedState:
    """The ``[ledger]`` table's shared ledger and halt flag (a configured type only)."""
    entry = deployment.ledger
    assert entry is not None
    spec = host.require("ledger", entry.type, where=f"{deployment.source}:ledger")
    settings = SharedSettings(name=entry.name, options=dict(entry.options),
                              source=deployment.source, journal_path=str(journal_path),
                              state_dir=str(deployment.state_dir))
    try:
        shared: SharedState = spec.factory(settings)
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc), source=deployment.source, key="ledger") from None
    return shared
def in_deployment(exc: ConfigError, deployment: Deployment, entry: PluginConfig
                  ) -> ConfigError:
    """A plugin's ``ConfigError`` named by the deployment's file and full key: a plugin
    says ``chain_id``; the user needs ``deploy.toml:venues.pm.chain_id``."""
    if exc.source is not None:
        return exc
    key = entry.key if not exc.key else (
        exc.key if exc.key.startswith(entry.key) else f"{entry.key}.{exc.key}")
    return ConfigError(exc.detail, source=deployment.source, key=key)


@define
class Runtime:
    """An engine with everything it drives, opened together and closed together."""

    deployment: Deployment
    journal: Journal
    engine: Engine
    venues: dict[str, Exchange] = field(factory=dict)
    shared: SharedState | None = None

    async def aclose(self) -> None:
        try:
            await self.engine.aclose()
        finally:
            try:
                if self.shared is not None:
                    await self.shared.aclose()
            finally:
                self.journal.close()


def open_runtime(
    deployment: Deployment,
    host: PluginHost,
    *,
    journal_path: Path | None = None,
    policy_file: Path | None = None,
    json_output: bool = False,
    quiet: bool = False,
    extra_sinks: list[Sink] | None = None,
    venue_names: list[str] | None = None,
    lock: bool = True,
    policy: PolicyLike | None = None,
    read_only: bool = False,
) -> Runtime:
    """Check names, build venues, policy and sinks, open and lock the journal.

    ``read_only`` is for commands that only look: venues are told not to write their state
    and the journal refuses writes (no lock is taken)."""
    problems = check_names(deployment, host)
    if problems:
        raise UnknownNameError("\n".join(problems))
    chosen_policy = policy if policy is not None else build_policy(
        deployment, host, policy_file=policy_file)
    # settings only (it connects on first use), checked before any venue is built
    shared = None if deployment.ledger is None or read_only else build_shared(
        deployment, host, journal_path or deployment.journal_path)
    venues: dict[str, Exchange] = {}
    for entry in deployment.venues:
        if venue_names is None or entry.name in venue_names:
            venues[entry.name] = build_venue(entry, deployment, host, read_only=read_only)
    sinks = build_sinks(deployment, host, json_output=json_output, quiet=quiet)
    sinks.extend(extra_sinks or [])
    journal = Journal.open(journal_path or deployment.journal_path,
                           durability=deployment.durability, read_only=read_only)
    try:
        if lock and not read_only:
            journal.lock_for_engine()
    except BaseException:
        journal.close()
        raise
    engine = Engine(journal=journal, venues=venues,
                    halt=JournalHaltFlag(journal) if shared is None else cast(
                        HaltFlag, shared.halt),
                    hub=SinkHub(sinks), policy=chosen_policy, settings=deployment.engine,
                    market_events=dict(deployment.market_events),
                    ledger=InMemoryLedger() if shared is None else shared.ledger)
    return Runtime(deployment=deployment, journal=journal, engine=engine, venues=venues,
                   shared=shared)

