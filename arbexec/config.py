"""Deployment files: TOML, with secrets interpolated from the environment.

Every error names the file, the key and what would be valid. Secrets are written in the file
as ``${ENV_VAR}`` and resolved at load time (a ``.env`` file in the working directory or
beside the deployment file is honoured); resolved values live only in option tables whose
repr is hidden, and never reach the journal.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from arbexec.engine import EngineSettings
from arbexec.errors import ConfigError
from arbexec.names import check_venue_name
from arbexec.scanner.settings import ScanSettings, parse_scan_settings
from arbexec.suggest import did_you_mean
from arbexec.tomlfile import read_toml

DEFAULT_NAME = "<built-in default>"
DEFAULT_FILE = Path(__file__).resolve().parent / "defaults" / "default.toml"
_TOP_LEVEL = {"journal", "engine", "venues", "risk", "sinks", "source", "events", "scan",
              "arbitrage", "ledger"}
_ENGINE_KEYS = {
    "wait_budget": float, "max_in_flight": int, "venue_concurrency": int,
    "poll_interval": float, "poll_max_interval": float, "unknown_grace": float,
    "breaker_window": float, "background_tracking": bool,
}
#: The valid range of every engine number (inclusive). Every wait the engine makes comes
#: from one of these, so none can be infinite, NaN or absurdly long.
ENGINE_RANGES: Mapping[str, tuple[float, float]] = {
    "wait_budget": (0, 86400),  # at most a day of following one order
    "poll_interval": (0.001, 60),
    "poll_max_interval": (0.001, 3600),
    "unknown_grace": (0, 86400),
    "breaker_window": (0, 86400),
    "max_in_flight": (1, 100_000),
    "venue_concurrency": (1, 10_000),
}
#: The oldest streamed book (seconds) a pair's edge is checked on unless configured
#: (``[arbitrage] max_book_age``; 0 reads every book afresh). The leg limits bound the
#: price whatever the book says; the bound decides only how current the depth must be.
DEFAULT_MAX_BOOK_AGE = 0.5
MAX_BOOK_AGE_RANGE = (0.0, 60.0)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
@frozen(kw_only=True)
class PluginConfig:
    """One configured venue, sink or source: its deployment name, its type, its table."""

    name: str
    type: str
    options: Mapping[str, Any] = field(factory=dict, repr=False, hash=False)
    key: str  # where it sits in the file, for messages


@frozen(kw_only=True)
class Deployment:
    source: str  # the file it came from, or DEFAULT_NAME
    journal_path: Path
    durability: str = "normal"
    engine: EngineSettings = field(factory=EngineSettings)
    venues: tuple[PluginConfig, ...] = ()
    risk_rules: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    policy_file: Path | None = None
    sinks: tuple[PluginConfig, ...] = ()
    request_source: PluginConfig | None = None
    market_events: Mapping[str, str] = field(factory=dict, hash=False)
    state_dir: Path = Path(".arbexec")
    #: the matched-pairs file (``[scan] pairs``, default ``pairs.toml`` beside this file)
    pairs_path: Path = Path("pairs.toml")
    #: the rest of ``[scan]``: what the scanner counts as an opportunity
    scan: ScanSettings = field(factory=ScanSettings)
    #: [arbitrage] max_book_age: seconds a streamed book may be old for a pair's edge check
    max_book_age: float = DEFAULT_MAX_BOOK_AGE
    ledger: PluginConfig | None = None  # [ledger]: a shared ledger and halt flag


def load_env_files(*directories: Path) -> None:
    """Honour ``.env`` files (never overriding variables already set)."""
    for directory in directories:
        candidate = directory / ".env"
        if candidate.is_file():
            from dotenv import load_dotenv

            load_dotenv(candidate, override=False)


def _interpolate(value: Any, key: str, source: str, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ConfigError(
                    f"environment variable {name} is not set (set it, or put it in a .env "
                    "file beside the deployment file)", source=source, key=key)
            return environ[name]

        return _VAR.sub(replace, value)
    if isinstance(value, dict):
        return {
            k: _interpolate(v, f"{key}.{k}" if key else k, source, environ)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_interpolate(v, f"{key}[{i}]", source, environ) for i, v in enumerate(value)]
    return value


def _table(data: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"must be a table ([{name}])", source=source, key=name)
    return value


def _engine_settings(table: Mapping[str, Any], source: str) -> EngineSettings:
    values: dict[str, Any] = {}
    for key, value in table.items():
        kind = _ENGINE_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"unknown key{did_you_mean(key, _ENGINE_KEYS)}; valid keys: "
                              f"{', '.join(sorted(_ENGINE_KEYS))}",
                              source=source, key=f"engine.{key}")
        if kind is bool:
            if not isinstance(value, bool):
                raise ConfigError("must be true or false", source=source, key=f"engine.{key}")
        elif kind is int:
            low, high = ENGINE_RANGES[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"{_shown(value)} is out of range: must be a whole number "
                                  f"from {low:g} to {high:g}", source=source,
                                  key=f"engine.{key}")
        else:
            low, high = ENGINE_RANGES[key]
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not _in_range(value, low, high)):
                raise ConfigError(f"{_shown(value)} is out of range: must be a number of "
                                  f"seconds from {low:g} to {high:g}", source=source,
                                  key=f"engine.{key}")
            value = float(value)
        values[key] = value
    defaults = EngineSettings()
    if values.get("poll_max_interval", defaults.poll_max_interval) < values.get(
            "poll_interval", defaults.poll_interval):
        raise ConfigError("must be at least engine.poll_interval", source=source,
                          key="engine.poll_max_interval")
    return EngineSettings(**values)


def _in_range(value: float, low: float, high: float) -> bool:
    """``low <= value <= high``, false for NaN and infinities, exact for any integer."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return low <= value <= high


