"""A cache of the command names plugins add, so ``arbexec --help`` need not load plugins.

Loading the plugin host imports pluggy, ``importlib.metadata`` and every plugin's hook
module: tens of milliseconds that a help screen should not pay. Whenever the host is loaded
for real, the names and short help of the commands plugins registered are written here,
keyed by a fingerprint of the installed distributions' entry-point files (paths, sizes and
modification times) and the plugin switches. A help screen whose fingerprint matches uses
the cached entries; anything else (an install, an uninstall, a switch) loads the host again.
Running a cached command always resolves the real one through the host.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

_ENV = ("ARBEXEC_DISABLE_PLUGINS", "ARBEXEC_NO_PLUGINS", "ARBEXEC_STRICT_PLUGINS")


def fingerprint() -> str:
    """Changes whenever a distribution with entry points is installed, removed or updated."""
    digest = hashlib.sha256()
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                stat = os.stat(os.path.join(entry, name, "entry_points.txt"))
            except OSError:
                continue
            digest.update(f"{entry}/{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for name in _ENV:
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    return digest.hexdigest()


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    environment = hashlib.sha256(sys.prefix.encode()).hexdigest()[:16]
    return Path(base) / "arbexec" / f"commands-{environment}.json"


def read(current: str) -> list[dict[str, str]] | None:
    """The cached commands if the fingerprint still matches, else None."""
    try:
        data: dict[str, Any] = json.loads(_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != current:
        return None
    commands = data.get("commands")
    return commands if isinstance(commands, list) else None


def write(current: str, commands: list[dict[str, str]]) -> None:
    """Best effort: a read-only home only costs the next help screen its speed."""
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"fingerprint": current, "commands": commands}),
                             encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass
