"""pytest fixtures for plugin authors, loaded automatically where arbexec is installed.

``vcr_config`` and ``vcr_cassette_dir`` make pytest-recording place cassettes under the
repository's ``cassettes/<plugin>/<test module>/`` and scrub credentials when recording.
"""

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


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("stable_json_body", recording.stable_json_body)
