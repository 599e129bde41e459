"""Runs a deployment's requests file the way ``arbexec run`` does, and can SIGKILL itself at
a chosen point of an order's or a pair's path (for the crash tests).

    python driver.py DIR run [KILL]      # KILL: "<point>:<n>" or "timer:<seconds>"
    python driver.py DIR inspect         # the venues' own records, as JSON

Points: ``create.before`` (the n-th order is about to leave), ``create.after`` (the venue
has it, the engine has not heard back), ``pair.saved`` (the n-th pair step is committed),
``state.recorded`` (the n-th order state was handed to the journal).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(kill: str) -> None:
    from arbexec_paper.exchange import PaperExchange

    from arbexec.journal import Journal

    point, _, value = kill.partition(":")
    if point == "timer":
        threading.Timer(float(value), die).start()
        return
    target = int(value)
    seen = {"n": 0}

    def hit() -> None:
        seen["n"] += 1
        if seen["n"] == target:
            die()

    if point in ("create.before", "create.after"):
        original = PaperExchange.create_order

        async def create_order(self: Any, order: Any) -> Any:
            if point == "create.before":
                hit()
            state = await original(self, order)
            if point == "create.after":
                hit()
            return state

        PaperExchange.create_order = create_order  # type: ignore[method-assign]
    elif point == "pair.saved":
        original_save = Journal.save_pair

        def save_pair(self: Any, *args: Any, **kwargs: Any) -> None:
            original_save(self, *args, **kwargs)
            hit()

        Journal.save_pair = save_pair  # type: ignore[method-assign]
    elif point == "state.recorded":
        original_record = Journal.record_state

        def record_state(self: Any, *args: Any, **kwargs: Any) -> None:
            original_record(self, *args, **kwargs)
            if not kwargs.get("defer"):
                hit()
            else:
                self.flush()
                hit()

        Journal.record_state = record_state  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown kill point {point!r}")


async def run(directory: Path) -> None:
    from arbexec.app import open_runtime
    from arbexec.config import load_deployment
    from arbexec.plugins import PluginHost
    from arbexec.runner import run_source
    from arbexec.sources.jsonl import JsonlSource, pair_from_mapping

    deployment = load_deployment(str(directory / "deploy.toml"))
    runtime = open_runtime(deployment, PluginHost.create(), quiet=True)
    source = JsonlSource(name="requests", path=str(directory / "requests.jsonl"),
                         pair_parser=pair_from_mapping)
    await run_source(runtime, source)


async def inspect(directory: Path) -> dict[str, Any]:
    from arbexec.app import build_venue
    from arbexec.config import load_deployment
    from arbexec.plugins import PluginHost

    deployment = load_deployment(str(directory / "deploy.toml"))
    host = PluginHost.create()
    out: dict[str, Any] = {}
    for entry in deployment.venues:
        venue: Any = build_venue(entry, deployment, host)
        venue.switches.latency = (0, 0)
        venue.switches.reject_rate = venue.switches.ambiguous_rate = 0
        out[entry.name] = {
            "positions": {f"{p.market}:{p.outcome.value}": str(p.quantity)
                          for p in await venue.fetch_positions() if p.quantity},
            "orders": sorted(venue._orders),
            "open": [s.venue_order_id for s in await venue.fetch_open_orders()],
        }
        await venue.aclose()
    return out


def main() -> None:
    directory, mode = Path(sys.argv[1]), sys.argv[2]
    os.chdir(directory)
    if mode == "run":
        if len(sys.argv) > 3:
            arm(sys.argv[3])
        asyncio.run(run(directory))
    else:
        print(json.dumps(asyncio.run(inspect(directory))))


if __name__ == "__main__":
    main()
