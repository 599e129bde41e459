"""Where the catalogue and the pairs file live unless told otherwise.

The catalogue sits beside the journal (the deployment's state folder) as
``markets.sqlite3``; the pairs file is the deployment's ``[scan] pairs``, by default
``pairs.toml`` beside the deployment file, so it can be kept in git with the deployment.
``ARBEXEC_CATALOG`` and ``ARBEXEC_PAIRS`` (or ``--catalog`` / ``--pairs``) move them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CATALOG_ENV = "ARBEXEC_CATALOG"
PAIRS_ENV = "ARBEXEC_PAIRS"


def catalog_path(deployment: Any, override: str | None = None) -> Path:
    chosen = override or os.environ.get(CATALOG_ENV)
    if chosen:
        return Path(chosen)
    return Path(deployment.state_dir) / "markets.sqlite3"


def pairs_path(deployment: Any, override: str | None = None) -> Path:
    chosen = override or os.environ.get(PAIRS_ENV)
    if chosen:
        return Path(chosen)
    return Path(deployment.pairs_path)  # [scan] pairs, else pairs.toml beside the file
