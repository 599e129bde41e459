"""``arbexec pairs review`` on a terminal: both markets and the flags are shown, and each
answer (accept, reject with a reason, invert, skip, quit) is written at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from terminal import Terminal
from test_review import _seed_catalog

from arbexec.catalog.pairfile import PairStatus, load_pairs
from arbexec.cli import cli


def _proposed(tmp_path: Path) -> Path:
    """A deployment, a catalogue of the labelled markets, and their proposals."""
    config = tmp_path / "deploy.toml"
    config.write_text('[journal]\npath = "state/journal.sqlite3"\n\n[venues.paper]\n'
                      'type = "paper"\n')
    _seed_catalog(tmp_path / "state" / "markets.sqlite3")
    assert CliRunner().invoke(cli, ["-c", str(config), "pairs", "propose"]).exit_code == 0
    return config


@pytest.mark.slow
def test_interactive_review_on_a_terminal(tmp_path: Path) -> None:
    config = _proposed(tmp_path)
    before = load_pairs(tmp_path / "pairs.toml")
    order = sorted(before, key=lambda p: -p.score)[:4]
    term = Terminal(["-c", str(config), "pairs", "review"], cwd=tmp_path)
    for answer in ("a", "r", "i", "s"):
        term.read_until("[q]uit")
        term.send(f"{answer}\n")
        if answer == "r":
            term.read_until("reason")
            term.send("different resolution source\n")
        term.output = term.output[-200:]  # the next prompt is looked for afresh
    term.read_until("[q]uit")
    term.send("q\n")
    assert term.wait() == 0, term.output
    assert "2 accepted, 1 rejected, 1 skipped" in term.output
    after = {p.id: p for p in load_pairs(tmp_path / "pairs.toml")}
    first, second, third, fourth = (after[p.id] for p in order)
    assert first.status is PairStatus.ACCEPTED and first.inverted == order[0].inverted
    assert second.status is PairStatus.REJECTED
    assert second.reason == "different resolution source"
    assert third.status is PairStatus.ACCEPTED and third.inverted is not order[2].inverted
    assert fourth.status is PairStatus.PROPOSED
    untouched = [p for p in after.values() if p.id not in {q.id for q in order}]
    assert all(p.status is PairStatus.PROPOSED for p in untouched)


@pytest.mark.slow
def test_the_terminal_review_shows_both_markets_and_the_flags(tmp_path: Path) -> None:
    config = _proposed(tmp_path)
    flagged = sorted((p for p in load_pairs(tmp_path / "pairs.toml") if p.flags),
                     key=lambda p: -p.score)
    term = Terminal(["-c", str(config), "pairs", "review"], cwd=tmp_path)
    text = ""
    for _ in range(60):  # skip until a flagged pair is on screen
        text = term.read_until("[q]uit")
        if "! " in text.split("score")[-1]:
            break
        term.output = ""
        term.send("s\n")
    term.send("q\n")
    term.wait()
    assert flagged
    shown = text.split("score")[-1]
    assert "kalshi:" in shown and "polymarket:" in shown
    assert "outcomes:" in shown and "closes:" in shown and "rules:" in shown
    assert any(f"! {flag}:" in shown for flag in ("threshold_differs", "source_differs",
                                                  "date_differs", "inverted", "scope_differs",
                                                  "names_differ", "outcome_differs",
                                                  "rules_differ"))
