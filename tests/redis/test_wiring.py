"""How a deployment selects the shared ledger, and the commands of the plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import engines as E
import pytest
import redis as sync_redis
from arbexec_redis.shared import RedisHaltFlag, RedisLedger

from arbexec.app import check_names, open_runtime
from arbexec.config import load_deployment
from arbexec.errors import ConfigError
from arbexec.ledger import InMemoryLedger
from arbexec.plugins import PluginHost


def write(tmp_path: Path, ledger: str) -> Path:
    config = tmp_path / "d.toml"
    config.write_text(f'[journal]\npath = "j.sqlite3"\n[venues.paper]\ntype = "paper"\n'
                      f'[[sinks]]\ntype = "stdout"\n{ledger}\n', encoding="utf-8")
    return config


async def test_ledger_type_redis_gives_the_engine_the_shared_ledger_and_halt(
        redis_server: Any, tmp_path: Path) -> None:
    config = write(tmp_path, f'[ledger]\ntype = "redis"\nurl = "{redis_server.url}"\n'
                             'engine = "w1"')
    runtime = open_runtime(load_deployment(config), PluginHost.create())
    try:
        assert isinstance(runtime.engine.ledger, RedisLedger)
        assert isinstance(runtime.engine.halt, RedisHaltFlag)
        assert runtime.engine.ledger.keys.engine == "w1"
    finally:
        await runtime.aclose()


async def test_without_a_ledger_table_each_engine_keeps_its_own(tmp_path: Path) -> None:
    for table in ("", '[ledger]\ntype = "memory"'):
        runtime = open_runtime(load_deployment(write(tmp_path, table)), PluginHost.create())
        try:
            assert isinstance(runtime.engine.ledger, InMemoryLedger)
        finally:
            await runtime.aclose()


def test_an_unknown_ledger_type_or_key_is_a_clear_error(tmp_path: Path) -> None:
    problems = check_names(load_deployment(write(tmp_path, '[ledger]\ntype = "nope"')),
                           PluginHost.create())
    assert any("unknown ledger 'nope'" in p and "redis" in p for p in problems)
    config = write(tmp_path, '[ledger]\ntype = "redis"\nlease_secs = 3')
    with pytest.raises(ConfigError, match=r"ledger\.lease_secs"):
        open_runtime(load_deployment(config), PluginHost.create())
    config = write(tmp_path, '[ledger]\ntype = "redis"\nurl = "redis://u:secret@h/0"')
    with pytest.raises(ConfigError, match="password_env") as caught:
        open_runtime(load_deployment(config), PluginHost.create())
    assert "secret" not in str(caught.value)


def cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arbexec", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_publish_checks_every_line_first_and_waits_for_results(redis_server: Any,
                                                               tmp_path: Path) -> None:
    url = redis_server.url
    bad = cli("redis", "publish", "-", "--url", url, cwd=tmp_path,
              stdin=E.request_line(1) + "\n" + E.request_line(2, price="1.5") + "\n")
    assert bad.returncode == 2 and "<stdin>:2: limit_price" in bad.stderr
    assert "nothing was published" in bad.stderr and "Traceback" not in bad.stderr
    client = sync_redis.Redis.from_url(url, decode_responses=True)
    assert client.xlen(E.STREAM) == 0
    client.set(f"{E.RESULTS}:result:r00001", json.dumps({"status": "FILLED"}))
    good = cli("redis", "publish", "-", "--url", url, "--wait", "2", cwd=tmp_path,
               stdin=E.request_line(1) + "\n" + E.request_line(2) + "\n")
    assert good.returncode == 0, good.stderr
    assert "published r00001 as arbexec:requests:" in good.stdout
    assert "r00001: FILLED" in good.stdout and "r00002: no result within 2s" in good.stdout
    assert client.xlen(E.STREAM) == 2
    client.close()


def test_doctor_reports_each_table_and_each_problem(redis_server: Any,
                                                    tmp_path: Path) -> None:
    config = E.deployment(tmp_path, "e0", redis_server.url)
    ok = cli("--config", str(config), "redis", "doctor", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok: source:" in ok.stdout and "ok: ledger: shared halt flag clear" in ok.stdout
    halted = cli("--config", str(config), "redis", "halt", "--reason", "desk stop",
                 cwd=tmp_path)
    assert halted.returncode == 0 and "desk stop" in halted.stdout
    flagged = cli("--config", str(config), "redis", "doctor", cwd=tmp_path)
    assert flagged.returncode == 1 and "SET: desk stop" in flagged.stdout
    assert "arbexec redis resume" in flagged.stdout
    redis_server.stop()
    down = cli("--config", str(config), "redis", "doctor", cwd=tmp_path)
    assert down.returncode == 1 and "unreachable" in down.stdout
    assert "start redis-server" in down.stdout
