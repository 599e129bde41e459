"""Crash drills on the default deployment (the built-in paper deployment ``arbexec`` runs
without ``-c``): SIGKILL the engine mid-run, restart, again; after every kill and after the
final reconcile, the invariants hold:

* the journal's ``PRAGMA integrity_check`` is ``ok``;
* no key has two venue orders, and every venue order is a journal order (none unknown);
* no order the journal shows acknowledged is missing at the venue (none vanished);
* after ``reconcile`` past the grace nothing is PENDING or UNKNOWN;
* journal and venue agree per order (status and filled quantity) and per position.

The deployment is ``arbexec config show-default`` verbatim except ``unknown_grace = 0`` (so
the reconcile right after the last kill is already past the grace). Rounds and requests per
round are bounded by default; ``ARBEXEC_CRASH_ROUNDS`` (default 4) and
``ARBEXEC_CRASH_REQUESTS`` (default 60) scale them for a nightly run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROUNDS = int(os.environ.get("ARBEXEC_CRASH_ROUNDS", "4"))
REQUESTS = int(os.environ.get("ARBEXEC_CRASH_REQUESTS", "60"))
MARKETS = ["PAPER-ELECTION", "PAPER-FED-CUT", "PAPER-BTC-100K", "PAPER-RAIN-NYC"]
ACKNOWLEDGED = {"OPEN", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "EXPIRED"}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ARBEXEC_CONFIG"}


def setup(directory: Path, seed: int, paper_extra: str = "") -> None:
    default = subprocess.run([sys.executable, "-m", "arbexec", "config", "show-default"],
                             capture_output=True, text=True, check=True, env=_env()).stdout
    assert "[engine]" in default
    deploy = default.replace("[engine]\n", "[engine]\nunknown_grace = 0\n", 1)
    deploy = deploy.replace('type = "paper"\n', f'type = "paper"\n{paper_extra}', 1)
    (directory / "deploy.toml").write_text(deploy)
    rng = random.Random(seed)
    lines = [json.dumps({
        "request_id": f"d{i}", "idempotency_key": f"d{i}", "venue": "paper",
        "market": rng.choice(MARKETS), "outcome": rng.choice(["YES", "NO"]), "side": "BUY",
        "quantity": str(rng.randint(1, 4)), "limit_price": rng.choice(["0.45", "0.55"]),
        "time_in_force": rng.choice(["IOC", "GTC"]),
    }) for i in range(REQUESTS)]
    (directory / "requests.jsonl").write_text("\n".join(lines) + "\n")


def journal_path(directory: Path) -> Path:
    return directory / ".arbexec" / "journal.sqlite3"


def journal(directory: Path) -> dict[str, tuple[str, str | None, Decimal, str, str]]:
    path = journal_path(directory)
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT idempotency_key, status, identity, filled_quantity, market, "
                          "outcome FROM orders").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    return {k: (s, i, Decimal(q or 0), m, o) for k, s, i, q, m, o in rows}


def integrity(directory: Path) -> str:
    db = sqlite3.connect(f"file:{journal_path(directory)}?mode=ro", uri=True)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def venue(directory: Path) -> dict[str, tuple[str, Decimal, str, str]]:
    stores = list(directory.rglob("paper-paper.sqlite3"))
    if not stores:
        return {}
    [store] = stores
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT id, status, fills, market, outcome FROM orders").fetchall()
    finally:
        db.close()
    out = {}
    for oid, status, fills, market, outcome in rows:
        filled = sum((Decimal(f.split("|")[1]) for f in (fills or "").split(";") if f),
                     Decimal(0))
        out[oid] = (status, filled, market, outcome)
    return out


def check(directory: Path, *, reconciled: bool) -> None:
    assert integrity(directory) == "ok"
    rows = journal(directory)
    held = venue(directory)
    by_identity = Counter(i for _s, i, *_ in rows.values() if i)
    assert not [i for i, n in by_identity.items() if n > 1], "two keys share a venue order"
    identities = set(by_identity)
    unknown = set(held) - identities
    assert not unknown, f"venue orders the journal does not know: {unknown}"
    acknowledged = {i for s, i, *_ in rows.values() if s in ACKNOWLEDGED and i}
    assert acknowledged <= set(held), f"vanished at the venue: {acknowledged - set(held)}"
    if not reconciled:
        return
    assert not [k for k, (s, *_) in rows.items() if s in ("PENDING", "UNKNOWN")]
    journal_positions: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    venue_positions: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, (status, identity, filled, market, outcome) in rows.items():
        if identity in held:
            assert filled == held[identity][1], (key, status, held[identity])
        else:
            assert filled == 0 and status in ("REJECTED", "DENIED"), (key, status)
        journal_positions[(market, outcome)] += filled
    for _status, filled, market, outcome in held.values():
        venue_positions[(market, outcome)] += filled
    assert {k: v for k, v in journal_positions.items() if v} == {
        k: v for k, v in venue_positions.items() if v}


@pytest.mark.parametrize("paper_extra", [
    pytest.param("", id="as-shipped"),
    pytest.param("flush_interval = 0\n", id="flush-before-ack"),
])
def test_default_deployment_survives_repeated_sigkills(tmp_path: Path,
                                                       paper_extra: str) -> None:
    setup(tmp_path, seed=29, paper_extra=paper_extra)
    rng = random.Random(29)
    kills = 0
    for _round in range(ROUNDS):
        kill = f"state.recorded:{rng.randint(3, 30)}"  # the n-th order state of this run
        engine = subprocess.run(
            [sys.executable, str(HERE / "driver.py"), str(tmp_path), "run", kill],
            cwd=tmp_path, capture_output=True, env=_env(), timeout=60)
        kills += engine.returncode == -signal.SIGKILL
        check(tmp_path, reconciled=False)
    subprocess.run([sys.executable, "-m", "arbexec", "-c", "deploy.toml", "reconcile"],
                   cwd=tmp_path, capture_output=True, check=True, env=_env())
    check(tmp_path, reconciled=True)
    finish = subprocess.run([sys.executable, str(HERE / "driver.py"), str(tmp_path), "run"],
                            cwd=tmp_path, capture_output=True, env=_env())
    assert finish.returncode == 0, finish.stderr
    check(tmp_path, reconciled=False)
    assert len(journal(tmp_path)) == REQUESTS
    assert kills >= 1
    print(f"default deployment ({paper_extra.strip() or 'as shipped'}): {kills} SIGKILLs in "
          f"{ROUNDS} rounds, {REQUESTS} requests, invariants held")
