"""Several ``arbexec run`` processes on one Redis: exactly once, a shared limit, a killed
engine, a restarted server. Each test reads back the three records that must agree: the
engines' journals, the paper venues' order tables and the results stream."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import engines as E
import pytest

ALIVE = 'alive_seconds = 3'


def check_exactly_once(url: str, configs: list[Path], count: int) -> list[dict[str, Any]]:
    """Every request is in exactly one journal, every sent order is on its engine's venue
    (and nothing else is), and the results stream holds one result per request, with the
    journal's status. An order a killed engine journaled but never sent is looked up on
    its venue by the recovery and closed as ``never_received`` (never sent again)."""
    rows = []
    for config in configs:
        own = E.journal_rows(config)
        sent = {r["venue_order_id"] for r in own
                if r["venue_order_id"] and r["reason_code"] != "never_received"}
        assert sent == E.venue_order_ids(config), f"{config.parent.name}: journal and venue"
        rows += own
    ids = Counter(r["request_id"] for r in rows)
    assert len(ids) == count and max(ids.values()) == 1, "a request executed twice or never"
    results = E.results(url)
    by_id = Counter(r["request_id"] for r in results)
    assert len(by_id) == count and max(by_id.values()) == 1, "results missing or doubled"
    status = {r["request_id"]: r["status"] for r in rows}
    # A result is the journal's status when it was published. The one that may move on is
    # UNKNOWN (the venue had not answered when a killed engine's recovery answered for it):
    # the order is followed on, and its later state reaches the journal.
    differ = [(r["request_id"], r["status"], status[r["request_id"]]) for r in results
              if status[r["request_id"]] != r["status"]]
    assert all(published == "UNKNOWN" for _, published, _ in differ), differ[:5]
    assert E.pending(url) == 0
    return rows


def check_ledger(url: str, rows: list[dict[str, Any]], limit: Decimal) -> None:
    """The shared figure is what the journals filled, no reservation is left, and the
    limit held across all engines."""
    filled = E.filled_notional(rows)
    assert filled <= limit
    assert E.ledger_total(url) == filled
    assert E.leftover_holds(url) == {}


def run_engines(root: Path, url: str, count: int, *, max_total: str,
                engines: int = 3) -> list[Path]:
    configs = [E.deployment(root, f"e{i}", url, max_total=max_total, seed=i,
                            extra_source=ALIVE) for i in range(engines)]
    E.publish(url, [E.request_line(n) for n in range(count)])
    processes = [E.start_engine(c) for c in configs]
    E.wait_all(processes, timeout=300)
    assert [p.returncode for p in processes] == [0] * engines, _logs(configs)
    return configs


def _logs(configs: list[Path]) -> str:
    return "\n".join((c.parent / "engine.log").read_text()[-1500:] for c in configs)


@pytest.mark.parametrize("count", [pytest.param(600, id="600"),
                                   pytest.param(10_000, id="10000", marks=pytest.mark.slow)])
def test_three_engines_execute_each_request_once_within_one_shared_limit(
        redis_server: Any, tmp_path: Path, count: int) -> None:
    limit = Decimal(count) * Decimal("0.53") / 3  # about a third of the requests fit
    configs = run_engines(tmp_path, redis_server.url, count, max_total=str(limit))
    rows = check_exactly_once(redis_server.url, configs, count)
    statuses = Counter(r["status"] for r in rows)
    assert statuses["FILLED"] and statuses["DENIED"], statuses  # the limit bound
    assert {r["reason_code"] for r in rows if r["status"] == "DENIED"} == {"exposure_total"}
    check_ledger(redis_server.url, rows, limit)
    assert all(E.journal_rows(c) for c in configs), "an engine took no request"


@pytest.mark.slow
def test_a_killed_engines_messages_are_finished_through_its_journal(
        redis_server: Any, tmp_path: Path) -> None:
    count, url = 3000, redis_server.url
    limit = Decimal(count) * Decimal("0.53") / 2
    configs = [E.deployment(tmp_path, f"e{i}", url, max_total=str(limit), seed=i,
                            extra_source=ALIVE) for i in range(3)]
    E.publish(url, [E.request_line(n) for n in range(count)])
    processes = [E.start_engine(c) for c in configs]
    victim = configs[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # mid-stream: it has journaled some, holds more
        if E.journaled(victim) > 50:
            break
        time.sleep(0.05)
    os.kill(processes[0].pid, signal.SIGKILL)
    processes[0].wait()
    import redis

    client = redis.Redis.from_url(url, decode_responses=True)
    held = [c for c in client.xinfo_consumers(E.STREAM, "arbexec") if c["name"] == "e0"]
    client.close()
    assert held and held[0]["pending"] > 0, "the engine held nothing when it was killed"
    E.wait_all(processes[1:], timeout=300)
    assert [p.returncode for p in processes[1:]] == [0, 0], _logs(configs)
    rows = check_exactly_once(url, configs, count)
    check_ledger(url, rows, limit)


@pytest.mark.slow
def test_a_restarted_redis_loses_no_request_and_no_result(durable_redis: Any,
                                                         tmp_path: Path) -> None:
    count, url = 3000, durable_redis.url
    limit = Decimal(count)  # does not bind: every request must execute
    configs = [E.deployment(tmp_path, f"e{i}", url, max_total=str(limit), seed=i,
                            extra_source=ALIVE, exit_when_idle=3) for i in range(3)]
    E.publish(url, [E.request_line(n) for n in range(count)])
    processes = [E.start_engine(c) for c in configs]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = sum(E.journaled(c) for c in configs)
        if done > 300:
            break
        time.sleep(0.05)
    assert done < count, "the stream was finished before the restart"
    durable_redis.restart(down_seconds=1.0)
    E.wait_all(processes, timeout=300)
    assert [p.returncode for p in processes] == [0, 0, 0], _logs(configs)
    rows = check_exactly_once(url, configs, count)
    assert Counter(r["status"] for r in rows) == {"FILLED": count}
    check_ledger(url, rows, limit)
    logs = "".join((c.parent / "engine.log").read_text() for c in configs)
    assert "unreachable" in logs and "no new risk until it is back" in logs
