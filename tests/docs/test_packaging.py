"""Packaging hygiene: SPDX licences, a setuptools that reads them, no install hint pointing
at the public index (where arbexec's names are not ours)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECTS = sorted([REPO / "pyproject.toml", *REPO.glob("plugins/*/pyproject.toml"),
                     *REPO.glob("examples/*/pyproject.toml")])


def test_there_are_pyprojects_to_check() -> None:
    assert len(PYPROJECTS) >= 6


@pytest.mark.parametrize("path", PYPROJECTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_pyproject_declares_its_licence_as_an_spdx_string(path: Path) -> None:
    data = tomllib.loads(path.read_text())
    assert data["project"]["license"] == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in data["project"].get("classifiers", []))
    requires = data["build-system"]["requires"]
    (setuptools,) = [r for r in requires if r.startswith("setuptools")]
    assert int(re.findall(r"\d+", setuptools)[0]) >= 77, "SPDX licences need setuptools 77"


def test_the_declared_licence_is_the_licence_file() -> None:
    assert "Apache License" in (REPO / "LICENSE").read_text()
    assert "Version 2.0" in (REPO / "LICENSE").read_text()


def test_the_dev_requirements_carry_a_setuptools_that_reads_spdx_licences() -> None:
    lines = (REPO / "requirements-dev.txt").read_text().splitlines()
    (setuptools,) = [x for x in lines if x.startswith("setuptools")]
    assert int(re.findall(r"\d+", setuptools)[0]) >= 77


def _shipped_text() -> list[Path]:
    files = [*REPO.glob("arbexec/**/*.py"), *REPO.glob("plugins/*/arbexec_*/**/*.py"),
             *REPO.glob("docs/**/*.md"), *REPO.glob("examples/**/*.md"),
             *REPO.glob("examples/**/*.py"), REPO / "README.md"]
    return [f for f in files if ".egg-info" not in str(f)]


def test_no_message_or_doc_says_pip_install_arbexec_from_the_public_index() -> None:
    pattern = re.compile(r"pip install arbexec[-\w{}<>]*(?=[\s`'\")]|$)")
    offenders = [f"{path.relative_to(REPO)}: {line.strip()}"
                 for path in _shipped_text()
                 for line in path.read_text(encoding="utf-8").splitlines()
                 if pattern.search(line) and "not on" not in line
                 and "would fetch" not in line]
    assert offenders == []


def test_the_changelog_and_security_policy_exist() -> None:
    assert (REPO / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert "report" in (REPO / "SECURITY.md").read_text().lower()
