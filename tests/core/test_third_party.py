"""Third-party plugins installed with pip: discovered, listed, used, and gone when removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARBEXEC = [sys.executable, "-m", "arbexec"]


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet",
                    *args], check=True, env={**os.environ, "PIP_NO_INDEX": "1"})


def install_example(folder: str, scratch: Path) -> None:
    """pip-install an example from a copy, so building it never writes ``build/`` or
    ``*.egg-info`` into the repository (stale copies there would carry old code)."""
    copy = scratch / folder
    shutil.copytree(REPO / "examples" / folder, copy,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip("install", "--no-deps", "--no-build-isolation", str(copy))


def arbexec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARBEXEC, *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def installed(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pip-install an example plugin into this environment (offline), remove it after."""
    folder, distribution = request.param
    install_example(folder, tmp_path_factory.mktemp("example"))
    try:
        yield distribution
    finally:
        pip("uninstall", "--yes", distribution)


@pytest.mark.slow
@pytest.mark.parametrize("installed", [("arbexec-tinyvenue", "arbexec-tinyvenue")],
                         indirect=True)
def test_a_third_party_venue_is_discovered_and_receives_its_orders(
    installed: str, tmp_path: Path
) -> None:
    listed = json.loads(arbexec("--json", "--strict", "plugins", cwd=tmp_path).stdout)
    tiny = next(r for r in listed if r["distribution"] == "arbexec-tinyvenue")
    assert tiny["status"] == "ok" and tiny["provides"] == {"exchange": ["tinyvenue"]}

    log = tmp_path / "tiny-orders.jsonl"
    (tmp_path / "deploy.toml").write_text(
        f'[journal]\npath = "j.sqlite3"\n[venues.tiny]\ntype = "tinyvenue"\nlog = "{log}"\n'
        '[venues.paper]\ntype = "paper"\n')
    (tmp_path / "requests.jsonl").write_text(
        '{"request_id": "t1", "venue": "tiny", "market": "ANY", "outcome": "YES", '
        '"side": "BUY", "quantity": "3", "limit_price": "0.42"}\n'
        '{"request_id": "p1", "venue": "paper", "market": "PAPER-FED-CUT", "outcome": "YES", '
        '"side": "BUY", "quantity": "1", "limit_price": "0.90", "time_in_force": "IOC"}\n')
    run = arbexec("-c", "deploy.toml", "--json", "run", "requests.jsonl", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    results = {r["request_id"]: r for r in map(json.loads, run.stdout.splitlines()[:-1])}
    assert results["t1"]["status"] == "FILLED" and results["t1"]["venue"] == "tiny"
    received = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["market"], r["quantity"]) for r in received] == [("ANY", "3")]  # only its own


@pytest.mark.slow
def test_an_uninstalled_plugin_disappears(tmp_path: Path) -> None:
    install_example("arbexec-tinyvenue", tmp_path)
    pip("uninstall", "--yes", "arbexec-tinyvenue")
    listed = json.loads(arbexec("--json", "plugins", cwd=tmp_path).stdout)
    assert "arbexec-tinyvenue" not in {r["distribution"] for r in listed}
    (tmp_path / "deploy.toml").write_text('[venues.tiny]\ntype = "tinyvenue"\n')
    check = arbexec("-c", "deploy.toml", "config", "check", cwd=tmp_path)
    assert check.returncode == 2
    assert "unknown exchange 'tinyvenue'" in check.stderr
    assert "pip install ./plugins/arbexec-tinyvenue" in check.stderr


@pytest.mark.slow
@pytest.mark.parametrize("installed", [("arbexec-strategy-budget", "arbexec-strategy-budget")],
                         indirect=True)
def test_a_third_party_rule_is_listed_and_used_by_naming_it_in_a_policy(
    installed: str, tmp_path: Path
) -> None:
    listed = json.loads(arbexec("--json", "plugins", cwd=tmp_path).stdout)
    budget = next(r for r in listed if r["distribution"] == "arbexec-strategy-budget")
    assert budget["status"] == "ok" and "strategy_budget" in budget["provides"]["risk_rule"]
    (tmp_path / "deploy.toml").write_text('[journal]\npath = "j.sqlite3"\n'
                                          '[venues.paper]\ntype = "paper"\n')
    (tmp_path / "policy.toml").write_text(
        '[[rules]]\nrule = "strategy_budget"\nbudgets = { alpha = "10" }\n')
    lines = [
        {"request_id": f"a{i}", "venue": "paper", "market": "PAPER-ELECTION", "outcome": "YES",
         "side": "BUY", "quantity": "10", "limit_price": "0.60", "time_in_force": "IOC",
         "tags": {"strategy": "alpha"}} for i in range(3)
    ]
    (tmp_path / "requests.jsonl").write_text("\n".join(map(json.dumps, lines)) + "\n")
    run = arbexec("-c", "deploy.toml", "--json", "run", "requests.jsonl", "--policy",
                  "policy.toml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    results = [json.loads(x) for x in run.stdout.splitlines()[:-1]]
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["DENIED", "DENIED", "FILLED"], results
