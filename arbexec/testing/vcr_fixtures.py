"""The recording fixtures themselves (registered by ``arbexec.testing.pytest_plugin``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from arbexec.testing import recording


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return recording.vcr_config()


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(recording.cassette_dir_for(Path(str(request.path))))
