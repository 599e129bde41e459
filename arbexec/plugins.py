"""The plugin host: built-ins and entry points loaded into one pluggy manager.

Entry points are loaded one by one, each inside its own ``try``: a plugin that fails to
import, implements a hook that does not exist, or offers a name another distribution already
offers is recorded in the ``LoadReport`` and never takes the CLI down. ``strict`` turns every
such failure into an error. Nothing outside this module touches ``pm.hook``.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import pluggy
from attrs import define, field, frozen

from arbexec import hookspecs
from arbexec.errors import PluginConflictError, PluginError, UnknownNameError
from arbexec.specs import ExchangeSpec, RiskRuleSpec, SinkSpec, SourceSpec

ENTRY_POINT_GROUP = "arbexec"
BUILTIN_PLUGINS: tuple[str, ...] = (
    "arbexec.builtin.risk",
    "arbexec.builtin.sinks",
    "arbexec.builtin.sources",
)
CORE_DISTRIBUTION = "arbexec"

#: ``ARBEXEC_DISABLE_PLUGINS=kalshi,polymarket`` blocks named entry points.
ENV_DISABLE = "ARBEXEC_DISABLE_PLUGINS"
#: ``ARBEXEC_NO_PLUGINS=1`` loads built-ins only.
ENV_NO_PLUGINS = "ARBEXEC_NO_PLUGINS"
#: ``ARBEXEC_STRICT_PLUGINS=1`` makes any load failure fatal.
ENV_STRICT = "ARBEXEC_STRICT_PLUGINS"

Spec = TypeVar("Spec", ExchangeSpec, RiskRuleSpec, SinkSpec, SourceSpec)

_KINDS: dict[str, tuple[str, type]] = {
    "exchange": ("arbexec_exchanges", ExchangeSpec),
    "risk_rule": ("arbexec_risk_rules", RiskRuleSpec),
    "sink": ("arbexec_sinks", SinkSpec),
    "source": ("arbexec_sources", SourceSpec),
}


@frozen(kw_only=True)
class PluginRecord:
    """One loaded (or failed) plugin, for ``arbexec plugins``."""

    name: str  # entry-point name, or the module name of a built-in
    distribution: str
    version: str
    status: str  # "ok", "blocked" or "failed"
    error: str | None = None
    hooks: tuple[str, ...] = ()
    provides: Mapping[str, tuple[str, ...]] = field(factory=dict, hash=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "hooks": list(self.hooks),
            "provides": {k: list(v) for k, v in self.provides.items()},
        }


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _core_version() -> str:
    try:
        return metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


@define
class PluginHost:
    """Owns the plugin manager and exposes a typed method per hook.

    Built once per process (the CLI) or per test. Name registries are collected lazily and
    cached; each record is attributed to the distribution that offered it.
    """

    pm: pluggy.PluginManager
    strict: bool = False
    _records: dict[str, PluginRecord] = field(factory=dict)
    _dists: dict[str, tuple[str, str]] = field(factory=dict)  # plugin name -> (dist, version)
    _cache: dict[str, dict[str, Any]] = field(factory=dict)

    # ------------------------------------------------------------------ construction

    @classmethod
    def create(
        cls,
        *,
        entry_points: bool = True,
        blocked: Iterable[str] = (),
        strict: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> PluginHost:
        env = os.environ if environ is None else environ
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        host = cls(pm=pm, strict=_truthy(env.get(ENV_STRICT)) if strict is None else strict)
        for module_name in BUILTIN_PLUGINS:
            host.register(importlib.import_module(module_name), name=module_name,
                          distribution=CORE_DISTRIBUTION, version=_core_version())
        blocked_names = set(blocked) | {
            n.strip() for n in env.get(ENV_DISABLE, "").split(",") if n.strip()
        }
        if entry_points and not _truthy(env.get(ENV_NO_PLUGINS)):
            host.load_entry_points(blocked_names)
        return host

    def register(
        self, plugin: object, *, name: str, distribution: str = "(local)", version: str = ""
    ) -> bool:
        """Register one plugin object; record a failure instead of raising (unless strict)."""
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # pluggy raises ValueError/PluginValidationError
            return self._fail(name, distribution, version, f"{type(exc).__name__}: {exc}")
        unknown = self._unknown_hooks(plugin)
        if unknown:
            self.pm.unregister(plugin)
            return self._fail(
                name, distribution, version,
                f"implements hooks that do not exist: {', '.join(unknown)} "
                f"(known hooks: {', '.join(self.hook_names())})",
            )
        self._dists[name] = (distribution, version)
        self._records[name] = PluginRecord(
            name=name, distribution=distribution, version=version, status="ok",
            hooks=tuple(self._hooks_of(plugin)),
        )
        self._cache.clear()
        return True

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self._records.pop(name, None)
        self._dists.pop(name, None)
        self._cache.clear()

    def load_entry_points(self, blocked: set[str] | None = None) -> None:
        blocked = blocked or set()
        for dist in metadata.distributions():
            for ep in dist.entry_points:
                if ep.group != ENTRY_POINT_GROUP:
                    continue
                dist_name = dist.metadata["Name"] or "?"
                version = dist.version or "?"
                seen = ep.name in self._records or self.pm.get_plugin(ep.name) is not None
                if seen and self._dists.get(ep.name, ("",))[0] == dist_name:
                    continue  # the same distribution visible twice on sys.path: keep the first
                if ep.name in blocked:
                    self._records[ep.name] = PluginRecord(
                        name=ep.name, distribution=dist_name, version=version, status="blocked"
                    )
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:
                    self._fail(ep.name, dist_name, version,
                               f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
                    continue
                self.register(plugin, name=ep.name, distribution=dist_name, version=version)

    def _fail(self, name: str, distribution: str, version: str, error: str) -> bool:
        self._records[name] = PluginRecord(
            name=name, distribution=distribution, version=version, status="failed", error=error
        )
        if self.strict:
            raise PluginError(f"plugin {name!r} from {distribution} {version}: {error}")
        return False

    # ------------------------------------------------------------------ introspection

    def hook_names(self) -> list[str]:
        return sorted(n for n in dir(hookspecs) if n.startswith(f"{hookspecs.PROJECT}_"))

    def _hooks_of(self, plugin: object) -> list[str]:
        return [n for n in dir(plugin) if n.startswith(f"{hookspecs.PROJECT}_")]

    def _unknown_hooks(self, plugin: object) -> list[str]:
        known = set(self.hook_names())
        return [n for n in self._hooks_of(plugin) if n not in known]

    def records(self) -> list[PluginRecord]:
        """Every plugin with what it provides (collecting provisions records conflicts)."""
        provided: dict[str, dict[str, list[str]]] = {}
        for kind in _KINDS:
            try:
                for spec_name, owner in self._owners(kind).items():
                    provided.setdefault(owner, {}).setdefault(kind, []).append(spec_name)
            except PluginConflictError:
                pass  # recorded on the offending plugins by _collect
        out = []
        for name, record in self._records.items():
            provides = {k: tuple(sorted(v)) for k, v in provided.get(name, {}).items()}
            out.append(PluginRecord(
                name=record.name, distribution=record.distribution, version=record.version,
                status=record.status, error=record.error, hooks=record.hooks, provides=provides,
            ))
        return out

    def failures(self) -> list[PluginRecord]:
        return [r for r in self._records.values() if r.status == "failed"]

    # ------------------------------------------------------------------ typed registries

    def exchanges(self) -> dict[str, ExchangeSpec]:
        return self._collect("exchange")

    def risk_rules(self) -> dict[str, RiskRuleSpec]:
        return self._collect("risk_rule")

    def sinks(self) -> dict[str, SinkSpec]:
        return self._collect("sink")

    def sources(self) -> dict[str, SourceSpec]:
        return self._collect("source")

    def register_commands(self, cli: Any) -> None:
        """Let each plugin add its click group; a failing plugin is recorded, not fatal."""
        for name, plugin in list(self.pm.list_name_plugin()):
            impl = getattr(plugin, "arbexec_register_commands", None)
            if impl is None:
                continue
            try:
                impl(cli=cli)
            except Exception as exc:
                dist, version = self._dists.get(name, ("?", "?"))
                self._fail(name, dist, version,
                           f"arbexec_register_commands failed: {type(exc).__name__}: {exc}")

    def _owners(self, kind: str) -> dict[str, str]:
        self._collect(kind)
        return self._cache[f"{kind}:owners"]

    def _collect(self, kind: str) -> dict[str, Any]:
        if kind in self._cache:
            return self._cache[kind]
        hook_name, spec_type = _KINDS[kind]
        specs: dict[str, Any] = {}
        owners: dict[str, str] = {}
        for plugin_name, plugin in list(self.pm.list_name_plugin()):
            impl: Callable[[], Any] | None = getattr(plugin, hook_name, None)
            if impl is None or plugin_name not in self._records:
                continue
            dist, version = self._dists.get(plugin_name, ("?", "?"))
            try:
                offered = list(impl() or ())
                bad = [o for o in offered if not isinstance(o, spec_type)]
                if bad:
                    raise TypeError(f"{hook_name} returned {type(bad[0]).__name__}, "
                                    f"expected {spec_type.__name__}")
            except Exception as exc:
                self._fail(plugin_name, dist, version,
                           f"{hook_name} failed: {type(exc).__name__}: {exc}")
                continue
            for spec in offered:
                if spec.name in specs:
                    other = owners[spec.name]
                    other_dist, other_version = self._dists.get(other, ("?", "?"))
                    message = (
                        f"{kind.replace('_', ' ')} {spec.name!r} is offered by both "
                        f"{other_dist} {other_version} and {dist} {version}; uninstall one, or "
                        f"block one with {ENV_DISABLE}={plugin_name}"
                    )
                    if self.strict:
                        raise PluginConflictError(message)
                    self._records[plugin_name] = PluginRecord(
                        name=plugin_name, distribution=dist, version=version, status="failed",
                        error=f"conflict: {message}", hooks=self._records[plugin_name].hooks,
                    )
                    continue
                specs[spec.name] = spec
                owners[spec.name] = plugin_name
        self._cache[kind] = specs
        self._cache[f"{kind}:owners"] = owners
        return specs

    def owner_of(self, kind: str, name: str) -> tuple[str, str] | None:
        """(distribution, version) offering ``name`` of ``kind``, or None."""
        owner = self._owners(kind).get(name)
        return None if owner is None else self._dists.get(owner)

    def require(self, kind: str, name: str, *, where: str = "") -> Any:
        """The spec named ``name`` or a ``UnknownNameError`` that says what to install."""
        specs = self._collect(kind)
        if name in specs:
            return specs[name]
        label = kind.replace("_", " ")
        hint = f"; install the plugin that provides it (pip install arbexec-{name})" if (
            kind == "exchange") else ""
        failed = [r for r in self.failures()]
        failed_hint = (
            "; plugins that failed to load: "
            + ", ".join(f"{r.distribution} ({r.error})" for r in failed)
            if failed else ""
        )
        available = ", ".join(sorted(specs)) or "none"
        prefix = f"{where}: " if where else ""
        raise UnknownNameError(
            f"{prefix}unknown {label} {name!r}; available: {available}{hint}{failed_hint}"
        )


_default_host: PluginHost | None = None


def default_host() -> PluginHost:
    """The process-wide host, built on first use."""
    global _default_host
    if _default_host is None:
        _default_host = PluginHost.create()
    return _default_host


def find_exchange_spec(name: str) -> ExchangeSpec:
    """The installed exchange type ``name`` (for plugins that build on another venue, such as
    the paper venue's shadow mode). Raises ``UnknownNameError`` when none offers it."""
    spec: ExchangeSpec = default_host().require("exchange", name)
    return spec
