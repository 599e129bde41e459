"""``arbexec markets sync`` of 20,000 markets from a loopback Kalshi stand-in: a progress
bar on a terminal, and a pass interrupted (Ctrl-C, or the venue going away) resumes at
the page it had not stored, ending with every market once."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest
from arbexec_kalshi.testing.catalogue import CatalogueServer
from click.testing import CliRunner
from terminal import Terminal

from arbexec.cli import cli

COUNT = 20_000


def _deployment(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "deploy.toml"
    path.write_text(f'[journal]\npath = "state/journal.sqlite3"\n\n[venues.kalshi]\n'
                    f'type = "kalshi"\nbase_url = "{base_url}"\n')
    return path


def _stored(tmp_path: Path) -> tuple[int, int]:
    with sqlite3.connect(tmp_path / "state" / "markets.sqlite3") as db:
        count, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT market) FROM markets").fetchone()
    return int(count), int(distinct)


@pytest.mark.slow
def test_a_sync_interrupted_by_ctrl_c_resumes_with_a_progress_bar(tmp_path: Path) -> None:
    with CatalogueServer(COUNT) as server:
        config = _deployment(tmp_path, server.base_url)
        server.hold_from = "c9000"
        first = Terminal(["-c", str(config), "markets", "sync", "kalshi"], cwd=tmp_path)
        first.wait_for(server.held.is_set)
        first.read_until("9000/")  # the bar has counted the stored pages
        first.process.send_signal(signal.SIGINT)
        assert first.wait() == 130
        assert "interrupted" in first.output and "resume" in first.output
        assert "sync kalshi" in first.output and "━" in first.output  # rich's bar
        assert _stored(tmp_path) == (9000, 9000)
        server.release()
        asked_before = len(server.requests)
        second = Terminal(["-c", str(config), "markets", "sync", "kalshi"], cwd=tmp_path)
        assert second.wait() == 0, second.output
    assert server.requests[asked_before] == "c9000"  # resumed, not started over
    assert len(server.requests) - asked_before == 11
    assert "kalshi: resumed, 11000 markets in 11 pages (20000 this pass)" in second.output
    assert "20000/20000" in second.output.replace(",", "")
    assert _stored(tmp_path) == (COUNT, COUNT)


@pytest.mark.slow
def test_a_sync_the_venue_breaks_off_says_so_and_the_next_run_resumes(tmp_path: Path) -> None:
    runner = CliRunner()
    with CatalogueServer(COUNT) as server:
        config = _deployment(tmp_path, server.base_url)
        server.fail_from = "c12000"
        broken = runner.invoke(cli, ["-c", str(config), "markets", "sync", "--json"])
        assert broken.exit_code == 3, broken.output
        assert '"stored":12000' in broken.output and '"resumable":true' in broken.output
        assert "━" not in broken.output  # no bar when not on a terminal
        server.fail_from = None
        again = runner.invoke(cli, ["-c", str(config), "markets", "sync"])
        assert again.exit_code == 0, again.output
        assert "resumed, 8000 markets in 8 pages (20000 this pass)" in again.output
        assert _stored(tmp_path) == (COUNT, COUNT)
        later = runner.invoke(cli, ["-c", str(config), "markets", "sync", "--json"])
        assert later.exit_code == 0, later.output
        assert '"incremental":true' in later.output and '"markets":0' in later.output
        assert '"unlisted":0' in later.output  # unchanged markets stay open
    assert _stored(tmp_path) == (COUNT, COUNT)
