"""``arbexec markets search`` and ``show`` over a catalogue of the labelled markets, as a
table and as JSON, and the mistakes a user can make with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_review import _seed_catalog

from arbexec.cli import cli


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "deploy.toml"
    path.write_text('[journal]\npath = "state/journal.sqlite3"\n\n[venues.paper]\n'
                    'type = "paper"\n')
    _seed_catalog(tmp_path / "state" / "markets.sqlite3")
    return path


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    return result.exit_code, result.output


def test_search_finds_by_every_word_best_first(config: Path) -> None:
    code, out = _run(config, "markets", "search", "bitcoin", "100,000", "--json")
    assert code == 0, out
    found = json.loads(out)
    assert found and all("bitcoin" in m["title"].lower() and "100,000" in m["title"]
                         for m in found)
    assert {m["venue"] for m in found} == {"kalshi", "polymarket"}
    code, out = _run(config, "markets", "search", "bitcoin", "--venue", "kalshi", "--limit", "2")
    assert code == 0 and "markets matching 'bitcoin'" in out
    assert "kalshi" in out and "polymarket" not in out and out.count("KXLAB") == 2


def test_search_with_nothing_found_says_how_to_fill_the_catalogue(config: Path) -> None:
    code, out = _run(config, "markets", "search", "no-such-words-anywhere")
    assert code == 0 and "arbexec markets sync" in out


def test_show_prints_every_field_of_one_market(config: Path) -> None:
    code, out = _run(config, "markets", "search", "Lakers", "Celtics", "--venue", "polymarket",
                     "--json")
    condition = json.loads(out)[0]["market"]
    code, out = _run(config, "markets", "show", f"polymarket:{condition}", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["market"] == condition and shown["outcomes"] == ["Lakers", "Celtics"]
    assert shown["refreshed_at"] and shown["close_time"].startswith("2026-12-26")
    assert "game" in shown["rules"] and shown["tick_size"] == "0.01"
    code, out = _run(config, "markets", "show", condition)
    assert code == 0 and "resolution_source" in out and "Lakers" in out


@pytest.mark.parametrize("args, message", [
    (["markets", "show", "kalshi:NOPE"], "no market 'kalshi:NOPE'"),
    (["markets", "sync", "nope"], "no venue 'nope'"),
])
def test_mistakes_are_one_line(config: Path, args: list[str], message: str) -> None:
    code, out = _run(config, *args)
    assert code == 2 and message in out and "Traceback" not in out


def test_propose_needs_two_catalogued_venues(tmp_path: Path) -> None:
    config = tmp_path / "deploy.toml"
    config.write_text('[journal]\npath = "state/journal.sqlite3"\n')
    code, out = _run(config, "pairs", "propose")
    assert code == 2 and "pairs need two" in out and "arbexec markets sync" in out
    assert not (tmp_path / "pairs.toml").exists()


def test_propose_names_a_venue_the_catalogue_does_not_hold(config: Path) -> None:
    code, out = _run(config, "pairs", "propose", "--venue", "kalshi", "--venue", "nope")
    assert code == 2 and "no markets of 'nope'" in out
