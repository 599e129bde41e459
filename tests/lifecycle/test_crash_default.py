"""The out-of-the-box deployment under SIGKILL: nothing the journal shows as filled is
missing from the paper account afterwards.

The drill kills ``arbexec run`` at a random moment, many times, then compares every order
the journal says was acknowledged (OPEN, PARTIALLY_FILLED, FILLED, CANCELLED with fills)
with the account on disk: the venue must hold it with the same filled quantity."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

TRIALS = 10
MARKETS = ["PAPER-ELECTION", "PAPER-FED-CUT", "PAPER-BTC-100K", "PAPER-RAIN-NYC"]


def default_deployment() -> str:
    shown = subprocess.run([sys.executable, "-m", "arbexec", "config", "show-default"],
                           capture_output=True, text=True, check=True)
    return shown.stdout


def write_requests(path: Path, seed: int, count: int) -> None:
    rng = random.Random(seed)
    path.write_text("".join(json.dumps({
        "request_id": f"d{seed}-{i}", "venue": "paper", "market": rng.choice(MARKETS),
        "outcome": rng.choice(["YES", "NO"]), "side": "BUY", "quantity": "1",
        "limit_price": "0.95", "time_in_force": "IOC",
    }) + "\n" for i in range(count)))


def journaled_fills(journal: Path) -> dict[str, Decimal]:
    """Identity -> filled quantity of every order the journal holds fills for."""
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        return {identity: Decimal(filled) for identity, filled in db.execute(
            "SELECT identity, filled_quantity FROM orders WHERE identity IS NOT NULL")
            if filled is not None and Decimal(filled) > 0}
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def venue_fills(account: Path) -> dict[str, Decimal]:
    db = sqlite3.connect(f"file:{account}?mode=ro", uri=True)
    try:
        out = {}
        for identity, fills in db.execute("SELECT id, fills FROM orders"):
            out[identity] = sum((Decimal(f.split("|")[1]) for f in fills.split(";") if f),
                                Decimal(0))
        return out
    finally:
        db.close()


@pytest.mark.slow
def test_sigkill_never_loses_what_the_journal_shows(tmp_path: Path) -> None:
    deployment = default_deployment()
    lost: dict[int, list[str]] = {}
    checked = 0
    for trial in range(TRIALS):
        folder = tmp_path / f"trial-{trial}"
        folder.mkdir()
        (folder / "deploy.toml").write_text(deployment)
        write_requests(folder / "requests.jsonl", trial, 2000)
        engine = subprocess.Popen(
            [sys.executable, "-m", "arbexec", "-c", "deploy.toml", "run", "requests.jsonl"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        journal = folder / ".arbexec" / "journal.sqlite3"
        target = random.Random(trial).randint(20, 900)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and engine.poll() is None:
            if journal.exists() and len(journaled_fills(journal)) >= target:
                break
            time.sleep(0.002)
        engine.send_signal(signal.SIGKILL)
        engine.wait()
        journal_view = journaled_fills(journal)
        [account] = (folder / ".arbexec" / "venues" / "paper").glob("paper-*.sqlite3")
        at_venue = venue_fills(account)
        checked += len(journal_view)
        missing = [k for k, q in journal_view.items() if at_venue.get(k) != q]
        if missing:
            lost[trial] = missing
    assert checked > TRIALS * 20  # every trial was killed with fills behind it
    assert not lost, {t: len(m) for t, m in lost.items()}
