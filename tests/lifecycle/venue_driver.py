"""An engine on the loopback Kalshi stand-in, for the crash drills.

    python venue_driver.py DIR URL run COUNT [KILL_SECONDS]
    python venue_driver.py DIR URL reconcile

``run`` submits COUNT requests at once (keys ``k0``..), and SIGKILLs itself after
KILL_SECONDS when given; ``reconcile`` looks every unfinished order up (past the grace).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent
TICKER = "KXHIGHNY-26NOV22-B57.5"


async def main() -> None:
    from arbexec_kalshi.config import KalshiConfig
    from arbexec_kalshi.exchange import KalshiExchange
    from arbexec_kalshi.signing import Signer

    from arbexec.engine import Engine, EngineSettings
    from arbexec.halt import JournalHaltFlag
    from arbexec.journal import Journal
    from arbexec.model import OrderRequest, Outcome, Side
    from arbexec.sinks.hub import SinkHub

    directory, url, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    rsa = json.loads((HERE.parent / "kalshi" / "data" / "kalshi_vectors.json").read_text())[
        "test_keys"]["rsa_2048"]
    signer = Signer.from_pem(rsa["key_id"], rsa["private_key_pem"])
    exchange = KalshiExchange(config=KalshiConfig(base_url=f"{url}/trade-api/v2",
                                                  websocket_url="ws://127.0.0.1:9/ws",
                                                  timeout=2.0),
                              signer=signer)
    journal = Journal.open(directory / "journal.sqlite")
    journal.lock_for_engine()
    engine = Engine(journal=journal, venues={"kalshi": exchange},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]),
                    settings=EngineSettings(wait_budget=0.3, unknown_grace=0.0,
                                            background_tracking=False))
    await engine.start()
    if mode == "run":
        count = int(sys.argv[4])
        if len(sys.argv) > 5:
            threading.Timer(float(sys.argv[5]),
                            lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
        requests = [OrderRequest(
            request_id=f"r{i}", idempotency_key=f"k{i}", venue="kalshi", market=TICKER,
            outcome=Outcome.YES, side=Side.BUY, quantity=Decimal(1 + i % 3),
            limit_price=Decimal("0.45") if i % 2 else Decimal("0.40")) for i in range(count)]
        await asyncio.gather(*(engine.begin(r) for r in requests))
    else:
        await engine.reconcile()
    await engine.aclose()
    journal.close()


if __name__ == "__main__":
    asyncio.run(main())
