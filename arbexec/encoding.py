"""Compact JSON with Decimals as strings: the one encoder the journal, sinks and CLI share.

It lives below all of them (it imports nothing of arbexec) so that writing an event to a
sink never imports the journal. Decimals become strings, never floats: a price of 0.55
stays exactly 0.55 on every reader.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON with Decimals as strings (one shared encoder: this runs per order)."""
    return _ENCODER.encode(value)
