"""The README's main job on the built-in default, and a clean Ctrl-C."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_main_job_runs_the_example_requests_on_the_paper_venue(tmp_path: Path) -> None:
    """`arbexec run examples/requests.jsonl` with no config: the built-in paper deployment."""
    run = subprocess.run([sys.executable, "-m", "arbexec", "run",
                          str(REPO / "examples" / "requests.jsonl")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    summary = out[out.index("Summary:"):]
    for word in ("filled", "partially filled:", "denied", "rejected", "cancelled", "open",
                 "fees $", "latency:",
                 "p50", "p99", "duplicates: 1", "invalid lines: 2"):
        assert word in summary, (word, summary)
    assert (tmp_path / ".arbexec" / "journal.sqlite3").exists()
    again = subprocess.run([sys.executable, "-m", "arbexec", "--json", "run",
                            str(REPO / "examples" / "requests.jsonl")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    results = [json.loads(line) for line in again.stdout.splitlines()
               if line.startswith("{") and '"status"' in line]
    sent_before = [r for r in results if r["reason_code"] != "invalid_request"
                   and r["status"] != "DENIED"]
    assert sent_before and all(r["duplicate"] for r in sent_before)  # nothing sent twice


def test_ctrl_c_stops_reading_and_finishes_what_was_taken(tmp_path: Path) -> None:
    (tmp_path / "deploy.toml").write_text(
        '[journal]\npath = "j.sqlite3"\n[engine]\nwait_budget = 0.1\n'
        '[venues.paper]\ntype = "paper"\nlatency_ms = 30\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "arbexec", "-c", "deploy.toml", "run", "-"], cwd=tmp_path,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdin is not None
    for i in range(5):
        process.stdin.write(json.dumps({
            "request_id": f"c{i}", "venue": "paper", "market": "PAPER-ELECTION",
            "outcome": "YES", "side": "BUY", "quantity": "1", "limit_price": "0.90",
            "time_in_force": "IOC"}) + "\n")
        process.stdin.flush()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until every request is at least journaled
        if (tmp_path / "j.sqlite3").exists():
            db = sqlite3.connect(tmp_path / "j.sqlite3")
            try:
                if db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 5:
                    break
            except sqlite3.OperationalError:
                pass
            finally:
                db.close()
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)  # stdin stays open: only Ctrl-C can end the run
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.returncode is not None, "Ctrl-C did not stop a run reading stdin"
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Ctrl-C" in err and "Traceback" not in err
    assert "Summary: 5 requests" in out
    db = sqlite3.connect(tmp_path / "j.sqlite3")
    statuses = [s for (s,) in db.execute("SELECT status FROM orders")]
    db.close()
    assert len(statuses) == 5 and not {"PENDING", "UNKNOWN"} & set(statuses)


def test_undecodable_bytes_are_a_reported_line_not_a_crash(tmp_path: Path) -> None:
    good = (b'{"request_id": "g", "venue": "paper", "market": "PAPER-ELECTION", "outcome": '
            b'"YES", "side": "BUY", "quantity": "1", "limit_price": "0.90", '
            b'"time_in_force": "IOC"}\n')
    data = good + b"\xff\xfe not text\n"
    (tmp_path / "requests.jsonl").write_bytes(data)
    for source, stdin in (("requests.jsonl", None), ("-", data)):
        run = subprocess.run([sys.executable, "-m", "arbexec", "--json", "run", source],
                             cwd=tmp_path, input=stdin, capture_output=True, timeout=60)
        assert run.returncode == 0, run.stderr
        results = [json.loads(x) for x in run.stdout.splitlines()[:-1]]
        bad = next(r for r in results if r["reason_code"] == "invalid_request")
        assert ":2: request: not valid JSON" in bad["reason"]
        assert any(r["request_id"] == "g" for r in results)
