"""The core's pytest plugin leaves other projects' recording fixtures alone: a third-party
plugin's tests keep pytest-recording's cassette folder unless they opt in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = '''
def test_where(vcr_cassette_dir, vcr_config):
    print("CASSETTES=" + vcr_cassette_dir)
    print("SCRUBS=" + str("filter_headers" in vcr_config))
'''


def probe(project: Path, ini: str) -> tuple[str, str]:
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_probe.py").write_text(PROBE)
    (project / "pytest.ini").write_text("[pytest]\n" + ini)
    run = subprocess.run([sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:randomly",
                          "-p", "no:cacheprovider", "tests/test_probe.py"],
                         cwd=project, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    found = dict(line.split("=", 1) for line in run.stdout.splitlines()
                 if line.startswith(("CASSETTES=", "SCRUBS=")))
    return found["CASSETTES"], found["SCRUBS"]


def test_a_third_party_project_keeps_its_own_cassette_folder(tmp_path: Path) -> None:
    project = tmp_path / "thirdparty"
    cassettes, scrubs = probe(project, "")
    assert Path(cassettes) == project / "tests" / "cassettes" / "test_probe"
    assert scrubs == "False"


def test_a_project_that_opts_in_gets_the_arbexec_layout(tmp_path: Path) -> None:
    project = tmp_path / "optin"
    (project / "cassettes").mkdir(parents=True)
    cassettes, scrubs = probe(project, "arbexec_recording = true\n")
    assert Path(cassettes) == project / "cassettes" / "core" / "test_probe"
    assert scrubs == "True"
