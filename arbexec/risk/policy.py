"""A deployment's risk policy: an ordered list of rules, built from config, run per order.

The policy comes from the ``[[risk.rules]]`` tables of the deployment file, or from a
separate policy file with a ``[[rules]]`` array chosen with ``--policy FILE``. Every table
names a rule offered by a plugin (``rule = "max_exposure"``) and sets its parameters. Every
mistake is a ``ConfigError`` naming the file and the key (``rules[2].max_notional``): an
unknown rule or a misspelt parameter must never silently drop a limit.

``Policy.evaluate`` runs on every order: rules in order, stopping at the first denial, and
collects the exposure claims the engine then reserves in its ledger all-or-none.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import field, frozen

from arbexec.errors import ConfigError
from arbexec.events import Event
from arbexec.model import OrderRequest
from arbexec.risk.base import Claim, Need, OutcomeObserver, RiskContext, RiskRule, Verdict
from arbexec.risk.rules import builtin_specs
from arbexec.risk.rules.params import ParameterError, unknown_name_message
from arbexec.specs import RiskRuleSpec
from arbexec.tomlfile import read_toml

KILL_SWITCH = "kill_switch"
PAIR_ALLOWED = Verdict(rule="pair", allowed=True)
_POLICY_FILE_KEYS = frozenset({"rules", "description"})


@frozen(kw_only=True)
class PolicyDecision:
    """The policy's answer for one request.

    ``verdict`` is the verdict that refused it (None when allowed); ``verdicts`` are those
    of the rules that ran; ``claims`` the exposure the engine must reserve before sending.
    """

    allowed: bool
    verdicts: tuple[Verdict, ...]
    claims: tuple[Claim, ...] = ()
    verdict: Verdict | None = None

    @property
    def code(self) -> str | None:
        return self.verdict.code if self.verdict is not None else None

    @property
    def message(self) -> str:
        return self.verdict.message if self.verdict is not None else ""


@frozen(kw_only=True)
class PolicyEntry:
    """One configured rule: the rule, its parameters as configured, and the spec that built
    it (kept so the legacy environment settings can rebuild it with one more parameter)."""

    rule: RiskRule
    params: Mapping[str, Any] = field(factory=dict, hash=False)
    spec: RiskRuleSpec | None = field(default=None, eq=False)


class Policy:
    """Ordered rules. ``needs`` tells the engine what to fetch before ``evaluate``."""

    __slots__ = ("_breakers", "_checks", "_pair_checks", "_previews", "_releasers", "_unwind",
                 "entries", "needs", "observers", "rules", "source")

    def __init__(self, rules: Iterable[RiskRule | PolicyEntry], *, source: str | None = None):
        self.entries: tuple[PolicyEntry, ...] = tuple(
            item if isinstance(item, PolicyEntry) else PolicyEntry(rule=item) for item in rules
        )
        self.rules: tuple[RiskRule, ...] = tuple(entry.rule for entry in self.entries)
        self.source = source
        self.needs: frozenset[Need] = frozenset().union(*(rule.needs for rule in self.rules))
        self.observers: tuple[OutcomeObserver, ...] = tuple(
            rule for rule in self.rules if callable(getattr(rule, "observe", None))  # type: ignore[misc]
        )
        self._checks = tuple((rule.name, rule.check) for rule in self.rules)
        self._previews = tuple(
            (rule.name, getattr(rule, "preview", None) or rule.check) for rule in self.rules
        )
        self._releasers = tuple(getattr(rule, "release", None) for rule in self.rules)
        # the pair extension points rules may offer (PairPolicyLike), found once
        self._pair_checks = tuple(check for rule in self.rules
                                  if callable(check := getattr(rule, "check_pair", None)))
        self._breakers = tuple(state for rule in self.rules if rule.name == "circuit_breaker"
                               and callable(state := getattr(rule, "state", None)))
        self._unwind: Decimal | None = next(
            (Decimal(bound) for rule in self.rules if rule.name == "unwind_bound"
             and (bound := getattr(rule, "max_unwind_loss", None)) is not None), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[RiskRule]:
        return iter(self.rules)

    def __repr__(self) -> str:
        where = f" from {self.source}" if self.source else ""
        return f"<Policy{where}: {', '.join(self.names) or 'no rules'}>"

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> PolicyDecision:
        """Run the rules in order; the first denial stops the run and nothing is claimed."""
        verdicts: list[Verdict] = []
        claims: list[Claim] = []
        for name, check in self._checks:
            try:
                verdict = check(request, ctx)
            except Exception as exc:  # a broken rule refuses rather than letting orders through
                verdict = _failed(name, exc)
            verdicts.append(verdict)
            if not verdict.allowed:
                self._release(request, len(verdicts) - 1)
                return PolicyDecision(allowed=False, verdicts=tuple(verdicts), verdict=verdict)
            if verdict.claims:
                claims.extend(verdict.claims)
        return PolicyDecision(allowed=True, verdicts=tuple(verdicts), claims=tuple(claims))

    def explain(self, request: OrderRequest, ctx: RiskContext) -> PolicyDecision:
        """Every rule's verdict, without stopping and without changing any rule's state
        (``arbexec risk explain``). ``verdict`` is the first denial, as ``evaluate`` would
        report it; ``claims`` are those of the allowing rules."""
        verdicts: list[Verdict] = []
        for name, preview in self._previews:
            try:
                verdicts.append(preview(request, ctx))
            except Exception as exc:
                verdicts.append(_failed(name, exc))
        denial = next((v for v in verdicts if not v.allowed), None)
        claims = tuple(claim for v in verdicts if v.allowed for claim in v.claims)
        return PolicyDecision(
            allowed=denial is None, verdicts=tuple(verdicts), claims=claims, verdict=denial
        )

    def release(self, request: OrderRequest) -> None:
        """Tell stateful rules that an allowed request was not sent after all (the ledger
        refused its claims), so a breaker's probe slot, for one, is freed."""
        self._release(request, len(self._releasers))

    def _release(self, request: OrderRequest, upto: int) -> None:
        for release in self._releasers[:upto]:
            if release is not None:
                release(request)

    def check_pair(self, first: OrderRequest, second: OrderRequest, first_ctx: RiskContext,
                   second_ctx: RiskContext) -> Verdict:
        """Both legs of an arbitrage pair, by every rule that judges pairs (``min_edge``):
        the first denial, else an allowing verdict."""
        for check in self._pair_checks:
            verdict: Verdict = check(first, second, first_ctx, second_ctx)
            if not verdict.allowed:
                return verdict
        return PAIR_ALLOWED

    def unwind_bound(self) -> Decimal | None:
        """The ``unwind_bound`` rule's ``max_unwind_loss``, or None without that rule."""
        return self._unwind

    def breaker_state(self, venue: str) -> str:
        """The venue's circuit breaker (``closed``, ``open``, ``half_open``); ``closed``
        when the policy has no breaker. The first breaker not closed speaks."""
        for state in self._breakers:
            value = str(getattr(state(venue), "value", state(venue)))
            if value != "closed":
                return value
        return "closed"

    def restore(self, read: Callable[..., Sequence[Event]]) -> None:
        """At start, each rule with a ``restore_state(read)`` rebuilds the memory that must
        outlive a process (the circuit breaker: an open breaker stays open; the order rate:
        the last minute's sends). ``read(kinds, within=None)`` gives the journal's events of
        those kinds, or of the last ``within`` seconds only."""
        for rule in self.rules:
            restore = getattr(rule, "restore_state", None)
            if restore is not None:
                restore(read)

    def drain_events(self) -> list[Event]:
        """Transitions rules made while checking (a breaker turning half-open); they are
        also returned by the next ``observe``, so calling this is optional."""
        events: list[Event] = []
        for rule in self.observers:
            drain = getattr(rule, "drain_events", None)
            if drain is not None:
                events.extend(drain())
        return events


