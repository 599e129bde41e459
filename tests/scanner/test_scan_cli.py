"""`arbexec scan` end to end on two paper venues seeded with a crossed pair: found,
executed once, HEDGED at the predicted edge; `--once --json` for a scheduler; the live
table as a person sees it in a terminal; and the session report as a table, JSON and PNG."""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.testing import terminal

from .conftest import PAIR, write_deployment

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_deployment(tmp_path)
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-c", "deploy.toml", *args])
    return result.exit_code, result.output


def test_scan_execute_finds_the_crossed_pair_and_hedges_it_at_the_predicted_edge(
        deployment: Path) -> None:
    code, out = invoke("scan", "--execute", "--once", "--json")
    assert code == 0, out
    scan = json.loads(out.strip().splitlines()[-1])
    assert scan["min_spread"] == "0.05" and scan["opportunities"] == 1
    yes = next(r for r in scan["rows"] if r["direction"] == "yes")
    assert yes["status"] == "executed" and yes["state"] == "HEDGED"
    # 600 contracts through three levels on each book: YES 0.41/0.42/0.43 on a (Kalshi's
    # fee rule) and NO 0.46/0.47/0.48 on b (Polymarket's): 600 - 254 - 284 - 13.2416 fees
    # a: 0.07 x (100 x 0.2419 + 200 x 0.2436 + 300 x 0.2451) = 1.6933 + 3.4104 + 5.1471
    # b: 0.02 x (100 x 0.2484 + 200 x 0.2491 + 300 x 0.2496) = 0.4968 + 0.9964 + 1.4976
    assert (yes["quantity"], yes["limit_a"], yes["limit_b"]) == ("600", "0.43", "0.48")
    assert yes["fees"] == "13.2416" and yes["edge"] == "48.7584"
    assert yes["realised_edge"] == yes["edge"]  # what the executor realised
    no = next(r for r in scan["rows"] if r["direction"] == "no")
    assert no["status"] == "below_min"

    # the pair is in the trading journal under the scan's key, HEDGED
    code, out = invoke("--json", "pairs")
    assert code == 0, out
    pairs = json.loads(out)
    assert [(p["pair_id"], p["state"]) for p in pairs] == [(yes["pair_key"], "HEDGED")]

    # the depth is taken: the next scan finds nothing and sends nothing
    code, out = invoke("scan", "--execute", "--once", "--json")
    assert code == 0, out
    assert json.loads(out.strip().splitlines()[-1])["opportunities"] == 0

    code, out = invoke("scan", "report", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["totals"]["executed"] == 1 and report["totals"]["scans"] == 2
    (row,) = report["pairs"]
    assert row["predicted_edge"] == row["realised_edge"] == "48.7584"


def test_scan_without_execute_only_reports(deployment: Path) -> None:
    code, out = invoke("scan", "--once", "--min-spread", "0.07")
    assert code == 0, out
    lines = out.strip().splitlines()
    # 0.07: 600 clears by the books (0.0813) but not at its limits (0.0679); 300 does
    yes = next(line for line in lines if " yes: " in line)
    assert yes.split()[1] == "seen" and "size 300" in yes and "[not_executing]" in yes
    assert not ANSI.search(out)  # piped: plain lines, no live table
    code, out = invoke("--json", "pairs")
    assert json.loads(out) == []  # nothing traded


def test_bad_settings_and_missing_pairs_are_one_clear_line(deployment: Path) -> None:
    code, out = invoke("scan", "--once", "--min-spread", "lots")
    assert code == 2 and "--min-spread" in out and "Traceback" not in out
    code, out = invoke("scan", "--once", "--pairs", "nothing.toml")
    assert code == 2 and "no pairs file at nothing.toml" in out
    (deployment / "deploy.toml").write_text(
        (deployment / "deploy.toml").read_text().replace('[scan]\n', '[scan]\nspread = 1\n'))
    code, out = invoke("scan", "--once")
    assert code == 2 and "scan.spread" in out and "valid keys" in out
    code, out = invoke("config", "check")  # a deployment check finds it too
    assert code == 2 and "scan.spread" in out


def test_a_pair_on_a_venue_not_configured_is_reported_not_priced(deployment: Path) -> None:
    from arbexec.catalog.pairfile import MarketRef, MatchedPair, PairStatus, save_pairs

    elsewhere = MatchedPair(a=MarketRef(venue="paper-a", market="M"),
                            b=MarketRef(venue="kalshi", market="KX-1"),
                            status=PairStatus.ACCEPTED)
    save_pairs(deployment / "pairs.toml", [PAIR, elsewhere])
    code, out = invoke("scan", "--once")
    assert code == 0 and "unavailable" in out and "venue 'kalshi' is not configured" in out
    code, out = invoke("scan", "report")
    assert code == 0 and "not priced (pair directions): unknown_venue 2" in out, out


def test_the_pairs_file_is_found_by_the_deployment_key(deployment: Path) -> None:
    (deployment / "pairs.toml").rename(deployment / "reviewed.toml")
    code, out = invoke("scan", "--once")
    assert code == 2 and "pairs.toml" in out
    text = (deployment / "deploy.toml").read_text()
    (deployment / "deploy.toml").write_text(text.replace("[scan]\n",
                                                         '[scan]\npairs = "reviewed.toml"\n'))
    code, out = invoke("scan", "--once")
    assert code == 0 and PAIR.id in out, out


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


def test_the_session_report_as_a_table_and_a_png(deployment: Path) -> None:
    assert invoke("scan", "--once")[0] == 0  # seen, not executed
    assert invoke("scan", "--execute", "--once")[0] == 0  # executed
    assert invoke("scan", "--execute", "--once")[0] == 0  # nothing left
    code, out = invoke("scan", "report", "--png", "report.png")
    assert code == 0, out
    assert "3 scans, 2 opportunities, 1 executed, 0 missed, 1 seen without executing" in out
    assert "Will it happen?" in out and "not_executing" in out
    assert "chart: report.png" in out
    width, height = png_size(deployment / "report.png")
    assert (width, height) == (1000, 700)
    assert (deployment / "report.png").stat().st_size > 20_000  # lines, markers, bars, text


def test_the_png_report_says_how_to_install_matplotlib(deployment: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    code, out = invoke("scan", "report", "--png", "r.png")
    assert code == 2 and "pip install 'arbexec[report]'" in out
    assert not (deployment / "r.png").exists()
    code, out = invoke("scan", "report")  # the table needs no matplotlib
    assert code == 0 and "no scans in this period" in out


def in_terminal(cwd: Path, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"})
    return terminal.in_terminal([sys.executable, "-m", "arbexec", "-c", "deploy.toml", *args],
                                cwd=cwd, env=env)


def test_the_live_table_as_a_person_sees_it(deployment: Path) -> None:
    code, screen = in_terminal(deployment, "scan", "--iterations", "2", "--interval", "0.1")
    assert code == 0, screen
    assert "\x1b[" in screen, "a terminal gets a live, styled table"
    text = ANSI.sub("", screen)
    assert "Traceback" not in text
    lines = text.splitlines()
    header = next(line for line in lines if "edge/contract" in line)
    assert header.split()[:4] == ["pair", "buy", "a", "buy"]
    row = next(line for line in lines if "paper-a YES @0.43" in line)
    assert "paper-b NO @0.48" in row and "600" in row and "seen" in row
    # the figures sit under their headers (right-aligned: they end where the header ends)
    assert row.index("0.081264") + len("0.081264") == header.index("edge/contract") + len(
        "edge/contract")
    assert re.search(r"min spread 0\.05\s+1 opportunities, 0 executed", text)


def test_an_exposed_pair_exits_3_and_later_opportunities_are_missed_with_the_reason(
        deployment: Path) -> None:
    text = (deployment / "deploy.toml").read_text()
    (deployment / "deploy.toml").write_text(text.replace(
        'fees = "polymarket"', 'fees = "polymarket"\nreject_rate = 1.0'))
    code, out = invoke("scan", "--execute", "--once", "--json", "--max-unwind-loss", "0",
                       "--max-quantity", "10")
    assert code == 3, out
    yes = next(r for r in json.loads(out.strip().splitlines()[-1])["rows"]
               if r["direction"] == "yes")
    assert (yes["status"], yes["state"], yes["reason_code"]) == ("missed", "EXPOSED",
                                                                 "exposed")
    # the same opportunity again is answered from the journal: not sent, not reported again
    code, out = invoke("scan", "--execute", "--once", "--json", "--max-quantity", "10")
    assert code == 0, out
    yes = next(r for r in json.loads(out.strip().splitlines()[-1])["rows"]
               if r["direction"] == "yes")
    assert (yes["status"], yes["reason_code"]) == ("seen", "handled_before")
    # a new opportunity: trading is halted, so it is refused before anything is sent
    code, out = invoke("scan", "--execute", "--once", "--json", "--max-quantity", "20")
    assert code == 0, out
    yes = next(r for r in json.loads(out.strip().splitlines()[-1])["rows"]
               if r["direction"] == "yes")
    assert (yes["status"], yes["reason_code"]) == ("missed", "halted")
    code, out = invoke("scan", "report")
    assert code == 0 and "exposed" in out and "halted" in out and "2 missed" in out, out


def test_only_accepted_pairs_are_scanned(deployment: Path) -> None:
    from attrs import evolve

    from arbexec.catalog.pairfile import MarketRef, PairStatus, save_pairs

    proposed = evolve(PAIR, status=PairStatus.PROPOSED, id="",
                      b=MarketRef(venue="paper-b", market="OTHER"))
    proposed = evolve(proposed, id=f"{proposed.a.venue}:{proposed.a.market}~paper-b:OTHER")
    save_pairs(deployment / "pairs.toml", [proposed])
    code, out = invoke("scan", "--once")
    assert code == 2 and "has no accepted pairs (1 in all)" in out
    save_pairs(deployment / "pairs.toml", [proposed, PAIR,
                                           evolve(proposed, status=PairStatus.REJECTED)])
    code, out = invoke("scan", "--once")
    assert code == 0 and PAIR.id in out and "OTHER" not in out, out
