"""``arbexec pairs propose`` and ``review`` through click's runner, and a sync that
deactivates an accepted pair whose market changed. ``arbexec pairs`` alone still lists
the journal's arbitrage pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from labelled import labelled

from arbexec.catalog.pairfile import PairStatus, load_pairs
from arbexec.catalog.store import Catalog
from arbexec.cli import cli


def _seed_catalog(path: Path) -> None:
    items = labelled()
    with Catalog.open(path) as catalog:
        for venue, listings in (("polymarket", [a for a, _, _, _ in items]),
                                ("kalshi", [b for _, b, _, _ in items])):
            catalog.store_page(catalog.begin_sync(venue), listings, None)


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    config = tmp_path / "deploy.toml"
    config.write_text('[journal]\npath = "state/journal.sqlite3"\n\n[venues.paper]\n'
                      'type = "paper"\n')
    _seed_catalog(tmp_path / "state" / "markets.sqlite3")
    return {"config": config, "pairs": tmp_path / "pairs.toml"}


def _run(workspace: dict[str, Path], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-c", str(workspace["config"]), *args])
    return result.exit_code, result.output


def test_propose_writes_proposals_beside_the_deployment(workspace: dict[str, Path]) -> None:
    code, out = _run(workspace, "pairs", "propose", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["pairs_file"] == str(workspace["pairs"]) and report["new"] > 36
    pairs = load_pairs(workspace["pairs"])
    assert all(p.status is PairStatus.PROPOSED for p in pairs)
    inverted = [p for p in pairs if p.inverted]
    assert inverted and all("inverted" in p.flags for p in inverted)
    sides = {(p.a.venue, p.b.venue) for p in pairs}
    assert sides == {("kalshi", "polymarket")}  # sides in venue order: ids are stable
    assert all(p.b.closes_at and p.a.closes_at for p in pairs)


def test_accept_unflagged_takes_only_high_scores_without_flags(
        workspace: dict[str, Path]) -> None:
    _run(workspace, "pairs", "propose")
    code, out = _run(workspace, "pairs", "review", "--accept-unflagged", "--min-score", "0.8")
    assert code == 0, out
    pairs = load_pairs(workspace["pairs"])
    taken = [p for p in pairs if p.status is PairStatus.ACCEPTED]
    assert taken and all(not p.flags and p.score >= 0.8 and p.reviewed_at for p in taken)
    assert all(p.flags or p.score < 0.8 for p in pairs if p.status is PairStatus.PROPOSED)
    assert f"{len(taken)} pairs decided" in out


def test_review_by_flags_accepts_rejects_and_inverts(workspace: dict[str, Path]) -> None:
    _run(workspace, "pairs", "propose")
    pairs = load_pairs(workspace["pairs"])
    one, two, three = pairs[0], pairs[1], pairs[2]
    code, out = _run(workspace, "pairs", "review", "--accept", one.id[:40], "--reject", two.id,
                     "--reason", "different threshold", "--invert", three.id)
    assert code == 0, out
    after = {p.id: p for p in load_pairs(workspace["pairs"])}
    assert after[one.id].status is PairStatus.ACCEPTED and after[one.id].inverted == one.inverted
    assert after[two.id].status is PairStatus.REJECTED
    assert after[two.id].reason == "different threshold"
    assert after[three.id].status is PairStatus.ACCEPTED
    assert after[three.id].inverted is not three.inverted
    # proposing again keeps every review
    _run(workspace, "pairs", "propose")
    again = {p.id: p for p in load_pairs(workspace["pairs"])}
    for pid in (one.id, two.id, three.id):
        assert (again[pid].status, again[pid].inverted, again[pid].reason) == (
            after[pid].status, after[pid].inverted, after[pid].reason)


@pytest.mark.parametrize("args, message", [
    (["--accept", "nope"], "no pair 'nope'"),
    (["--accept", "kalshi:"], "names"),
    (["--reason", "x"], "--reason goes with --reject"),
    (["--min-score", "0.9"], "--min-score goes with --accept-unflagged"),
])
def test_review_mistakes_are_one_line_and_change_nothing(
        workspace: dict[str, Path], args: list[str], message: str) -> None:
    _run(workspace, "pairs", "propose")
    before = workspace["pairs"].read_bytes()
    code, out = _run(workspace, "pairs", "review", *args)
    assert code == 2 and message in out and "Traceback" not in out
    assert workspace["pairs"].read_bytes() == before


def test_one_pair_cannot_be_both_accepted_and_rejected(workspace: dict[str, Path]) -> None:
    _run(workspace, "pairs", "propose")
    pid = load_pairs(workspace["pairs"])[0].id
    code, out = _run(workspace, "pairs", "review", "--accept", pid, "--reject", pid)
    assert code == 2 and "both --accept and --reject" in out


def test_review_off_a_terminal_lists_what_awaits(workspace: dict[str, Path]) -> None:
    _run(workspace, "pairs", "propose")
    code, out = _run(workspace, "pairs", "review", "--json")
    assert code == 0
    waiting = json.loads(out)["awaiting_review"]
    assert len(waiting) == len(load_pairs(workspace["pairs"]))
    assert {"id", "score", "flags", "inverted", "a", "b"} <= set(waiting[0])


def test_pairs_alone_still_lists_the_journal_pairs(workspace: dict[str, Path]) -> None:
    code, out = _run(workspace, "pairs")
    assert code == 0 and "no pairs in the journal" in out
    code, out = _run(workspace, "pairs", "--json")
    assert code == 0 and json.loads(out) == []


def _paper_deployment(path: Path, title_b: str, close_b: str) -> None:
    path.write_text(f'''[journal]
path = "state/journal.sqlite3"

[venues.paper-a]
type = "paper"
[venues.paper-a.markets.BTC-A]
mid = "0.40"
title = "Will Bitcoin be above $100,000 on December 31, 2026?"
close_time = "2026-12-31T23:59:00Z"

[venues.paper-b]
type = "paper"
[venues.paper-b.markets.BTC-B]
mid = "0.45"
title = "{title_b}"
close_time = "{close_b}"
''')


@pytest.mark.parametrize("change, reason", [
    ({"title_b": "Will Bitcoin be above $105,000 on Dec 31, 2026?"}, "title changed"),
    ({"close_b": "2027-01-02T04:59:00Z"}, "close time moved"),
])
def test_a_sync_deactivates_an_accepted_pair_whose_market_changed(
        tmp_path: Path, change: dict[str, str], reason: str) -> None:
    config = tmp_path / "deploy.toml"
    settings = {"title_b": "Will Bitcoin be above $100,000 on Dec 31, 2026?",
                "close_b": "2027-01-01T04:59:00Z"}
    _paper_deployment(config, **settings)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["-c", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("markets", "sync", "--propose")
    pairs = load_pairs(tmp_path / "pairs.toml")
    assert [(p.a.market, p.b.market) for p in pairs] == [("BTC-A", "BTC-B")]
    run("pairs", "review", "--accept", pairs[0].id)
    run("markets", "sync")  # nothing changed: still accepted
    assert load_pairs(tmp_path / "pairs.toml")[0].status is PairStatus.ACCEPTED
    _paper_deployment(config, **{**settings, **change})
    out = run("markets", "sync")
    pair = load_pairs(tmp_path / "pairs.toml")[0]
    assert pair.status is PairStatus.INACTIVE and reason in pair.reason
    assert "paper-b:BTC-B" in pair.reason and "deactivated" in out


def test_a_sync_deactivates_an_accepted_pair_whose_market_left_the_listing(
        tmp_path: Path) -> None:
    config = tmp_path / "deploy.toml"
    _paper_deployment(config, "Will Bitcoin be above $100,000 on Dec 31, 2026?",
                      "2027-01-01T04:59:00Z")
    runner = CliRunner()
    assert runner.invoke(cli, ["-c", str(config), "markets", "sync", "--propose"]).exit_code == 0
    runner.invoke(cli, ["-c", str(config), "pairs", "review", "--accept-unflagged"])
    assert load_pairs(tmp_path / "pairs.toml")[0].status is PairStatus.ACCEPTED
    text = config.read_text().replace("[venues.paper-b.markets.BTC-B]",
                                      "[venues.paper-b.markets.ETH-B]")
    config.write_text(text)
    result = runner.invoke(cli, ["-c", str(config), "markets", "sync"])
    assert result.exit_code == 0, result.output
    pair = load_pairs(tmp_path / "pairs.toml")[0]
    assert pair.status is PairStatus.INACTIVE and "paper-b:BTC-B is closed" in pair.reason
