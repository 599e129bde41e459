"""One request must never take others down with it, nor go unanswered.

The parsers refuse what cannot be journaled (see test_input_bounds); these tests hold the
engine to the same promise for what reaches it by other paths: an intent the journal cannot
store fails alone in a group commit, and a second request for a key already in flight gets
its own result line.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import attrs
from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.engine import Engine
from arbexec.model import OrderRequest, OrderStatus
from arbexec.testing.requests import order_request
from arbexec.testing.scripted_venue import ScriptedVenue


def unjournalable(key: str) -> OrderRequest:
    """A request whose market holds a lone surrogate, built around the model's validators
    (as a plugin or an embedding program could): SQLite cannot encode it as UTF-8."""
    with attrs.validators.disabled():
        return OrderRequest(request_id=key, idempotency_key=key, venue="scripted",
                            market="M\ud800", outcome="YES", side="BUY", quantity="5",
                            limit_price="0.30")


async def test_one_unjournalable_intent_does_not_sink_its_group_commit(
    engine: Engine, venue: ScriptedVenue
) -> None:
    good = [order_request(f"g-{n}", venue="scripted") for n in range(20)]
    batch = [*good[:10], unjournalable("bad"), *good[10:]]
    outcomes = await asyncio.gather(*(engine.begin(r) for r in batch),
                                    return_exceptions=True)
    bad = outcomes[10]
    assert not isinstance(bad, BaseException), bad
    assert bad.status is OrderStatus.DENIED
    assert "journal" in (bad.reason or "") and "state is in the journal" not in bad.reason
    others = [o for i, o in enumerate(outcomes) if i != 10]
    assert all(not isinstance(o, BaseException) and o.status is OrderStatus.FILLED
               for o in others), others
    assert len(venue.sent) == 20


def _line(rid: str, key: str) -> str:
    return json.dumps({"request_id": rid, "idempotency_key": key, "venue": "paper",
                       "market": "PAPER-FED-CUT", "outcome": "YES", "side": "BUY",
                       "quantity": "1", "limit_price": "0.35", "time_in_force": "IOC"})


def test_two_requests_with_one_key_in_flight_each_get_a_result_line(tmp_path: Path) -> None:
    config = tmp_path / "deploy.toml"
    config.write_text('[journal]\npath = "journal.sqlite3"\n[venues.paper]\ntype = "paper"\n')
    source = tmp_path / "requests.jsonl"
    source.write_text(_line("a", "same") + "\n" + _line("b", "same") + "\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "--json", "run", str(source)])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    lines = [r for r in records if "status" in r]
    summary = next(r["summary"] for r in records if "summary" in r)
    assert summary["requests"] == 2
    assert len(lines) == 2, lines
    assert sorted(r["duplicate"] for r in lines) == [False, True], lines
