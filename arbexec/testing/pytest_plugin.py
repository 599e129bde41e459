"""pytest fixtures for plugin authors, loaded automatically where arbexec is installed.

The recording fixtures (``vcr_config``, ``vcr_cassette_dir``: cassettes under the
repository's ``cassettes/<plugin>/<test module>/``, credentials scrubbed when recording) are
opt-in: a project that wants them sets ``arbexec_recording = true`` in its pytest
configuration (or lists ``arbexec.testing.vcr_fixtures`` in ``pytest_plugins``). Without
that, installing arbexec changes nothing for other projects in the environment: a
third-party plugin's tests keep pytest-recording's defaults and their own cassette folder.
The record mode stays pytest-recording's (``none`` unless ``--record-mode`` says otherwise).

pytest-recording defines fixtures of the same names; ours are registered in
``pytest_configure``, after every auto-loaded plugin, so they take precedence. A test
module or conftest can still override them as usual.
"""

from __future__ import annotations

from typing import Any

import pytest

from arbexec.testing import recording

#: The ini option that opts a project into arbexec's cassette layout and scrubbing.
OPT_IN = "arbexec_recording"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(OPT_IN, type="bool", default=False,
                  help="Use arbexec's vcr_config and vcr_cassette_dir (cassettes under "
                       "cassettes/<plugin>/<module>/, credentials scrubbed).")


def pytest_configure(config: pytest.Config) -> None:
    if config.getini(OPT_IN) and config.pluginmanager.hasplugin("recording"):
        from arbexec.testing import vcr_fixtures

        config.pluginmanager.register(vcr_fixtures, "arbexec-recording-fixtures")


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("stable_json_body", recording.stable_json_body)
