"""Recovering a stopped engine: its own deployment, run over what it was given.

When a consumer of the request stream is gone (its alive key lapsed) and left messages
pending, another engine starts ``arbexec --config <its deployment> run`` with the source
in drain mode: that process opens the stopped engine's journal (its lock is free only if
the engine really stopped) and venues, reconciles every order the journal holds, takes
back its share of the shared ledger and books it again from the journal, then answers
each pending message from the journal (a request it journaled gets its recorded result,
never a second order) or executes it, acknowledges it, and exits once nothing is pending.
A second recovery of the same engine never runs at once (a lock in Redis).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from attrs import define, field

log = logging.getLogger("arbexec.redis")
#: Set for the recovery process: its source reads only its own pending messages, then ends.
DRAIN_ENV = "ARBEXEC_REDIS_DRAIN"
#: ``arbexec run``'s status for "finished, but something needs a person".
ATTENTION = 3


@define
class Recovery:
    timeout: float = 600.0
    running: dict[str, asyncio.Task[int]] = field(factory=dict)
    finished: list[tuple[str, int]] = field(factory=list)

    @staticmethod
    def can_recover(config: str) -> bool:
        return Path(config).is_file()

    async def recover(self, consumer: str, config: str) -> None:
        """Start the recovery of ``consumer`` unless one is running (in this process)."""
        task = self.running.get(consumer)
        if task is not None and not task.done():
            return
        log.warning("engine %s is gone with messages pending: recovering it from its "
                    "journal (%s)", consumer, config)
        self.running[consumer] = asyncio.get_running_loop().create_task(
            self._run(consumer, config))

    async def _run(self, consumer: str, config: str) -> int:
        # its name, for a deployment that leaves it to ARBEXEC_ENGINE
        env = {**os.environ, DRAIN_ENV: "1", "ARBEXEC_ENGINE": consumer}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "arbexec", "--config", config, "run", "-q",
            cwd=str(Path(config).parent), env=env, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await asyncio.wait_for(process.communicate(), self.timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            err = b"timed out"
        code = process.returncode if process.returncode is not None else -1
        self.finished.append((consumer, code))
        if code == ATTENTION:
            log.warning("engine %s recovered from its journal; some of its orders need "
                        "attention (left UNKNOWN within the venue's grace period): start that "
                        "engine again or run `arbexec --config %s reconcile` later", consumer,
                        config)
        elif code != 0:
            text = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
            log.warning("recovery of engine %s did not finish (%s); it is tried again",
                        consumer, text[0][:300])
        else:
            log.warning("engine %s recovered from its journal", consumer)
        return code

    async def aclose(self) -> None:
        tasks = [t for t in self.running.values() if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout)
