"""What a person sees: `status` and `run` in a pseudo-terminal (colour, aligned tables),
and the same commands piped (no colour codes), with NO_COLOR honoured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from arbexec.testing import terminal

DEPLOY = """
[journal]
path = "journal.sqlite3"
[engine]
wait_budget = 0.05
[venues.paper]
type = "paper"
seed = 1
[[risk.rules]]
rule = "max_exposure"
max_total = "2500"
"""

LINES = "\n".join([
    '{"request_id": "fills", "venue": "paper", "market": "PAPER-FED-CUT", "outcome": "YES", '
    '"side": "BUY", "quantity": "5", "limit_price": "0.90", "time_in_force": "IOC"}',
    '{"request_id": "rests", "venue": "paper", "market": "PAPER-FED-CUT", "outcome": "YES", '
    '"side": "BUY", "quantity": "5", "limit_price": "0.05"}',
]) + "\n"

ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: an escape that sets a foreground or background colour (bold and italic are not colour)
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
ARBEXEC = [sys.executable, "-m", "arbexec", "-c", "deploy.toml"]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", **extra}


def in_terminal(cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    """Run arbexec with a pseudo-terminal as stdin, stdout and stderr; all it wrote."""
    return terminal.in_terminal([*ARBEXEC, *args], cwd=cwd, env=environment(**env))


def piped(cwd: Path, *args: str) -> tuple[int, str]:
    run = subprocess.run([*ARBEXEC, *args], cwd=cwd, capture_output=True, text=True,
                         env=environment(), timeout=120)
    return run.returncode, run.stdout


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    (tmp_path / "deploy.toml").write_text(DEPLOY)
    (tmp_path / "requests.jsonl").write_text(LINES)
    return tmp_path


def test_run_then_status_as_a_person_sees_them(desk: Path) -> None:
    code, screen = in_terminal(desk, "run", "requests.jsonl")
    assert code == 0, screen
    assert "FILLED" in screen and "OPEN" in screen
    assert "Summary: 2 requests" in screen
    assert "by venue:  paper filled 1, open 1" in screen
    assert "still open: 1 order(s) resting" in screen
    assert "Traceback" not in screen

    code, screen = in_terminal(desk, "status")
    assert code == 0, screen
    assert COLOUR.search(screen), "a terminal gets colour"
    text = ANSI.sub("", screen)
    lines = text.splitlines()
    header = next(line for line in lines if "open orders" in line)
    row = next(line for line in lines if line.startswith("paper"))
    # the figures sit under their headers: right-aligned columns end where the header ends
    assert row.index("1") + 1 == header.index("open orders") + len("open orders")
    assert "trading: allowed" in text
    assert re.search(r"total\s+total\s+\$\d+\.\d\d\s+\$2500\.00", text)
    assert "journal: " in text


def test_no_color_and_pipes_get_no_colour_codes(desk: Path) -> None:
    assert in_terminal(desk, "run", "requests.jsonl")[0] == 0
    code, screen = in_terminal(desk, "status", NO_COLOR="1")
    assert code == 0 and "open orders" in screen
    assert not COLOUR.search(screen), "NO_COLOR: no colour (bold headers may stay)"
    code, out = piped(desk, "status")
    assert code == 0 and "open orders" in out
    assert not ANSI.search(out)
    code, out = piped(desk, "halt", "--reason", "drill")
    assert code == 0
    code, screen = in_terminal(desk, "status")
    assert "HALTED: drill" in ANSI.sub("", screen)
