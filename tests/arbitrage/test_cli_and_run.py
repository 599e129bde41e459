"""`arbexec arb` and `arbexec run` with pair lines, on a deployment of two paper venues."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.cli_arb import register
from arbexec.sources.jsonl import parse_line

DEPLOY = """
[journal]
path = "journal.sqlite3"
[engine]
wait_budget = 0.5
[venues.paper-a]
type = "paper"
step_seconds = 0
flush_interval = 0
[venues.paper-a.markets.M]
mid = "0.40"
depth = [100, 200, 300]
volatility = 0.0
[venues.paper-b]
type = "paper"
step_seconds = 0
flush_interval = 0
[venues.paper-b.markets.M]
mid = "0.55"
depth = [100, 200, 300]
volatility = 0.0
"""

PAIR = {"pair_id": "cli-1", "quantity": "10", "max_unwind_loss": "1",
        "legs": [{"venue": "paper-a", "market": "M", "outcome": "YES", "limit_price": "0.41"},
                 {"venue": "paper-b", "market": "M", "outcome": "NO", "limit_price": "0.46"}]}


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOY)
    register(cli)
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-c", "deploy.toml", *args])
    return result.exit_code, result.output


def test_arb_executes_a_pair_from_the_command_line(deployment: Path) -> None:
    code, out = invoke("--json", "arb", "--leg", "paper-a:M:YES:0.41", "--leg",
                       "paper-b:M:NO:0.46", "--quantity", "10", "--key", "cli-1",
                       "--min-edge", "0.05", "--tag", "signal_id=s-1", "--max-unwind-loss", "1")
    assert code == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["state"] == "HEDGED" and result["hedged_quantity"] == "10"
    assert {leg["leg"] for leg in result["legs"]} == {"a", "b"}
    assert result["legs"][0]["tags"]["signal_id"] == "s-1"
    # the same key again: answered from the journal, nothing sent
    code, out = invoke("arb", "--leg", "paper-a:M:YES:0.41", "--leg", "paper-b:M:NO:0.46",
                       "--quantity", "10", "--key", "cli-1")
    assert code == 0 and "HEDGED" in out and "duplicate pair key" in out


def test_arb_reads_pairs_from_a_file(deployment: Path) -> None:
    # after cli-1 takes 10 of each first level, cli-2 fills 150 on a but only 90 on b;
    # completing the other 60 on b at 0.47 still earns, so the pair ends UNWOUND
    second = {**PAIR, "pair_id": "cli-2", "quantity": "150", "max_unwind_loss": "0",
              "legs": [dict(PAIR["legs"][0], limit_price="0.42"), PAIR["legs"][1]]}  # type: ignore[call-overload]
    (deployment / "pairs.jsonl").write_text(
        json.dumps({"pair": PAIR}) + "\n# a comment\n" + json.dumps(second) + "\n")
    code, out = invoke("arb", "--file", "pairs.jsonl")
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[0].startswith("HEDGED") and "cli-1" in lines[0]
    assert lines[1].startswith("UNWOUND") and "150/150 hedged" in lines[1]


def test_arb_exits_3_and_halts_when_a_pair_is_exposed(deployment: Path) -> None:
    (deployment / "deploy.toml").write_text(DEPLOY.replace(
        "[venues.paper-b]\ntype = \"paper\"", "[venues.paper-b]\ntype = \"paper\"\n"
        "reject_rate = 1.0"))
    code, out = invoke("arb", "--leg", "paper-a:M:YES:0.41", "--leg", "paper-b:M:NO:0.46",
                       "--quantity", "10", "--key", "x-1", "--max-unwind-loss", "0")
    assert code == 3, out
    assert out.startswith("EXPOSED") and "EXPOSED 10" in out
    code, out = invoke("arb", "--leg", "paper-a:M:YES:0.41", "--leg", "paper-b:M:NO:0.46",
                       "--quantity", "10", "--key", "x-2")
    assert code == 0 and out.startswith("DENIED") and "[halted]" in out


def test_a_pair_without_an_unwind_bound_is_refused_unless_the_policy_gives_one(
        deployment: Path) -> None:
    leg_args = ("arb", "--leg", "paper-a:M:YES:0.41", "--leg", "paper-b:M:NO:0.46",
                "--quantity", "10")
    code, out = invoke(*leg_args, "--key", "nb-1")
    assert code == 0 and out.startswith("DENIED") and "[no_unwind_bound]" in out, out
    (deployment / "policy.toml").write_text(
        '[[rules]]\nrule = "unwind_bound"\nmax_unwind_loss = "0.75"\n')
    code, out = invoke("--json", "risk", "explain", "--policy", "policy.toml",
                       json.dumps({"pair": {k: v for k, v in PAIR.items()
                                            if k != "max_unwind_loss"}}))
    assert code == 0, out
    explained = json.loads(out)
    explained = explained[0] if isinstance(explained, list) else explained
    assert explained["max_unwind_loss"] == "0.75"
    assert explained["max_unwind_loss_from"] == "policy"
    code, out = invoke("--json", *leg_args, "--key", "nb-1", "--policy", "policy.toml")
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["state"] == "HEDGED", out


def test_arb_refuses_a_malformed_leg(deployment: Path) -> None:
    code, out = invoke("arb", "--leg", "paper-a:M:YES", "--leg", "paper-b:M:NO:0.46",
                       "--quantity", "10")
    assert code == 2 and "VENUE:MARKET:OUTCOME:PRICE" in out


def test_run_executes_pair_lines_beside_single_orders(deployment: Path) -> None:
    order = {"request_id": "o-1", "venue": "paper-a", "market": "M", "outcome": "YES",
             "side": "BUY", "quantity": "2", "limit_price": "0.45", "time_in_force": "IOC"}
    bad = {"pair": {**PAIR, "pair_id": "bad", "quantity": "-1"}}
    (deployment / "requests.jsonl").write_text("\n".join(
        json.dumps(x) for x in ({"pair": PAIR}, order, bad)) + "\n")
    code, out = invoke("--json", "run", "requests.jsonl")
    assert code == 0, out
    db = sqlite3.connect(deployment / "journal.sqlite3")
    pairs = dict(db.execute("SELECT pair_id, state FROM pairs"))
    orders = dict(db.execute("SELECT idempotency_key, status FROM orders"))
    db.close()
    assert pairs == {"cli-1": "HEDGED"}
    assert orders == {"cli-1:a": "FILLED", "cli-1:b": "FILLED", "o-1": "FILLED"}
    summary = json.loads(out.strip().splitlines()[-1])["summary"]
    assert summary["invalid_lines"] == 1 and summary["statuses"]["FILLED"] == 3


def test_a_pair_line_parses_and_a_bad_one_names_its_field() -> None:
    item = parse_line(json.dumps({"pair": PAIR}), "f:1", _parser())
    assert item.request is not None and item.request.pair_id == "cli-1"
    bad = dict(PAIR, legs=[dict(PAIR["legs"][0], limit_prce="0.4"), PAIR["legs"][1]])  # type: ignore[call-overload]
    item = parse_line(json.dumps({"pair": bad}), "f:2", _parser())
    assert item.request is None and item.error_field == "legs[0].limit_prce"


def _parser():  # type: ignore[no-untyped-def]
    from arbexec.sources.jsonl import pair_from_mapping

    return pair_from_mapping
