"""The command line on the built-in paper venue: one-line errors, the kill switch, audit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from arbexec.cli import cli


def deployment(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "deploy.toml"
    path.write_text(f"""
[journal]
path = "journal.sqlite3"

[engine]
wait_budget = 0.05

[venues.paper]
type = "paper"
seed = 1
{extra}
""")
    return path


def invoke(tmp_path: Path, *args: str, extra: str = "", input: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(cli, ["--config", str(deployment(tmp_path, extra)), *args],
                         input=input, catch_exceptions=False)


LINE = ('{{"request_id": "{rid}", "venue": "{venue}", "market": "PAPER-FED-CUT", '
        '"outcome": "YES", "side": "BUY", "quantity": "5", "limit_price": "{price}", '
        '"time_in_force": "IOC"}}')


def requests_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_plugins_json_lists_the_installed_venues(tmp_path: Path) -> None:
    result = invoke(tmp_path, "--json", "plugins")
    assert result.exit_code == 0
    records = json.loads(result.output)
    listed = {r["distribution"]: r for r in records}
    assert listed["arbexec-paper"]["status"] == "ok"
    assert listed["arbexec-paper"]["provides"]["exchange"] == ["paper"]
    core = [r for r in records if r["distribution"] == "arbexec"]
    assert any("jsonl" in r["provides"].get("sink", []) for r in core)
    assert any("max_exposure" in r["provides"].get("risk_rule", []) for r in core)


def test_run_prints_results_and_a_summary(tmp_path: Path) -> None:
    path = requests_file(tmp_path, LINE.format(rid="a", venue="paper", price="0.90"),
                         LINE.format(rid="b", venue="paper", price="0.90"))
    result = invoke(tmp_path, "run", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.count("FILLED") >= 2
    assert "Summary: 2 requests" in result.output


def test_a_bad_line_is_denied_with_its_line_number_and_the_run_goes_on(tmp_path: Path) -> None:
    path = requests_file(tmp_path, LINE.format(rid="a", venue="paper", price="1.5"),
                         LINE.format(rid="b", venue="paper", price="0.90"))
    result = invoke(tmp_path, "--json", "run", str(path))
    lines = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    results = [x for x in lines if "status" in x]
    bad = next(r for r in results if r["reason_code"] == "invalid_request")
    assert bad["status"] == "DENIED"
    assert f"{path}:1: limit_price: 1.5 is outside (0, 1)" in bad["reason"]
    assert any(r["status"] == "FILLED" for r in results)


def test_an_unknown_venue_is_denied_and_nothing_is_sent(tmp_path: Path) -> None:
    path = requests_file(tmp_path, LINE.format(rid="a", venue="nowhere", price="0.90"))
    result = invoke(tmp_path, "--json", "run", str(path))
    first = json.loads(result.output.splitlines()[0])
    assert first["status"] == "DENIED" and first["reason_code"] == "unknown_venue"
    balance = invoke(tmp_path, "--json", "balance")
    assert json.loads(balance.output)[0]["available"] == json.loads(balance.output)[0]["total"]


def test_a_bad_config_value_is_one_clear_line(tmp_path: Path) -> None:
    result = invoke(tmp_path, "run", "-", extra="[risk]\nrules = 'strict'\n")
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "deploy.toml:risk.rules: must be an array of tables" in result.output
    assert "Traceback" not in result.output


def test_config_check_names_missing_plugins(tmp_path: Path) -> None:
    result = invoke(tmp_path, "config", "check", extra="[venues.x]\ntype = 'zebra'\n")
    assert result.exit_code == 2
    assert "venues.x: unknown exchange 'zebra'" in result.output
    assert "pip install ./plugins/arbexec-zebra" in result.output
    assert "pip install arbexec-" not in result.output  # not on the public index


def test_config_check_passes_the_default(tmp_path: Path) -> None:
    result = invoke(tmp_path, "config", "check")
    assert result.exit_code == 0 and result.output.startswith("ok:")


def test_the_halt_survives_restarts_and_blocks_until_resume(tmp_path: Path) -> None:
    assert invoke(tmp_path, "halt", "--reason", "drill").exit_code == 0
    path = requests_file(tmp_path, LINE.format(rid="a", venue="paper", price="0.90"))
    halted = invoke(tmp_path, "--json", "run", str(path))
    assert json.loads(halted.output.splitlines()[0])["reason_code"] == "halted"
    assert invoke(tmp_path, "resume").exit_code == 0
    resumed = invoke(tmp_path, "--json", "run", str(path))
    assert json.loads(resumed.output.splitlines()[0])["status"] == "FILLED"


def test_order_place_status_and_audit(tmp_path: Path) -> None:
    placed = invoke(tmp_path, "--json", "order", "place", "--venue", "paper", "--market",
                    "PAPER-ELECTION", "--outcome", "yes", "--side", "buy", "--quantity", "3",
                    "--price", "0.90", "--tif", "IOC", "--key", "k-1", "--tag", "strategy=s1")
    assert json.loads(placed.output)["status"] == "FILLED"
    again = invoke(tmp_path, "--json", "order", "place", "--venue", "paper", "--market",
                   "PAPER-ELECTION", "--outcome", "yes", "--side", "buy", "--quantity", "3",
                   "--price", "0.90", "--tif", "IOC", "--key", "k-1")
    assert json.loads(again.output)["duplicate"] is True
    status = invoke(tmp_path, "--json", "order", "status", "k-1")
    assert json.loads(status.output)["fills"]
    audit_csv = invoke(tmp_path, "audit", "--format", "csv", "--tag", "strategy=s1")
    assert audit_csv.output.splitlines()[0].startswith("request_id,")
    assert len(audit_csv.output.splitlines()) == 2
    events = invoke(tmp_path, "--json", "audit", "--events", "--kind", "order.sent")
    assert len(json.loads(events.output)) == 1


def test_order_place_with_a_bad_price_names_the_option(tmp_path: Path) -> None:
    result = invoke(tmp_path, "order", "place", "--venue", "paper", "--market", "M",
                    "--outcome", "YES", "--side", "BUY", "--quantity", "3", "--price", "2")
    assert result.exit_code == 2
    assert "--limit-price" in result.output or "--price" in result.output
    assert "outside (0, 1)" in result.output


HELP_PROBE = (
    "import sys\nfrom arbexec.cli import main\ntry:\n    main(['--help'])\n"
    "except SystemExit:\n    pass\n"
    "print([m for m in ('eth_account', 'cryptography', 'coincurve', 'httpx', 'pluggy', "
    "'arbexec.engine', 'arbexec_polymarket.signing', 'arbexec_kalshi.signing', 'rich', "
    "'arbexec.tables', 'arbexec.desk') "
    "if m in sys.modules])"
)


def test_help_imports_nothing_heavy_and_lists_plugin_commands(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True,
                           check=True, env=env)
    assert "'pluggy'" in first.stdout.splitlines()[-1]  # no index yet: plugins were loaded
    for heavy in ("eth_account", "cryptography", "coincurve", "httpx", "rich", "arbexec.desk"):
        assert heavy not in first.stdout.splitlines()[-1]
    second = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True,
                            text=True, check=True, env=env)
    assert second.stdout.strip().splitlines()[-1] == "[]"  # the index answered the help
    for listing in (first.stdout, second.stdout):
        assert "polymarket" in listing and "kalshi" in listing and "paper" in listing


def test_a_changed_plugin_set_refreshes_the_command_index(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, check=True,
                   env=env)
    blocked = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True,
                             text=True, check=True,
                             env={**env, "ARBEXEC_DISABLE_PLUGINS": "kalshi"})
    assert "'pluggy'" in blocked.stdout  # the switch changed the fingerprint: reloaded
    assert "kalshi" not in blocked.stdout.split("Commands:")[1]


def test_a_listed_plugin_command_runs_through_the_host(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "arbexec", "--help"], capture_output=True,
                   check=True, env=env)
    run = subprocess.run([sys.executable, "-m", "arbexec", "kalshi", "--help"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "sign-request" in run.stdout


@pytest.mark.parametrize("command", [["orders"], ["audit"], ["orders", "--open"]])
def test_read_commands_work_on_an_empty_journal(tmp_path: Path, command: list[str]) -> None:
    result = invoke(tmp_path, *command)
    assert result.exit_code == 0


def test_risk_explain_shows_every_rule_and_sends_nothing(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[rules]]\nrule = "order_size"\nmax_quantity = 5\n'
                      '[[rules]]\nrule = "max_exposure"\nmax_total = "100"\n')
    request = ('{"request_id": "x", "venue": "paper", "market": "PAPER-FED-CUT", '
               '"outcome": "YES", "side": "BUY", "quantity": "9", "limit_price": "0.40"}')
    result = invoke(tmp_path, "--json", "risk", "explain", "--policy", str(policy), request)
    assert result.exit_code == 0, result.output
    [explained] = json.loads(result.output)
    rules = {v["rule"]: v for v in explained["verdicts"]}
    assert explained["allowed"] is False
    assert rules["order_size"]["code"] == "quantity_above_max"
    assert rules["order_size"]["figures"] == {"limit": "5", "actual": "9"}
    assert rules["max_exposure"]["allowed"] is True  # every rule is shown, not just the first
    orders = invoke(tmp_path, "--json", "orders")
    assert json.loads(orders.output) == []


def test_risk_explain_judges_a_pair_as_a_unit(tmp_path: Path) -> None:
    extra = '[venues.paper-b]\ntype = "paper"\nseed = 2\n'
    pair = json.dumps({"pair": {
        "pair_id": "arb-1", "quantity": "10", "min_edge": "0.01", "max_unwind_loss": "1",
        "legs": [{"venue": "paper", "market": "PAPER-ELECTION", "outcome": "YES",
                  "limit_price": "0.60"},
                 {"venue": "paper-b", "market": "PAPER-ELECTION", "outcome": "NO",
                  "limit_price": "0.55"}]}})
    result = invoke(tmp_path, "--json", "risk", "explain", pair, extra=extra)
    assert result.exit_code == 0, result.output
    [explained] = json.loads(result.output)
    [verdict] = explained["verdicts"]
    assert explained["allowed"] is False and verdict["code"] == "edge_below_min"
    assert float(verdict["figures"]["edge"]) < 0.01  # YES + NO cost more than 1: no edge
    assert json.loads(invoke(tmp_path, "--json", "orders").output) == []


def test_orders_watch_refreshes_until_interrupted(tmp_path: Path) -> None:
    deploy = deployment(tmp_path)
    watch = subprocess.Popen([sys.executable, "-m", "arbexec", "-c", str(deploy), "orders",
                              "--watch"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    time.sleep(2.5)
    watch.send_signal(signal.SIGINT)
    out, _ = watch.communicate(timeout=10)
    assert watch.returncode == 0
    # piped: plain lines, each said once (tests/cli/test_live_views.py has the changes)
    assert out.splitlines() == ["no orders yet; watching (Ctrl-C stops)"]


def test_an_unusable_journal_path_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    runner = CliRunner()
    result = runner.invoke(cli, ["--journal", str(blocker / "j.sqlite3"), "orders"])
    assert result.exit_code == 2
    assert "cannot create the journal's folder" in result.output
    assert "Traceback" not in result.output


def test_cancelling_an_unknown_order_is_a_user_error(tmp_path: Path) -> None:
    result = invoke(tmp_path, "order", "cancel", "no-such-key")
    assert result.exit_code == 2 and "no order with key" in result.output