def _failed(name: str, exc: Exception) -> Verdict:
    return Verdict.deny(
        name, "rule_error",
        f"rule {name} failed ({type(exc).__name__}: {exc}); the order is refused to stay safe",
    )


# ---------------------------------------------------------------------------- loading


def load_policy(
    tables: Sequence[Mapping[str, Any]],
    *,
    available: Mapping[str, RiskRuleSpec],
    source: str,
    prefix: str = "rules",
) -> Policy:
    """Build a policy from ``[[rules]]`` tables, in order.

    ``prefix`` is the key of the array in the file (``risk.rules`` in a deployment file).
    The kill switch runs first even when the tables do not list it.
    """
    if isinstance(tables, (str, bytes, Mapping)) or not isinstance(tables, Sequence):
        raise ConfigError(
            f"expected an array of tables ([[{prefix}]] with rule = \"<name>\"), "
            f"got {type(tables).__name__}",
            source=source, key=prefix,
        )
    entries = [
        build_entry(table, available=available, source=source, key=f"{prefix}[{index}]")
        for index, table in enumerate(tables)
    ]
    if KILL_SWITCH in available and all(entry.rule.name != KILL_SWITCH for entry in entries):
        entries.insert(0, build_entry({"rule": KILL_SWITCH}, available=available, source=source,
                                      key=f"{prefix}[kill_switch]"))
    return Policy(entries, source=source)