def _shown(value: Any) -> str:
    """A config value in a message: short, one line, ASCII."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else (
        f"a {len(str(abs(value)))}-digit number")
    text = text if len(text) <= 60 else text[:57] + "..."
    return text.encode("ascii", "backslashreplace").decode("ascii")


def _path_option(value: Any, *, source: str, key: str) -> str:
    """A file path from the deployment: a non-empty string a file system can take."""
    if not isinstance(value, str) or not value:
        raise ConfigError("must be a file path", source=source, key=key)
    if "\x00" in value or not value.isprintable():
        raise ConfigError(f"{_shown(value)} is not a usable path (it holds a control "
                          "character)", source=source, key=key)
    return value


def is_path_option(name: str) -> bool:
    """A venue option that names a file or folder: ``path`` or a name ending in ``_path``,
    ``_file`` or ``_dir`` (the convention plugins follow, docs/plugin-authors.md)."""
    return name == "path" or name.endswith(("_path", "_file", "_dir"))


def _resolve_paths(entry: PluginConfig, base_dir: Path, source: str) -> PluginConfig:
    """Relative paths in a venue table are relative to the deployment file's folder, so
    a deployment means the same files whatever the working directory."""
    options = dict(entry.options)
    for name, value in entry.options.items():
        if is_path_option(name) and isinstance(value, str) and value:
            text = _path_option(value, source=source, key=f"{entry.key}.{name}")
            if not Path(text).expanduser().is_absolute():
                options[name] = str(base_dir / text)
            else:
                options[name] = str(Path(text).expanduser())
    return PluginConfig(name=entry.name, type=entry.type, options=options, key=entry.key)


def _plugin_entries(table: Mapping[str, Any], section: str, source: str) -> list[PluginConfig]:
    entries = []
    for name, options in table.items():
        key = f"{section}.{name}"
        if not isinstance(options, dict):
            raise ConfigError(f"must be a table ([{key}])", source=source, key=key)
        if section == "venues":
            check_venue_name(name, source=source, key=key)
        kind = options.get("type", name)
        if not isinstance(kind, str) or not kind:
            raise ConfigError("'type' must name an installed plugin", source=source,
                              key=f"{key}.type")
        rest = {k: v for k, v in options.items() if k != "type"}
        entries.append(PluginConfig(name=name, type=kind, options=rest, key=key))
    return entries


def parse_deployment(
    data: Mapping[str, Any], *, source: str, base_dir: Path,
    environ: Mapping[str, str] | None = None,
) -> Deployment:
    env = os.environ if environ is None else environ
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise ConfigError(f"unknown section{did_you_mean(unknown[0], _TOP_LEVEL)}; valid "
                          f"sections: {', '.join(sorted(_TOP_LEVEL))}",
                          source=source, key=unknown[0])
    data = _interpolate(dict(data), "", source, env)

    journal = _table(data, "journal", source)
    for key in journal:
        if key not in ("path", "durability", "state_dir"):
            raise ConfigError(f"unknown key{did_you_mean(key, ('durability', 'path', 'state_dir'))}"
                              "; valid keys: durability, path, state_dir",
                              source=source, key=f"journal.{key}")
    path = _path_option(journal.get("path", ".arbexec/journal.sqlite3"), source=source,
                        key="journal.path")
    durability = journal.get("durability", "normal")
    if durability not in ("normal", "full"):
        raise ConfigError(f"{_shown(durability)} is not 'normal' or 'full'", source=source,
                          key="journal.durability")
    state_dir = journal.get("state_dir")
    if state_dir is not None:
        state_dir = _path_option(state_dir, source=source, key="journal.state_dir")
    journal_path = (base_dir / path) if not Path(path).is_absolute() else Path(path)
    state = (base_dir / state_dir) if isinstance(state_dir, str) else journal_path.parent

    venues_table = _table(data, "venues", source)
    venues = [_resolve_paths(entry, base_dir, source)
              for entry in _plugin_entries(venues_table, "venues", source)]

    risk = _table(data, "risk", source)
    for key in risk:
        if key not in ("rules", "policy"):
            raise ConfigError(f"unknown key{did_you_mean(key, ('policy', 'rules'))}; valid "
                              "keys: policy, rules", source=source,
                              key=f"risk.{key}")
    rules = risk.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise ConfigError("must be an array of tables ([[risk.rules]])", source=source,
                          key="risk.rules")
    policy = risk.get("policy")
    if policy is not None:
        policy = _path_option(policy, source=source, key="risk.policy")
    policy_file = None if policy is None else (base_dir / policy)

    sinks_value = data.get("sinks", [{"type": "stdout"}])
    if not isinstance(sinks_value, list) or not all(isinstance(s, dict) for s in sinks_value):
        raise ConfigError("must be an array of tables ([[sinks]] with a 'type')", source=source,
                          key="sinks")
    sinks = []
    for i, table in enumerate(sinks_value):
        kind = table.get("type")
        if not isinstance(kind, str) or not kind:
            raise ConfigError("every sink needs a 'type' (e.g. \"stdout\" or \"jsonl\")",
                              source=source, key=f"sinks[{i}].type")
        options = {k: v for k, v in table.items() if k not in ("type", "name")}
        if kind == "jsonl" and "path" in options:
            options["path"] = str(base_dir / _path_option(options["path"], source=source,
                                                          key=f"sinks[{i}].path"))
        sinks.append(PluginConfig(name=str(table.get("name", kind)), type=kind,
                                  options=options, key=f"sinks[{i}]"))

    request_source = None
    if "source" in data:
        table = _table(data, "source", source)
        kind = table.get("type", "jsonl")
        options = {k: v for k, v in table.items() if k != "type"}
        if kind == "jsonl" and "path" in options and options["path"] != "-":
            options["path"] = str(base_dir / _path_option(options["path"], source=source,
                                                          key="source.path"))
        request_source = PluginConfig(name=str(kind), type=str(kind), options=options,
                                      key="source")

    events = _table(data, "events", source)
    for key, value in events.items():
        if not isinstance(value, str) or ":" not in key:
            raise ConfigError("map \"venue:market\" = \"event\"", source=source,
                              key=f"events.{key}")

    scan = _table(data, "scan", source)
    pairs = _path_option(scan.get("pairs", "pairs.toml"), source=source, key="scan.pairs")
    pairs_path = (base_dir / pairs) if not Path(pairs).is_absolute() else Path(pairs)
    arbitrage = _table(data, "arbitrage", source)
    for key in arbitrage:
        if key != "max_book_age":
            raise ConfigError("unknown key; valid keys: max_book_age", source=source,
                              key=f"arbitrage.{key}")
    age = arbitrage.get("max_book_age", DEFAULT_MAX_BOOK_AGE)
    if isinstance(age, bool) or not isinstance(age, int | float) or not _in_range(
            age, *MAX_BOOK_AGE_RANGE):
        raise ConfigError(f"{_shown(age)} is out of range: must be a number of seconds from "
                          f"{MAX_BOOK_AGE_RANGE[0]:g} to {MAX_BOOK_AGE_RANGE[1]:g} (0 reads "
                          "every book afresh)", source=source, key="arbitrage.max_book_age")
    max_book_age = float(age)
    shared = None
    if "ledger" in data:
        table = _table(data, "ledger", source)
        kind = table.get("type", "memory")
        if not isinstance(kind, str) or not kind:
            raise ConfigError("'type' must name an installed ledger plugin (e.g. \"redis\")",
                              source=source, key="ledger.type")
        if kind != "memory":
            shared = PluginConfig(name=kind, type=kind, key="ledger", options={
                k: v for k, v in table.items() if k != "type"})

    return Deployment(
        ledger=shared, source=source, journal_path=journal_path, durability=durability,
        engine=attrs.evolve(_engine_settings(_table(data, "engine", source), source),
                            max_book_age=max_book_age),
        venues=tuple(venues), risk_rules=tuple(rules), policy_file=policy_file,
        sinks=tuple(sinks), request_source=request_source, market_events=dict(events),
        state_dir=state, pairs_path=pairs_path,
        scan=parse_scan_settings({k: v for k, v in scan.items() if k != "pairs"},
                                 source=source),
        max_book_age=max_book_age,
    )


def load_deployment(path: str | Path | None, *, environ: Mapping[str, str] | None = None
                    ) -> Deployment:
    """Load a deployment file, or the built-in default (paper venue, local journal)."""
    cwd = Path.cwd()
    if path is None:
        load_env_files(cwd)
        text = DEFAULT_FILE.read_text(encoding="utf-8")
        return parse_deployment(tomllib.loads(text), source=DEFAULT_NAME, base_dir=cwd,
                                environ=environ)
    file = Path(path)
    if not file.is_file():
        raise ConfigError("deployment file not found (check the path given to --config)",
                          source=str(path))
    load_env_files(cwd, file.parent)
    data = read_toml(file, what="deployment file")
    return parse_deployment(data, source=str(path), base_dir=file.parent, environ=environ)
