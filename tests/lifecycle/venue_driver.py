"""An engine on a loopback venue stand-in (``standin_server.py``), for the crash drills.

    python venue_driver.py VENUE DIR URL run COUNT [KILL_SECONDS]
    python venue_driver.py VENUE DIR URL reconcile

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
from typing import Any

HERE = Path(__file__).parent
TICKER = "KXHIGHNY-26NOV22-B57.5"


def kalshi(url: str) -> Any:
    from arbexec_kalshi.config import KalshiConfig
    from arbexec_kalshi.exchange import KalshiExchange
    from arbexec_kalshi.signing import Signer

    rsa = json.loads((HERE.parent / "kalshi" / "data" / "kalshi_vectors.json").read_text())[
        "test_keys"]["rsa_2048"]
    signer = Signer.from_pem(rsa["key_id"], rsa["private_key_pem"])
    return KalshiExchange(config=KalshiConfig(base_url=f"{url}/trade-api/v2",
                                              websocket_url="ws://127.0.0.1:9/ws",
                                              timeout=2.0),
                          signer=signer)


def polymarket(url: str) -> Any:
    from arbexec_polymarket.auth import ApiCredentials
    from arbexec_polymarket.config import PolymarketConfig
    from arbexec_polymarket.credentials import Credentials
    from arbexec_polymarket.exchange import PolymarketExchange
    from arbexec_polymarket.signer import Signer

    data = json.loads((HERE.parent / "polymarket" / "data" / "vectors.json").read_text())
    first = data["vectors"][0]["inputs"]
    api = ApiCredentials(api_key=first["api_key"], secret=first["api_secret"],
                         passphrase=first["api_passphrase"])
    credentials = Credentials(signer=Signer.from_hex(data["test_key"]["private_key"]),
                              api=api)
    config = PolymarketConfig.from_options({
        "host": url, "gamma_host": f"{url}/gamma", "data_host": f"{url}/data-api", "stream": False,
        "order_timeout": 2, "read_timeout": 2, "read_retries": 1})
    return PolymarketExchange(config, credentials)


async def main() -> None:
    from arbexec.engine import Engine, EngineSettings
    from arbexec.halt import JournalHaltFlag
    from arbexec.journal import Journal
    from arbexec.model import OrderRequest, Outcome, Side
    from arbexec.sinks.hub import SinkHub

    name, directory, url, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    exchange = kalshi(url) if name == "kalshi" else polymarket(url)
    if name == "kalshi":
        market, prices = TICKER, (Decimal("0.40"), Decimal("0.45"))
    else:
        from arbexec_polymarket import testing as fake

        market, prices = fake.CONDITION_ID, (Decimal("0.45"), Decimal("0.52"))
    journal = Journal.open(directory / "journal.sqlite")
    journal.lock_for_engine()
    engine = Engine(journal=journal, venues={name: exchange},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]),
                    settings=EngineSettings(wait_budget=0.3, unknown_grace=0.0,
                                            background_tracking=False))
    await engine.start()
    if mode == "run":
        count = int(sys.argv[5])
        if len(sys.argv) > 6:
            threading.Timer(float(sys.argv[6]),
                            lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
        requests = [OrderRequest(
            request_id=f"r{i}", idempotency_key=f"k{i}", venue=name, market=market,
            outcome=Outcome.YES, side=Side.BUY, quantity=Decimal(5 + i % 3),
            limit_price=prices[i % 2]) for i in range(count)]
        await asyncio.gather(*(engine.begin(r) for r in requests))
    else:
        await engine.reconcile()
    await engine.aclose()
    journal.close()


if __name__ == "__main__":
    asyncio.run(main())
