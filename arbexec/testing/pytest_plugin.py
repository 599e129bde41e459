"""pytest fixtures for plugin authors, loaded automatically where arbexec is installed.

``vcr_config`` and ``vcr_cassette_dir`` make pytest-recording place cassettes under the
repository's ``cassettes/<plugin>/<test module>/`` and scrub credentials when recording. The
record mode stays pytest-recording's (``none`` unless ``--record-mode`` says otherwise).

pytest-recording defines fixtures of the same names; ours are registered in
``pytest_configure``, after every auto-loaded plugin, so they take precedence. A test
module or conftest can still override them as usual.
"""

from __future__ import annotations

from typing import Any

import pytest

from arbexec.testing import recording


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("recording"):
        from arbexec.testing import vcr_fixtures

        config.pluginmanager.register(vcr_fixtures, "arbexec-recording-fixtures")


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("stable_json_body", recording.stable_json_body)
