"""Claims the docs make that no example shows: each one held by a check here (the others
are held by the tests named in the docstrings of tests/cli and tests/docs/test_examples)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbexec.cli import cli

REPO = Path(__file__).resolve().parents[2]


def test_json_run_prints_only_json_lines_whatever_the_stdout_sink_format(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """user-guide: "With `--json`, results are JSON lines and the last line is
    {"summary": ...}", also when the deployment's stdout sink says format = "table"."""
    monkeypatch.chdir(tmp_path)
    Path("deploy.toml").write_text('[venues.paper]\ntype = "paper"\n\n'
                                   '[[sinks]]\ntype = "stdout"\nformat = "table"\n')
    Path("r.jsonl").write_text(
        '{"request_id": "a", "venue": "paper", "market": "PAPER-FED-CUT", "outcome": "YES", '
        '"side": "BUY", "quantity": "1", "limit_price": "0.90", "time_in_force": "IOC"}\n')
    result = CliRunner().invoke(cli, ["-c", "deploy.toml", "--json", "run", "r.jsonl"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [json.loads(line) for line in lines]  # every line is JSON
    assert json.loads(lines[0])["status"] == "FILLED"
    assert "summary" in json.loads(lines[-1])
    table = CliRunner().invoke(cli, ["-c", "deploy.toml", "run", "r.jsonl"])
    assert table.stdout.startswith("FILLED")  # without --json the sink's format stands


def test_no_message_tells_a_user_to_install_a_venue_from_the_public_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README: the packages are not on PyPI; a hint says how to install from a checkout."""
    monkeypatch.chdir(tmp_path)
    Path("deploy.toml").write_text('[venues.x]\ntype = "somevenue"\n')
    result = CliRunner().invoke(cli, ["-c", "deploy.toml", "config", "check"])
    assert result.exit_code == 2
    assert "pip install ./plugins/arbexec-somevenue" in result.stderr
    assert "not on PyPI" in result.stderr
    sources = [*REPO.joinpath("arbexec").rglob("*.py"),
               *REPO.joinpath("plugins").rglob("*.py")]
    bare = re.compile(r"pip install arbexec-[a-z{]")  # a bare name fetched from the index
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert not bare.search(text), f"{source.relative_to(REPO)} tells users to " \
                                      "`pip install arbexec-<venue>` from the index"
