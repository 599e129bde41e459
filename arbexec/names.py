"""Names that become parts of file paths, and the pattern they must follow."""

from __future__ import annotations

import re
from typing import Any

from arbexec.errors import ConfigError

#: What a venue may be called: it names a folder under the state directory and a file of
#: the paper venue, so nothing that could climb out of it (``../x``, ``/etc``, ``a/b``).
VENUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", re.ASCII)


def check_venue_name(name: Any, *, source: str | None, key: str) -> str:
    """A venue's name, or a ``ConfigError`` saying what a name may be."""
    if not isinstance(name, str) or not VENUE_NAME.fullmatch(name):
        shown = repr(name).encode("ascii", "backslashreplace").decode("ascii")[:80]
        raise ConfigError(f"{shown} is not a valid venue name: use 1 to 64 letters, digits, "
                          "'-' or '_', starting with a letter or digit", source=source,
                          key=key)
    return name
