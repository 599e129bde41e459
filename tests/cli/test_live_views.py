"""The live views as a person sees them, in a pseudo-terminal: the progress line of `run`,
the live table of `orders --watch`; and the same commands piped, with no screen codes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arbexec.testing.terminal import in_terminal as run_in_terminal

DEPLOY = """
[journal]
path = "journal.sqlite3"
[engine]
wait_budget = 0.05
max_in_flight = 4
[venues.paper]
type = "paper"
seed = 1
latency_ms = 100
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ARBEXEC = [sys.executable, "-m", "arbexec", "-c", "deploy.toml"]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}


def in_terminal(cwd: Path, *args: str, interrupt_after: float | None = None
                ) -> tuple[int, str]:
    """Run arbexec on a pseudo-terminal; Ctrl-C it after ``interrupt_after`` seconds."""
    return run_in_terminal([*ARBEXEC, *args], cwd=cwd, env=environment(), timeout=60,
                           interrupt_after=interrupt_after)


def visible_lines(screen: str) -> list[str]:
    """What stays on each line once carriage returns and erases have done their work."""
    return [ANSI.sub("", part.split("\r")[-1]) for part in screen.split("\n")]


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    (tmp_path / "deploy.toml").write_text(DEPLOY)
    lines = [json.dumps({"request_id": f"r{i}", "venue": "paper", "market": "PAPER-FED-CUT",
                         "outcome": "YES", "side": "BUY", "quantity": "1",
                         "limit_price": "0.90", "time_in_force": "IOC"}) for i in range(20)]
    (tmp_path / "requests.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_run_shows_a_live_progress_line_on_a_terminal(desk: Path) -> None:
    code, screen = in_terminal(desk, "run", "requests.jsonl")
    assert code == 0, screen
    text = ANSI.sub("", screen)
    assert re.search(r"progress: \d+ done, \d+ in flight, \d+\.\d/s; FILLED \d+", text), text
    assert "progress: 0 done, 4 in flight" in text  # drawn before the first answer
    shown = visible_lines(screen)
    # every row starts at the margin: the line is erased before a row is printed
    rows = [line for line in shown if "PAPER-FED-CUT" in line]
    assert len(rows) == 20 and all(line.startswith("FILLED") for line in rows), rows
    # and it is gone when the run ends: the summary is not preceded by a stale line
    assert not any("progress:" in line for line in shown), shown
    assert "Summary: 20 requests" in text


def test_run_piped_prints_no_progress_and_no_screen_codes(desk: Path) -> None:
    run = subprocess.run([*ARBEXEC, "run", "requests.jsonl"], cwd=desk, capture_output=True,
                         text=True, env=environment(), timeout=120)
    assert run.returncode == 0, run.stderr
    assert "progress" not in run.stdout + run.stderr
    assert "\x1b" not in run.stdout + run.stderr and "\r" not in run.stdout + run.stderr
    assert run.stdout.count("FILLED ") == 20


def test_orders_watch_is_a_live_table_on_a_terminal(desk: Path) -> None:
    subprocess.run([*ARBEXEC, "run", "requests.jsonl"], cwd=desk, capture_output=True,
                   env=environment(), timeout=120, check=True)
    code, screen = in_terminal(desk, "orders", "--watch", "--limit", "5", "--interval",
                               "0.2", interrupt_after=2.0)
    assert code == 0, screen
    text = ANSI.sub("", screen)
    assert text.count("orders (5) at") >= 3, "redrawn every interval"
    assert re.search(r"\x1b\[\d*A", screen), "redrawn in place (the cursor moves up)"
    header = next(line for line in text.splitlines() if line.lstrip().startswith("status"))
    for column in ("request", "venue", "market", "side", "quantity", "limit", "filled"):
        assert column in header
    assert re.search(r"FILLED\s+r1[5-9]\s+paper\s+PAPER-FED-CUT\s+BUY YES\s+1\s+@<=0.90", text)
    assert "Traceback" not in text


def test_orders_watch_piped_prints_each_order_once_and_again_when_it_changes(
        desk: Path) -> None:
    subprocess.run([*ARBEXEC, "run", "requests.jsonl"], cwd=desk, capture_output=True,
                   env=environment(), timeout=120, check=True)
    watcher = subprocess.Popen([*ARBEXEC, "orders", "--watch", "--interval", "0.2"], cwd=desk,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment())
    time.sleep(1.5)
    subprocess.run([*ARBEXEC, "order", "place", "--venue", "paper", "--market",
                    "PAPER-FED-CUT", "--outcome", "yes", "--side", "buy", "--quantity", "1",
                    "--price", "0.05", "--key", "late"], cwd=desk, capture_output=True,
                   env=environment(), timeout=120, check=True)
    time.sleep(1.0)
    watcher.send_signal(signal.SIGINT)
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    lines = out.splitlines()
    assert "\x1b" not in out
    assert len([line for line in lines if line.startswith("FILLED")]) == 20
    assert [line for line in lines if " late " in f" {line} " or "late" in line.split()[1:2]]
    assert lines[-1].startswith("OPEN") and "late" in lines[-1]
