"""Redis figures: throughput of `arbexec run` fed from a Redis stream with one and with
three engines sharing one ledger, beside the same requests from a file; and the latency
the shared ledger adds per order (reserve + settle against a real redis-server, beside the
in-memory ledger).

Run: ./dev bench redis   (quick mode: ./dev bench --quick redis)
Needs redis-server (./dev installs it). Asserts nothing about speed; it does check that
every request got exactly one journal row and one result, since a fast run that loses or
doubles requests is not a result.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "redis"))

import engines as E  # noqa: E402
from arbexec_redis.settings import Connection  # noqa: E402
from arbexec_redis.shared import LedgerKeys, RedisLedger  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from report import Report, sized  # noqa: E402

from arbexec.ledger import InMemoryLedger  # noqa: E402
from arbexec.risk.base import Claim, ClaimKind  # noqa: E402


def summary(config: Path) -> dict[str, object]:
    text = (config.parent / "engine.log").read_text()
    start = text.index('{"summary"')
    data: dict[str, object] = json.loads(text[start:])["summary"]
    return data


def run_json(config: Path, *args: str) -> subprocess.Popen[bytes]:
    log = (config.parent / "engine.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "arbexec", "--json", "--config",
                             str(config), "run", "-q", *args], cwd=config.parent, stdout=log,
                            stderr=subprocess.DEVNULL)


def file_run(root: Path, url: str, count: int) -> float:
    """The same requests from a JSON-lines file: one engine, in-memory ledger."""
    config = E.deployment(root, "file", url)
    text = config.read_text()
    config.write_text(text[:text.index("[source]")] + '[[sinks]]\ntype = "jsonl"\n'
                      'path = "events.jsonl"\n')
    requests = config.parent / "requests.jsonl"
    requests.write_text("".join(E.request_line(n) + "\n" for n in range(count)))
    run_json(config, str(requests)).wait(timeout=600)
    data = summary(config)
    assert data["requests"] == count, data
    return count / float(data["wall_seconds"])  # type: ignore[arg-type]


def stream_run(root: Path, url: str, count: int, engines: int) -> float:
    """Requests from the stream, ``engines`` processes on one shared ledger. The rate is
    counted from the first engine's start to the last one's end, less the idle wait that
    lets each engine see the stream is empty."""
    idle = 0.3
    configs = [E.deployment(root, f"e{i}", url, seed=i, exit_when_idle=idle)
               for i in range(engines)]
    E.publish(url, [E.request_line(n) for n in range(count)])
    processes = [run_json(c) for c in configs]
    for process in processes:
        process.wait(timeout=600)
    walls = [float(summary(c)["wall_seconds"]) for c in configs]  # type: ignore[arg-type]
    rows = [r for c in configs for r in E.journal_rows(c)]
    assert len({r["request_id"] for r in rows}) == len(rows) == count
    assert len({r["request_id"] for r in E.results(url)}) == count
    return count / (max(walls) - idle)


async def ledger_latency(url: str, orders: int) -> tuple[list[float], list[float]]:
    """Microseconds per order for reserve then settle: the shared ledger, the in-memory."""
    claims = [Claim(key=k, amount=Decimal("0.6"), limit=Decimal(10**9), rule="max_exposure",
                    code="exposure", kind=ClaimKind.EXPOSURE)
              for k in ("total", "venue:paper", "event:paper:E", "market:paper:M")]
    keys = [c.key for c in claims]
    shared = RedisLedger(connection=Connection(url=url),
                         keys=LedgerKeys(prefix="bench", engine="b"))
    memory = InMemoryLedger()
    timings: list[list[float]] = [[], []]
    try:
        await shared.ensure_started()
        for n in range(orders):
            for ledger, out in ((shared, timings[0]), (memory, timings[1])):
                started = time.perf_counter()
                assert await ledger.try_reserve(f"o{n}", claims) is None
                await ledger.settle(f"o{n}", Decimal("0.55"), keys)
                out.append((time.perf_counter() - started) * 1e6)
    finally:
        await shared.aclose()
    return timings[0], timings[1]


def main() -> None:
    report = Report("redis")
    count = sized(5000, 300)
    repeats = sized(3, 1)
    rates: dict[str, list[float]] = {"file": [], "one": [], "three": []}
    for _ in range(repeats):
        for name, engines in (("file", 0), ("one", 1), ("three", 3)):
            root = Path(tempfile.mkdtemp(prefix="arbexec-bench-redis-"))
            server = RedisServer(root / "redis").start()
            try:
                rates[name].append(file_run(root, server.url, count) if not engines
                                   else stream_run(root, server.url, count, engines))
            finally:
                server.stop()
                shutil.rmtree(root, ignore_errors=True)
    report.add("file source, 1 engine", "requests/s", rates["file"], higher_is_better=True,
               note=f"{count} IOC buys on the paper venue, journal on, max_exposure rule")
    report.add("redis stream, 1 engine", "requests/s", rates["one"], higher_is_better=True,
               against="file source, 1 engine",
               note="redis source, redis sink, shared ledger and halt flag")
    report.add("redis stream, 3 engines", "requests/s", rates["three"], higher_is_better=True,
               against="redis stream, 1 engine", note="one stream, one shared ledger")
    root = Path(tempfile.mkdtemp(prefix="arbexec-bench-redis-"))
    server = RedisServer(root / "redis").start()
    try:
        shared, memory = asyncio.run(ledger_latency(server.url, sized(3000, 200)))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    report.add("in-memory ledger, reserve + settle", "us/order", memory)
    report.add("shared ledger, reserve + settle", "us/order", shared,
               against="in-memory ledger, reserve + settle",
               note="two Lua scripts on loopback Redis")
    report.fact("requests per run", count)
    report.fact("checked", "every request one journal row and one result in every run")
    report.finish()


if __name__ == "__main__":
    main()