def build_entry(
    table: Mapping[str, Any], *, available: Mapping[str, RiskRuleSpec], source: str, key: str
) -> PolicyEntry:
    """One ``{rule = "<name>", <param> = <value>, ...}`` table -> a built rule."""
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"each rule is a table with rule = \"<name>\", got {type(table).__name__}",
            source=source, key=key,
        )
    name = table.get("rule")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"missing rule = \"<name>\"; available rules: {', '.join(sorted(available))}",
            source=source, key=f"{key}.rule",
        )
    spec = available.get(name)
    if spec is None:
        raise ConfigError(
            unknown_name_message("rule", name, available)
            + " (is the plugin that provides it installed? see `arbexec plugins`)",
            source=source, key=f"{key}.rule",
        )
    params = {k: v for k, v in table.items() if k != "rule"}
    for param, value in params.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{value} is not a finite number (rule {name})", source=source,
                              key=f"{key}.{param}")
    if spec.parameters:
        for param in params:
            if param not in spec.parameters:
                raise ConfigError(
                    unknown_name_message("parameter", param, spec.parameters)
                    + f" (rule {name})",
                    source=source, key=f"{key}.{param}",
                )
    return PolicyEntry(rule=_build(spec, params, source=source, key=key), params=params,
                       spec=spec)


def _build(
    spec: RiskRuleSpec, params: Mapping[str, Any], *, source: str, key: str,
    key_per_parameter: bool = True,
) -> RiskRule:
    try:
        return spec.factory(params)
    except ParameterError as exc:
        where = f"{key}.{exc.parameter}" if exc.parameter and key_per_parameter else key
        raise ConfigError(f"{exc.message} (rule {spec.name})", source=source, key=where) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        message = str(exc)
        param, _, rest = message.partition(":")
        if rest and key_per_parameter and param.strip() in spec.parameters:
            raise ConfigError(
                f"{rest.strip()} (rule {spec.name})", source=source,
                key=f"{key}.{param.strip()}",
            ) from None
        raise ConfigError(f"{message} (rule {spec.name})", source=source, key=key) from None


def load_policy_file(
    path: str | os.PathLike[str], available: Mapping[str, RiskRuleSpec]
) -> Policy:
    """Load a policy file (``--policy FILE``): a TOML file with a ``[[rules]]`` array."""
    source = str(path)
    data = read_toml(Path(path), what="policy file")
    for top in data:
        if top not in _POLICY_FILE_KEYS:
            raise ConfigError(
                unknown_name_message("key", top, _POLICY_FILE_KEYS)
                + "; a policy file holds [[rules]] tables",
                source=source, key=top,
            )
    if "rules" not in data:
        raise ConfigError(
            "no [[rules]] tables; add at least one, e.g. [[rules]] rule = \"order_size\" "
            "max_quantity = 100", source=source, key="rules",
        )
    return load_policy(data["rules"], available=available, source=source)


# ---------------------------------------------------------------------------- legacy env


@frozen(kw_only=True)
class LegacySetting:
    """An environment variable earlier deployments used, and the rule parameter it sets."""

    env: str
    rule: str
    parameter: str


LEGACY_ENV: tuple[LegacySetting, ...] = (
    LegacySetting(env="MAX_TRADE_SIZE", rule="order_size", parameter="max_quantity"),
    LegacySetting(env="MAX_SLIPPAGE_PERCENT", rule="max_slippage", parameter="max_percent"),
    LegacySetting(env="MAX_USER_EXPOSURE", rule="max_exposure", parameter="max_total"),
)


def apply_legacy_env(
    policy: Policy,
    environ: Mapping[str, str],
    *,
    available: Mapping[str, RiskRuleSpec] | None = None,
) -> Policy:
    """Honour ``MAX_TRADE_SIZE``, ``MAX_SLIPPAGE_PERCENT`` and ``MAX_USER_EXPOSURE``.

    A variable sets its parameter on the first rule of its kind when the policy leaves that
    parameter unset, or adds the rule at the end when the policy has none; a value the
    policy sets itself always wins. A malformed value is a ``ConfigError`` naming it.
    """
    specs = available if available is not None else builtin_specs()
    entries = list(policy.entries)
    changed = False
    for setting in LEGACY_ENV:
        raw = environ.get(setting.env)
        if raw is None or not raw.strip():
            continue
        spec = specs.get(setting.rule)
        if spec is None:
            raise ConfigError(
                f"needs the rule {setting.rule!r}, which no installed plugin offers",
                source="environment", key=setting.env,
            )
        index = next(
            (i for i, entry in enumerate(entries) if entry.rule.name == setting.rule), None
        )
        if index is not None and _sets(entries[index], setting.parameter):
            continue
        if index is not None and entries[index].spec is not None:
            params = {**entries[index].params, setting.parameter: raw.strip()}
            entries[index] = PolicyEntry(
                rule=_build(spec, params, source="environment", key=setting.env,
                            key_per_parameter=False),
                params=params, spec=spec,
            )
        else:
            params = {setting.parameter: raw.strip()}
            entries.append(PolicyEntry(
                rule=_build(spec, params, source="environment", key=setting.env,
                            key_per_parameter=False),
                params=params, spec=spec,
            ))
        changed = True
    return Policy(entries, source=policy.source) if changed else policy


def _sets(entry: PolicyEntry, parameter: str) -> bool:
    """Whether the policy itself gives ``parameter`` a value on this rule."""
    if entry.params.get(parameter) is not None:
        return True
    params = getattr(entry.rule, "params", None)
    return getattr(params, parameter, None) is not None
