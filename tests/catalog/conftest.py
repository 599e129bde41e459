"""The catalogue tests import their helpers (labelled set, the SDK oracle) by name."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # labelled
sys.path.insert(0, str(HERE.parent / "kalshi"))  # kalshi_sdk_models, the SDK's models as oracle
