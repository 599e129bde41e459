"""arbexec: risk-checked, journaled, exactly-once order execution for prediction markets.

Plugins import what they need from ``arbexec.api`` (the declared plugin API) and, in
tests, ``arbexec.testing``. ``__version__`` is read from the installed distribution's
metadata on first access, so importing the package stays free for ``arbexec --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib import metadata

        try:
            version = metadata.version("arbexec")
        except metadata.PackageNotFoundError:
            version = "0+unknown"
        globals()["__version__"] = version
        return version
    raise AttributeError(f"module 'arbexec' has no attribute {name!r}")
