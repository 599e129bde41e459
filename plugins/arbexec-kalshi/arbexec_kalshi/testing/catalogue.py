"""A loopback stand-in for Kalshi's public market listing, for catalogue tests and benches.

``CatalogueServer(count)`` serves ``GET /trade-api/v2/markets`` (cursor paging, at most
1000 a page, ``status`` and ``limit`` checked as Kalshi does), ``GET /trade-api/v2/series``
(every series at once) and ``GET /trade-api/v2/series/{ticker}`` over real HTTP on
127.0.0.1, with ``count`` generated markets in kalshi-python-sync 3.34.0's ``Market``
shape. Markets are generated per page,
so a listing of 20,000 costs the server no more memory than one page. ``fail_from`` makes
every request for a given cursor answer 503 (the venue going away mid-sync) and
``hold_from`` keeps such a request waiting (until ``release()``), so a test can interrupt
a sync at a known page; ``requests`` records each listing request's cursor.

Self-contained (standard library only) so it can move with the other stand-ins.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/trade-api/v2"
MAX_PAGE = 1000
UPDATED_TS = 1796083200  # every generated market's updated_time, 2026-12-01T00:00:00Z
_CITIES = ("NYC", "Chicago", "Miami", "Austin", "Denver", "Seattle", "Boston", "Phoenix")
_COINS = ("Bitcoin", "Ethereum", "Solana", "XRP", "Dogecoin")


def series_ticker(index: int) -> str:
    return f"KXCAT{index // 400:02d}"


def market_record(index: int) -> dict[str, Any]:
    """Market ``index`` of the generated listing, as ``GET /markets`` serves it."""
    series = series_ticker(index)
    day = index // 20 % 28 + 1
    event = f"{series}-27JAN{day:02d}"
    kind = index % 4
    if kind == 0:
        coin, strike = _COINS[index % 5], 1000 + (index % 97) * 250
        title, sub = f"Will {coin} be above ${strike:,} on Jan {day}, 2027?", f"Above ${strike:,}"
    elif kind == 1:
        city, temp = _CITIES[index % 8], 20 + index % 60
        title, sub = f"Highest temperature in {city} on Jan {day}, 2027: {temp}° or above?", (
            f"{temp}° or above")
    elif kind == 2:
        rate = f"{2 + (index % 30) / 10:.1f}"
        title, sub = f"CPI inflation in Dec 2026 above {rate}%? (#{index})", f"Above {rate}%"
    else:
        title, sub = f"Will team {index % 300} win game {index} on Jan {day}, 2027?", (
            f"Team {index % 300}")
    close = f"2027-01-{day:02d}T04:59:00Z"
    return {
        "ticker": f"{event}-T{index}", "event_ticker": event, "market_type": "binary",
        "title": title, "subtitle": "", "yes_sub_title": sub, "no_sub_title": sub,
        "created_time": "2026-11-01T00:00:00Z", "updated_time": "2026-12-01T00:00:00Z",
        "open_time": "2026-11-01T00:00:00Z", "close_time": close,
        "expected_expiration_time": f"2027-01-{day:02d}T06:00:00Z",
        "latest_expiration_time": f"2027-01-{min(day + 7, 31):02d}T04:59:00Z",
        "settlement_timer_seconds": 300, "status": "active",
        "yes_bid_dollars": "0.4200", "yes_bid_size_fp": "150.00", "yes_ask_dollars": "0.4400",
        "yes_ask_size_fp": "90.00", "no_bid_dollars": "0.5600", "no_ask_dollars": "0.5800",
        "last_price_dollars": "0.4300", "volume_fp": f"{index * 3}.00",
        "volume_24h_fp": "10.00", "result": "", "can_close_early": True,
        "open_interest_fp": "500.00", "notional_value_dollars": "1.0000",
        "previous_yes_bid_dollars": "0.4100", "previous_yes_ask_dollars": "0.4500",
        "previous_price_dollars": "0.4200", "settlement_bounds_type": "default",
        "expiration_value": "", "rules_primary": f"If {title[:-1].lower()}, resolves Yes.",
        "rules_secondary": "", "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
    }


def series_record(ticker: str) -> dict[str, Any]:
    return {"ticker": ticker, "frequency": "daily", "title": f"Catalogue series {ticker}",
            "category": "Economics", "categories": ["Economics"], "tags": [],
            "settlement_sources": [{"name": "Bureau of Labor Statistics",
                                    "url": "https://www.bls.gov/"}],
            "contract_url": "https://kalshi.com/", "contract_terms_url": "https://kalshi.com/",
            "fee_type": "quadratic", "fee_multiplier": 1, "additional_prohibitions": []}


class CatalogueServer:
    """``with CatalogueServer(20_000) as server:`` then use ``server.base_url``."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.fail_from: str | None = None  # a cursor answered 503 while set
        self.hold_from: str | None = None  # a cursor whose request waits for release()
        self.held = threading.Event()  # set once a held request arrived
        self._release = threading.Event()
        self.requests: list[str] = []  # the cursor of each listing request ("" first)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{PREFIX}"

    def __enter__(self) -> CatalogueServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def release(self) -> None:
        self.hold_from = None
        self._release.set()

    def page(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        cursor = query.get("cursor", "")
        with self._lock:
            self.requests.append(cursor)
            failing = self.fail_from is not None and cursor == self.fail_from
            holding = self.hold_from is not None and cursor == self.hold_from
        if holding:
            self.held.set()
            self._release.wait(timeout=30)
        if failing:
            return 503, {"error": {"code": "service_unavailable", "message": "try later"}}
        limit = int(query.get("limit", 100))
        if limit > MAX_PAGE or limit < 1:
            return 400, {"error": {"code": "invalid_parameters",
                                   "message": "Parameter validation failed: limit"}}
        if query.get("status") not in (None, "open"):
            return 200, {"markets": [], "cursor": ""}
        if int(query.get("min_updated_ts", 0)) > UPDATED_TS:  # nothing changed since
            return 200, {"markets": [], "cursor": ""}
        start = int(cursor[1:]) if cursor.startswith("c") else 0
        end = min(start + limit, self.count)
        markets = [market_record(i) for i in range(start, end)]
        return 200, {"markets": markets, "cursor": f"c{end}" if end < self.count else ""}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                path = url.path.removeprefix(PREFIX)
                if path == "/markets":
                    status, body = server.page(query)
                elif path == "/series":
                    tickers = sorted({series_ticker(i) for i in range(0, server.count, 400)})
                    status, body = 200, {"series": [series_record(t) for t in tickers]}
                elif path.startswith("/series/"):
                    status, body = 200, {"series": series_record(path.rsplit("/", 1)[1])}
                else:
                    status, body = 404, {"error": {"code": "not_found", "message": path}}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
