"""``arbexec config check``: every problem of a deployment in one run.

Loading a deployment stops at its first mistake, which is right for a command about to
trade. A check should list them all: each time loading fails, the key it names is set
aside and loading goes on, so one run reports every independent mistake. What loads is then
built as a run would build it (names, policy, each venue, each sink, the source), each
failure reported with its file and key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from arbexec.config import (
    DEFAULT_FILE,
    DEFAULT_NAME,
    Deployment,
    load_env_files,
    parse_deployment,
)
from arbexec.errors import ArbexecError, ConfigError
from arbexec.plugins import PluginHost
from arbexec.tomlfile import read_toml

#: A mistake that makes every later one meaningless (or a loop) ends the search.
_MOST_PROBLEMS = 50
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _set_aside(data: Any, key: str | None) -> bool:
    """Remove the value at ``key`` (``engine.wait_budget``, ``sinks[0].path``); False
    when there is nothing to remove (the search cannot go on)."""
    if not key:
        return False
    parts: list[str | int] = [int(m.group(2)) if m.group(2) else m.group(1)
                              for m in _PART.finditer(key)]
    # A sink or source entry with a bad field goes as a whole: its other fields mean
    # nothing without it.
    if parts and parts[0] in ("sinks",) and len(parts) > 2:
        parts = parts[:2]
    node = data
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = parts[-1] if parts else None
    try:
        if isinstance(node, list) and isinstance(last, int) and last < len(node):
            node.pop(last)
            return True
        if isinstance(node, dict) and last in node:
            del node[last]
            return True
    except (KeyError, IndexError, TypeError):
        return False
    return False


def load_all_problems(path: str | None) -> tuple[Deployment | None, list[str]]:
    """The deployment with its faulty keys set aside, and every problem found loading it."""
    import tomllib

    cwd = Path.cwd()
    if path is None:
        load_env_files(cwd)
        data: Any = tomllib.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
        source, base_dir = DEFAULT_NAME, cwd
    else:
        file = Path(path)
        if not file.is_file():
            return None, [str(ConfigError("deployment file not found (check the path given "
                                          "to --config)", source=str(path)))]
        load_env_files(cwd, file.parent)
        try:
            data = read_toml(file, what="deployment file")
        except ConfigError as exc:
            return None, [str(exc)]
        source, base_dir = str(path), file.parent
    problems: list[str] = []
    for _ in range(_MOST_PROBLEMS):
        try:
            return parse_deployment(data, source=source, base_dir=base_dir), problems
        except ConfigError as exc:
            problems.append(str(exc))
            if not _set_aside(data, exc.key):
                return None, problems
    return None, problems


def build_problems(deployment: Deployment, host: PluginHost,
                   policy_file: Path | None) -> list[str]:
    """Build what a run builds, each part on its own, and say what fails."""
    from arbexec.app import build_policy, build_sinks, build_source, build_venue, check_names

    problems = check_names(deployment, host)

    def attempt(what: str, build: Any) -> None:
        try:
            build()
        except ArbexecError as exc:
            message = str(exc)
            where = message.split(": ", 1)[0]
            if not any(p.split(": ", 1)[0] == where for p in problems):  # once per key
                problems.append(message)

    attempt("policy", lambda: build_policy(deployment, host, policy_file=policy_file))
    for entry in deployment.venues:
        attempt(entry.key, lambda entry=entry: _close_venue(build_venue(
            entry, deployment, host, read_only=True)))
    for entry in deployment.sinks:
        attempt(entry.key, lambda entry=entry: _close_sinks(build_sinks(
            _only_sink(deployment, entry), host, json_output=False)))
    if deployment.request_source is not None:
        entry = deployment.request_source
        attempt("source", lambda: _close_venue(build_source(entry, deployment, host)))
    return problems


def _only_sink(deployment: Deployment, entry: Any) -> Deployment:
    import attrs

    return attrs.evolve(deployment, sinks=(entry,))


def _close_venue(venue: Any) -> None:
    import asyncio

    asyncio.run(venue.aclose())


def _close_sinks(sinks: list[Any]) -> None:
    import asyncio

    for sink in sinks:
        close = getattr(sink, "aclose", None)
        if close is not None:
            asyncio.run(close())
