"""The Kalshi stand-in (``arbexec_kalshi.fake.FakeKalshi``) served on loopback, slow and
unreliable, so a crash drill can SIGKILL the engine while the venue keeps its state.

    python standin_server.py PORTFILE SEED DROP SLOW_MS

``DROP``: the share of order POSTs the venue acts on and then drops the connection without
answering; ``SLOW_MS``: each answer waits up to this long. ``GET /__state`` returns the
venue's orders (client_order_id, filled, status) as JSON, for the drill's checks.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
from arbexec_kalshi.fake import FakeKalshi

HERE = Path(__file__).parent
VECTORS = json.loads((HERE.parent / "kalshi" / "data" / "kalshi_vectors.json").read_text())
RSA = VECTORS["test_keys"]["rsa_2048"]
TICKER = "KXHIGHNY-26NOV22-B57.5"


def main() -> None:
    port_file, seed, drop, slow_ms = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        float(sys.argv[4])
    rng = random.Random(seed)
    venue = FakeKalshi(public_key_pem=RSA["public_key_pem"], key_id=RSA["key_id"],
                       balance_cents=10**9)
    venue.add_market(TICKER, yes_bids={"0.4000": "50", "0.3500": "50"},
                     no_bids={"0.5500": "40", "0.5800": "30"}, exchange_index=1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            content = self.rfile.read(length) if length else b""
            if self.path == "/__state":
                with lock:
                    state = [{"client_order_id": o.client_order_id, "filled": str(o.filled),
                              "status": o.status} for o in venue.orders.values()]
                self._send(200, json.dumps(state).encode(), "application/json")
                return
            request = httpx.Request(self.command, f"http://venue{self.path}",
                                    headers=dict(self.headers.items()), content=content)
            with lock:
                response = venue(request)
                lose = (self.command == "POST" and "/orders" in self.path
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
