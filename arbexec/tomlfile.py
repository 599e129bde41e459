"""Reading TOML files (deployments, policies) so that any problem is one ``ConfigError``.

``tomllib`` recurses as deep as a file nests (``a = [[[[...]]]]`` thousands deep ends in a
``RecursionError``) and reading can fail in many ways (a folder, no permission, not UTF-8);
each becomes a message naming the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from arbexec.errors import ConfigError

#: Deepest nesting of tables and arrays a deployment or policy file may have.
MAX_TOML_DEPTH = 32


def read_toml(path: Path, *, what: str) -> dict[str, Any]:
    """A TOML file's data, or a ``ConfigError`` naming the file (never another exception)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not a UTF-8 text file", source=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror or exc}",
                          source=source) from None
    except ValueError:  # a NUL in the path
        raise ConfigError(f"cannot read the {what}: the path holds a NUL character",
                          source=source.replace("\x00", "\\x00")) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from None
    except RecursionError:
        raise ConfigError(f"nested deeper than {MAX_TOML_DEPTH} levels", source=source
                          ) from None
    check_depth(data, source=source)
    return data


def check_depth(data: Any, *, source: str, limit: int = MAX_TOML_DEPTH) -> None:
    """Refuse tables and arrays nested past ``limit`` (checked without recursion)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, key, depth = stack.pop()
        if depth > limit:
            raise ConfigError(f"nested deeper than {limit} levels", source=source,
                              key=key or None)
        if isinstance(value, dict):
            stack.extend((v, f"{key}.{k}" if key else str(k), depth + 1)
                         for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{key}[{i}]", depth + 1) for i, v in enumerate(value))
