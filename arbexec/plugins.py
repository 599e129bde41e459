"""The plugin host: built-ins and entry points loaded into one pluggy manager.

Entry points are loaded one by one, each inside its own ``try``: a plugin that fails to
import, implements a hook that does not exist (pluggy's ``check_pending``), raises in a hook
or returns the wrong type, or offers a name another distribution offers at the same
priority is recorded in its ``PluginRecord`` and never takes the CLI down. ``strict`` turns
every such failure into an error. Hooks are called through pluggy (``pm.hook`` and
``pm.subset_hook_caller``), so only ``@hookimpl`` functions run and ``tryfirst`` /
``trylast`` order them; the contract each hook keeps is in ``arbexec.hookspecs``. Nothing
outside this module touches ``pm.hook``.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pluggy
from attrs import define, evolve, field, frozen

from arbexec import hookspecs
from arbexec.errors import PluginConflictError, PluginError, UnknownNameError
from arbexec.specs import ExchangeSpec, LedgerSpec, RiskRuleSpec, SinkSpec, SourceSpec

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

Spec = TypeVar("Spec", ExchangeSpec, RiskRuleSpec, SinkSpec, SourceSpec, LedgerSpec)

_KINDS: dict[str, tuple[str, type]] = {
    "exchange": ("arbexec_exchanges", ExchangeSpec),
    "risk_rule": ("arbexec_risk_rules", RiskRuleSpec),
    "sink": ("arbexec_sinks", SinkSpec),
    "source": ("arbexec_sources", SourceSpec),
    "ledger": ("arbexec_ledgers", LedgerSpec),
}

#: pluggy's call order, as a priority: tryfirst, then plain, then trylast.
_PRIORITY_NAMES = ("tryfirst", "plain", "trylast")


def _priority(impl: pluggy.HookImpl) -> int:
    return 0 if impl.tryfirst else 2 if impl.trylast else 1


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
    notes: tuple[str, ...] = ()  # not failures: overridden names, unmarked hook functions

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "hooks": list(self.hooks),
            "provides": {k: list(v) for k, v in self.provides.items()},
            "notes": list(self.notes),
        }


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _core_version() -> str:
    import arbexec

    return arbexec.__version__


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


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
    _order: list[str] = field(factory=list)  # registration order: who keeps a contested name
    _cache: dict[str, dict[str, Any]] = field(factory=dict)
    _notes: dict[str, dict[str, list[str]]] = field(factory=dict)  # kind -> plugin -> notes

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
        """Register one plugin object; record a failure instead of raising (unless strict).

        pluggy registers only ``@hookimpl`` functions and checks their arguments against
        the specs; ``check_pending`` then refuses implementations of hooks that do not
        exist (other than ``optionalhook`` ones)."""
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # pluggy raises ValueError/PluginValidationError
            return self._fail(name, distribution, version, f"{type(exc).__name__}: {exc}")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            unknown = sorted(c.name for c in self.pm.get_hookcallers(plugin) or ()
                             if not c.has_spec())
            self.pm.unregister(plugin)
            return self._fail(
                name, distribution, version,
                f"implements hooks that do not exist: {', '.join(unknown)} "
                f"(known hooks: {', '.join(self.hook_names())})",
            )
        wrappers = sorted(c.name for c in self.pm.get_hookcallers(plugin) or ()
                          for i in c.get_hookimpls()
                          if i.plugin is plugin and (i.wrapper or i.hookwrapper))
        if wrappers:
            self.pm.unregister(plugin)
            return self._fail(name, distribution, version,
                              f"wraps {', '.join(wrappers)}; arbexec hooks take no wrappers "
                              "(each plugin's offers are collected on their own)")
        self._dists[name] = (distribution, version)
        self._order.append(name)
        self._records[name] = PluginRecord(
            name=name, distribution=distribution, version=version, status="ok",
            hooks=tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or ())),
            notes=tuple(self._unmarked(plugin)),
        )
        self._cache.clear()
        return True

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self._records.pop(name, None)
        self._dists.pop(name, None)
        if name in self._order:
            self._order.remove(name)
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
        previous = self._records.get(name)
        self._records[name] = PluginRecord(
            name=name, distribution=distribution, version=version, status="failed",
            error=error, hooks=previous.hooks if previous else (),
            notes=previous.notes if previous else (),
        )
        if self.strict:
            raise PluginError(f"plugin {name!r} from {distribution} {version}: {error}")
        return False

    # ------------------------------------------------------------------ introspection

    def hook_names(self) -> list[str]:
        return sorted(n for n in dir(hookspecs) if n.startswith(f"{hookspecs.PROJECT}_"))

    def _unmarked(self, plugin: object) -> list[str]:
        """Functions named like a hook but not marked ``@hookimpl``: never called, noted."""
        marked = {c.name for c in self.pm.get_hookcallers(plugin) or ()}
        return [f"{n} is not marked @hookimpl, so it is never called"
                for n in self.hook_names()
                if n not in marked and callable(getattr(plugin, n, None))]

    def records(self) -> list[PluginRecord]:
        """Every plugin with what it provides (collecting provisions records conflicts)."""
        provided: dict[str, dict[str, list[str]]] = {}
        for kind in _KINDS:
            try:
                for spec_name, owner in self._owners(kind).items():
                    provided.setdefault(owner, {}).setdefault(kind, []).append(spec_name)
            except PluginError:
                pass  # recorded on the offending plugins by _collect
        out = []
        for name, record in self._records.items():
            provides = {k: tuple(sorted(v)) for k, v in provided.get(name, {}).items()}
            notes = record.notes + tuple(
                note for by_plugin in self._notes.values() for note in by_plugin.get(name, ()))
            out.append(evolve(record, provides=provides, notes=notes))
        return out

    def failures(self) -> list[PluginRecord]:
        return [r for r in self._records.values() if r.status == "failed"]

    # ------------------------------------------------------------------ calling hooks

    def _implementations(self, hook_name: str) -> list[pluggy.HookImpl]:
        """The hook's implementations by pluggy's priority (tryfirst, plain, trylast), then
        registration order (built-ins first)."""
        caller = getattr(self.pm.hook, hook_name)
        rank = {name: i for i, name in enumerate(self._order)}
        impls = [i for i in caller.get_hookimpls() if i.plugin_name in rank]
        return sorted(impls, key=lambda i: (_priority(i), rank[i.plugin_name]))

    def _call_one(self, hook_name: str, impl: pluggy.HookImpl, **kwargs: Any) -> list[Any]:
        """Call one plugin's implementation through pluggy (its markers apply)."""
        others = [p for p in self.pm.get_plugins() if p is not impl.plugin]
        result: list[Any] = self.pm.subset_hook_caller(hook_name, remove_plugins=others)(
            **kwargs)
        return result

    def _plugin_fail(self, plugin_name: str, error: str) -> None:
        dist, version = self._dists.get(plugin_name, ("?", "?"))
        self._fail(plugin_name, dist, version, error)

    # ------------------------------------------------------------------ typed registries

    def exchanges(self) -> dict[str, ExchangeSpec]:
        return self._collect("exchange")

    def risk_rules(self) -> dict[str, RiskRuleSpec]:
        return self._collect("risk_rule")

    def sinks(self) -> dict[str, SinkSpec]:
        return self._collect("sink")

    def sources(self) -> dict[str, SourceSpec]:
        return self._collect("source")

    def ledgers(self) -> dict[str, LedgerSpec]:
        return self._collect("ledger")

    def register_commands(self, cli: Any) -> None:
        """Let each plugin add its click group; a failing plugin is recorded, not fatal."""
        hook = "arbexec_register_commands"
        for impl in self._implementations(hook):
            try:
                returned = self._call_one(hook, impl, cli=cli)
            except Exception as exc:
                self._plugin_fail(impl.plugin_name,
                                  f"{hook} failed: {type(exc).__name__}: {exc}")
                continue
            if returned:
                self._plugin_fail(impl.plugin_name, f"{hook} returned "
                                  f"{_type_name(returned[0])}; it must return None")

    def _owners(self, kind: str) -> dict[str, str]:
        self._collect(kind)
        return self._cache[f"{kind}:owners"]

    def _offers(self, hook_name: str, spec_type: type, impl: pluggy.HookImpl) -> list[Any]:
        """One plugin's offers, or a recorded failure (and no offers)."""
        try:
            returned = self._call_one(hook_name, impl)
        except Exception as exc:
            self._plugin_fail(impl.plugin_name,
                              f"{hook_name} failed: {type(exc).__name__}: {exc}")
            return []
        if not returned:
            return []  # None: offers nothing
        value = returned[0]
        expected = f"an iterable of {spec_type.__name__}"
        if isinstance(value, str | bytes | Mapping | spec_type) or not isinstance(
                value, Iterable):
            self._plugin_fail(impl.plugin_name,
                              f"{hook_name} returned {_type_name(value)}, expected {expected}")
            return []
        offered = list(value)
        bad = [o for o in offered if not isinstance(o, spec_type)]
        if bad:
            self._plugin_fail(impl.plugin_name, f"{hook_name} returned a "
                              f"{_type_name(value)} holding {_type_name(bad[0])}, expected "
                              f"{expected}")
            return []
        return offered

    def _collect(self, kind: str) -> dict[str, Any]:
        if kind in self._cache:
            return self._cache[kind]
        hook_name, spec_type = _KINDS[kind]
        label = kind.replace("_", " ")
        specs: dict[str, Any] = {}
        owners: dict[str, str] = {}
        ranks: dict[str, int] = {}
        notes = self._notes[kind] = {}
        for impl in self._implementations(hook_name):
            plugin_name, priority = impl.plugin_name, _priority(impl)
            dist, version = self._dists.get(plugin_name, ("?", "?"))
            for spec in self._offers(hook_name, spec_type, impl):
                if spec.name not in specs:
                    specs[spec.name], owners[spec.name] = spec, plugin_name
                    ranks[spec.name] = priority
                    continue
                other = owners[spec.name]
                other_dist, other_version = self._dists.get(other, ("?", "?"))
                if ranks[spec.name] < priority:  # an earlier tier already won the name
                    notes.setdefault(plugin_name, []).append(
                        f"{label} {spec.name!r} ({_PRIORITY_NAMES[priority]}) is overridden "
                        f"by {other_dist} {other_version} ({_PRIORITY_NAMES[ranks[spec.name]]})")
                    continue
                message = (
                    f"{label} {spec.name!r} is offered by both {other_dist} {other_version} "
                    f"and {dist} {version}; uninstall one, block one with "
                    f"{ENV_DISABLE}={plugin_name}, or mark the one to prefer "
                    "@hookimpl(tryfirst=True)"
                )
                if self.strict:
                    raise PluginConflictError(message)
                self._fail(plugin_name, dist, version, f"conflict: {message}")
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
        hint = f"; install the plugin that provides it ({install_hint(name)})" if (
            kind == "exchange") else ""
        failed = self.failures()
        failed_hint = (
            "; plugins that failed to load: "
            + ", ".join(f"{r.distribution} ({r.error})" for r in failed)
            if failed else ""
        )
        available = ", ".join(sorted(specs)) or "none"
        prefix = f"{where}: " if where else ""
        from arbexec.suggest import did_you_mean

        raise UnknownNameError(
            f"{prefix}unknown {label} {name!r}{did_you_mean(name, specs)}; available: "
            f"{available}{hint}{failed_hint}"
        )


def install_hint(venue: str) -> str:
    """How to install a venue plugin: from the repository, since arbexec's packages are not
    on the public index (a name there could be anyone's package)."""
    return (f"a venue of the arbexec repository installs from a checkout: "
            f"pip install ./plugins/arbexec-{venue}; arbexec packages are not on PyPI")
