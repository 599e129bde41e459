"""``config check`` reports every problem in one run, builds sinks and sources, suggests the
closest name, and names the file and key of a plugin's complaint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbexec.cli import cli

BAD = """
[journal]
path = "j.sqlite3"
durabilty = "full"

[engine]
wait_budgte = 3
poll_interval = -1

[venues.paper]
type = "paper"
latency_ms = 1000000000000

[venues.pm]
type = "polymarkt"

[venues.pm2]
type = "polymarket"
chain_id = 5

[venues.pm3]
type = "polymarket"
signature_typ = "EOA"

[venues.k]
type = "kalshi"
environmnet = "demo"

[venues.paper2]
type = "paper"
sed = 1

[[risk.rules]]
rule = "order_sise"

[[sinks]]
type = "jsnl"

[[sinks]]
type = "jsonl"
path = "a-file/events.jsonl"

[source]
type = "jsonl"
path = "nope.jsonl"
"""

EXPECTED = [
    "bad.toml:journal.durabilty: unknown key (did you mean 'durability'?)",
    "bad.toml:engine.wait_budgte: unknown key (did you mean 'wait_budget'?)",
    "bad.toml:engine.poll_interval: -1 is out of range",
    "bad.toml:venues.pm: unknown exchange 'polymarkt' (did you mean 'polymarket'?)",
    "bad.toml:sinks[0]: unknown sink 'jsnl' (did you mean 'jsonl'?)",
    "bad.toml:risk.rules[0].rule: unknown risk rule 'order_sise' (did you mean 'order_size'?)",
    "bad.toml:venues.paper.latency_ms: 1000000000000 must be milliseconds",
    "bad.toml:venues.pm2.chain_id: 5 is not 137 (Polygon) or 80002 (Amoy)",
    "bad.toml:venues.pm3.signature_typ: unknown option(s) signature_typ (did you mean "
    "'signature_type'?)",
    "bad.toml:venues.k.environmnet: unknown Kalshi option(s) environmnet (did you mean "
    "'environment'?)",
    "bad.toml:venues.paper2.sed: unknown key (did you mean 'seed'?)",
    "bad.toml:sinks[1].path: cannot write a-file/events.jsonl",
    "bad.toml:source.path: request file 'nope.jsonl' does not exist",
]


@pytest.fixture
def bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    Path("bad.toml").write_text(BAD)
    return "bad.toml"


def test_every_problem_is_reported_in_one_run(bad: str) -> None:
    result = CliRunner().invoke(cli, ["-c", bad, "config", "check"], prog_name="arbexec")
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert len(errors) == len(EXPECTED), "\n".join(errors)
    for line, expected in zip(errors, EXPECTED, strict=True):
        assert line.startswith("error: " + expected), (line, expected)


def test_json_lists_every_problem(bad: str) -> None:
    result = CliRunner().invoke(cli, ["-c", bad, "config", "check", "--json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False and len(report["problems"]) == len(EXPECTED)


def test_a_good_deployment_is_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("good.toml").write_text('[venues.paper]\ntype = "paper"\n\n[[sinks]]\ntype = "jsonl"\n'
                                 'path = "out/events.jsonl"\n')
    result = CliRunner().invoke(cli, ["-c", "good.toml", "config", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: good.toml: venues paper (paper)")
