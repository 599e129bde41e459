"""A venue stand-in (``arbexec_kalshi.testing.FakeKalshi`` or ``arbexec_polymarket.testing.
FakeClob``) served on loopback, slow and unreliable, so a crash drill can SIGKILL the engine
while the venue keeps its state.

    python standin_server.py VENUE PORTFILE SEED DROP SLOW_MS

``DROP``: the share of order POSTs the venue acts on and then drops the connection without
answering; ``SLOW_MS``: each answer waits up to this long. ``GET /__state`` returns the
venue's orders (the identity the journal knows them by, filled, status) as JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
VECTORS = json.loads((HERE.parent / "kalshi" / "data" / "kalshi_vectors.json").read_text())
RSA = VECTORS["test_keys"]["rsa_2048"]
TICKER = "KXHIGHNY-26NOV22-B57.5"


def kalshi() -> tuple[Callable[[httpx.Request], httpx.Response], Callable[[], list[Any]]]:
    from arbexec_kalshi.testing import FakeKalshi

    venue = FakeKalshi(public_key_pem=RSA["public_key_pem"], key_id=RSA["key_id"],
                       balance_cents=10**9)
    venue.add_market(TICKER, yes_bids={"0.4000": "50", "0.3500": "50"},
                     no_bids={"0.5500": "40", "0.5800": "30"}, exchange_index=1)

    def state() -> list[Any]:
        return [{"identity": o.client_order_id, "filled": str(o.filled), "status": o.status}
                for o in venue.orders.values()]

    return venue, state


def polymarket() -> tuple[Callable[[httpx.Request], httpx.Response], Callable[[], list[Any]]]:
    from arbexec_polymarket import testing as fake
    from arbexec_polymarket.signer import Signer

    data = json.loads((HERE.parent / "polymarket" / "data" / "vectors.json").read_text())
    first = data["vectors"][0]["inputs"]
    clob = fake.FakeClob(address=Signer.from_hex(data["test_key"]["private_key"]).address,
                         api_key=first["api_key"], secret=first["api_secret"],
                         passphrase=first["api_passphrase"])
    loop = asyncio.new_event_loop()

    def handle(request: httpx.Request) -> httpx.Response:
        return loop.run_until_complete(clob.handle(request))

    def state() -> list[Any]:
        return [{"identity": h, "filled": o["size_matched"], "status": o["status"]}
                for h, o in clob.orders.items()]

    return handle, state


def main() -> None:
    name, port_file = sys.argv[1], sys.argv[2]
    seed, drop, slow_ms = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    rng = random.Random(seed)
    venue, venue_state = kalshi() if name == "kalshi" else polymarket()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            content = self.rfile.read(length) if length else b""
            if self.path == "/__state":
                with lock:
                    state = venue_state()
                self._send(200, json.dumps(state).encode(), "application/json")
                return
            host, path = "venue", self.path
            for prefix, name in (("/gamma", "gamma-api.polymarket.com"),
                                 ("/data-api", "data-api.polymarket.com")):
                if path.startswith(prefix + "/"):
                    host, path = name, path[len(prefix):]
            request = httpx.Request(self.command, f"http://{host}{path}",
                                    headers=dict(self.headers.items()), content=content)
            with lock:
                response = venue(request)
                lose = (self.command == "POST" and "order" in self.path
                        and rng.random() < drop)
                wait = rng.uniform(0, slow_ms) / 1000
            time.sleep(wait)
            if lose:  # the venue acted; the answer never leaves
                self.close_connection = True
                return
            self._send(response.status_code, response.content,
                       response.headers.get("content-type", "application/json"))

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = do_PUT = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(HTTPServer):
        daemon_threads = True

    from socketserver import ThreadingMixIn

    class Threaded(ThreadingMixIn, Server):
        pass

    server = Threaded(("127.0.0.1", 0), Handler)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
