"""`--json` on every command that prints; `audit`: statuses checked, --limit, relative
times, refused filters, event data as nested JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from arbexec.cli import cli
from arbexec.cli_options import parse_when

DEPLOY = """
[journal]
path = "journal.sqlite3"
[engine]
wait_budget = 0.05
[venues.paper]
type = "paper"
seed = 1
"""


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOY)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["-c", "deploy.toml", *args], catch_exceptions=False)


def place(rid: str, price: str = "0.90", tif: str = "IOC") -> None:
    result = invoke("order", "place", "--venue", "paper", "--market", "PAPER-FED-CUT",
                    "--outcome", "YES", "--side", "BUY", "--quantity", "5", "--price", price,
                    "--tif", tif, "--key", rid)
    assert result.exit_code == 0, result.output


def leaf_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out.extend(leaf_commands(command, f"{prefix}{name} "))
        elif (getattr(command.callback, "__module__", "") or "").startswith("arbexec"):
            out.append((f"{prefix}{name}", command))
    return out


@pytest.mark.parametrize("name,command", leaf_commands(cli), ids=lambda v: str(v))
def test_every_core_command_takes_json(name: str, command: click.Command) -> None:
    assert any("--json" in getattr(p, "opts", ()) for p in command.params), name


@pytest.mark.parametrize("args", [("orders",), ("audit",), ("config", "check"), ("pnl",),
                                  ("status",), ("halt",), ("resume",)])
def test_json_after_the_command_prints_json(desk: Path, args: tuple[str, ...]) -> None:
    place("j-1")
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    json.loads(result.output.strip().splitlines()[-1])


def test_config_check_json_reports_the_venues(desk: Path) -> None:
    report = json.loads(invoke("--json", "config", "check").output)
    assert report["ok"] is True and report["venues"] == [{"name": "paper", "type": "paper"}]


def test_an_unknown_status_is_an_error_naming_the_valid_ones(desk: Path) -> None:
    for command in ("audit", "orders"):
        result = invoke(command, "--status", "FILED")
        assert result.exit_code == 2
        assert "unknown status 'FILED'" in result.output
        assert "FILLED" in result.output and "PARTIALLY_FILLED" in result.output


def test_a_status_in_lower_case_is_accepted(desk: Path) -> None:
    place("lc-1")
    rows = json.loads(invoke("--json", "audit", "--status", "filled").output)
    assert [r["idempotency_key"] for r in rows] == ["lc-1"]


def test_audit_limit_keeps_the_latest_rows(desk: Path) -> None:
    for n in range(3):
        place(f"l-{n}")
    rows = json.loads(invoke("--json", "audit", "--limit", "2").output)
    assert [r["idempotency_key"] for r in rows] == ["l-1", "l-2"]
    events = json.loads(invoke("--json", "audit", "--events", "--limit", "1").output)
    assert len(events) == 1


def test_audit_event_data_is_nested_json(desk: Path) -> None:
    place("n-1")
    events = json.loads(invoke("--json", "audit", "--events", "--key", "n-1").output)
    assert events and all(isinstance(e["data"], dict) for e in events)
    assert any(e["data"].get("venue") == "paper" for e in events)


def test_audit_takes_relative_times(desk: Path) -> None:
    place("r-1")
    assert len(json.loads(invoke("--json", "audit", "--since", "1h").output)) == 1
    assert json.loads(invoke("--json", "audit", "--until", "1h").output) == []
    assert len(json.loads(invoke("--json", "audit", "--since", "yesterday").output)) == 1
    bad = invoke("audit", "--since", "soon")
    assert bad.exit_code == 2 and "30m, 1h, 2d" in bad.output


def test_relative_times_are_counted_back_from_now() -> None:
    now = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    assert parse_when("90m", "--since", now=now) == datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
    assert parse_when("2d", "--since", now=now) == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    assert parse_when("today", "--since", now=now) == datetime(2026, 3, 4, tzinfo=UTC)
    assert parse_when("yesterday", "--since", now=now) == datetime(2026, 3, 3, tzinfo=UTC)
    assert parse_when("2026-01-02T03:04:05+00:00", "--since", now=now) == datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_audit_events_refuses_order_filters_it_cannot_apply(desk: Path) -> None:
    result = invoke("audit", "--events", "--venue", "paper", "--status", "FILLED")
    assert result.exit_code == 2
    assert "--venue, --status filter orders, not events" in result.output
    result = invoke("audit", "--kind", "halt")
    assert result.exit_code == 2 and "add --events" in result.output


def test_audit_events_filter_by_request_id(desk: Path) -> None:
    place("q-1")
    place("q-2")
    events = json.loads(invoke("--json", "audit", "--events", "--request-id", "q-2").output)
    assert events and {e["request_id"] for e in events} == {"q-2"}
