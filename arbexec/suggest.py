"""``(did you mean 'wait_budget'?)``: the closest valid name to a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: object, valid: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``valid`` to ``name``, else ``""``."""
    close = difflib.get_close_matches(str(name), sorted(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
