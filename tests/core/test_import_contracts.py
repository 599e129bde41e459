"""The import contracts ``./dev lint`` checks catch a violation (and pass the real tree)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, config: dict[str, Any]) -> None:
    lines = ["[tool.importlinter]"]
    lines += [f"{k} = {_toml(v)}" for k, v in config.items() if k != "contracts"]
    for contract in config["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{k} = {_toml(v)}" for k, v in contract.items()]
    path.write_text("\n".join(lines) + "\n")


def project_config() -> dict[str, Any]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    config: dict[str, Any] = data["tool"]["importlinter"]
    return config


def lint(config: Path, contract: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    examples = [str(p) for p in sorted((REPO / "examples").glob("*"))
                if (p / "pyproject.toml").exists()]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, paths), *examples])}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(config),
                           "--contract", contract], capture_output=True, text=True, env=env,
                          cwd=config.parent)


@pytest.mark.slow
@pytest.mark.parametrize(("line", "kept"), [
    ("from arbexec.model import Side", False),
    ("from arbexec import errors", False),
    ("from arbexec.plugins import PluginHost", False),
    ("from arbexec.api import Side", True),
    ("from arbexec import api as errors", True),
    ("from arbexec.testing.requests import order_request", True),
])
def test_a_plugin_importing_past_the_api_breaks_the_contract(
        tmp_path: Path, line: str, kept: bool) -> None:
    package = tmp_path / "arbexec_violator"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(line + "\n")
    config = project_config()
    config["root_packages"] = [*config["root_packages"], "arbexec_violator"]
    for contract in config["contracts"]:
        if contract["id"] == "plugin-api":
            contract["source_modules"] = [*contract["source_modules"], "arbexec_violator"]
    write_config(tmp_path / "pyproject.toml", config)

    done = lint(tmp_path / "pyproject.toml", "plugin-api", tmp_path)
    assert (done.returncode == 0) is kept, done.stdout + done.stderr
    if not kept:
        assert "BROKEN" in done.stdout and "arbexec_violator.plugin -> arbexec" in done.stdout


@pytest.mark.slow
def test_the_journal_importing_the_request_parser_breaks_the_layering(tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(REPO / "arbexec", copy / "arbexec",
                    ignore=shutil.ignore_patterns("__pycache__"))
    codec = copy / "arbexec" / "journal" / "codec.py"
    codec.write_text(codec.read_text() + "\nfrom arbexec.sources.parse import request_from_mapping"
                     "  # noqa: E402\n")
    write_config(tmp_path / "pyproject.toml", project_config())

    broken = lint(tmp_path / "pyproject.toml", "journal-below-io", copy)
    assert broken.returncode != 0
    assert "arbexec.journal.codec -> arbexec.sources.parse" in broken.stdout

    (copy / "arbexec" / "journal" / "codec.py").write_text(
        (REPO / "arbexec" / "journal" / "codec.py").read_text())
    kept = lint(tmp_path / "pyproject.toml", "journal-below-io", copy)
    assert kept.returncode == 0, kept.stdout
