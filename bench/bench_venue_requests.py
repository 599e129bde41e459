"""Client CPU and latency of one venue order request, at concurrency 1 and 16, for both
plugins and both official clients, against loopback stand-ins in another process.

Each venue's stand-in (bench/venue_standins.py: the plugins' fakes, which check
signatures and answer in the venue's shapes) runs behind a real HTTP/1.1 socket in a
server process (bench/loopback.py), so the CPU counted here (``time.process_time``, user
plus system, over batches of requests) is the client's alone: signing, body, headers,
sending, reading and parsing the answer.

- Kalshi, the plugin: ``prepare_order`` + ``create_order`` on KalshiExchange (RSA-PSS
  signature, V2 body, POST /portfolio/events/orders, the answer mapped to an OrderState),
  on its default client (the stream transport) and on httpx's default transport (before).
- Kalshi, kalshi-python-sync 3.34.0: ``create_order_v2`` (its RSA-PSS signer, pydantic
  models, urllib3); concurrency 16 is 16 threads, as a synchronous client runs.
- Polymarket, the plugin: build and sign the order (EIP-712, secp256k1), the compact body,
  L2 HMAC headers, POST /order and the parsed answer (``ClobHttp.post_order_body``), on
  its default client and on httpx's default transport (before).
- Polymarket, py-clob-client-v2 1.2.1: ``create_and_post_order`` with the tick size and
  neg-risk flag given (so no metadata reads), over its own httpx client; 16 threads.

Correctness: every answer is an accepted order (Kalshi OPEN, Polymarket success with the
order hash the client computed), else the run fails.

Run: .venv/bin/python bench/bench_venue_requests.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from loopback import serve
from report import Report, sized
from venue_standins import KALSHI_TICKER, POLY_API, POLY_KEY, kalshi_key

from arbexec.model import OrderRequest, OrderStatus, Side

CONCURRENCY = (1, 16)
OFFICIAL_IDS = itertools.count()  # client order ids, unique across runs
BATCHES = 10


class Samples:
    """CPU per request (one sample per batch) and latency per request, in microseconds."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.latency: list[float] = []


async def drive_async(one: Callable[[int], Awaitable[None]], requests: int,
                      concurrency: int) -> Samples:
    samples = Samples()
    counter = iter(range(10**9))
    for _ in range(min(20, requests)):
        await one(next(counter))  # warm: connections, caches
    per_batch = max(concurrency, requests // BATCHES)

    async def worker(count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            await one(next(counter))
            samples.latency.append((time.perf_counter() - start) * 1e6)

    for _ in range(BATCHES):
        cpu = time.process_time()
        await asyncio.gather(*(worker(per_batch // concurrency) for _ in range(concurrency)))
        samples.cpu.append((time.process_time() - cpu) / per_batch * 1e6)
    return samples


def drive_threads(one: Callable[[int], None], requests: int, concurrency: int) -> Samples:
    samples = Samples()
    lock = threading.Lock()
    counter = iter(range(10**9))

    def next_id() -> int:
        with lock:
            return next(counter)

    for _ in range(min(20, requests)):
        one(next_id())
    per_batch = max(concurrency, requests // BATCHES)

    def worker(count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            one(next_id())
            latency = (time.perf_counter() - start) * 1e6
            with lock:
                samples.latency.append(latency)

    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(BATCHES):
            cpu = time.process_time()
            list(pool.map(worker, [per_batch // concurrency] * concurrency))
            samples.cpu.append((time.process_time() - cpu) / per_batch * 1e6)
    return samples


# ------------------------------------------------------------------ Kalshi


def kalshi_exchange(port: int, client: httpx.AsyncClient | None) -> Any:
    from arbexec_kalshi.config import KalshiConfig
    from arbexec_kalshi.exchange import KalshiExchange
    from arbexec_kalshi.signing import Signer

    key = kalshi_key()
    config = KalshiConfig(base_url=f"http://127.0.0.1:{port}/trade-api/v2",
                          read_rate=1e9, write_rate=1e9)
    return KalshiExchange(config=config, signer=Signer.from_pem(key["key_id"],
                                                                 key["private_key_pem"]),
                          client=client)


def kalshi_plugin(exchange: Any) -> Callable[[int], Awaitable[None]]:
    async def one(i: int) -> None:
        request = OrderRequest(request_id=f"r{i}", idempotency_key=f"bench-{next(OFFICIAL_IDS)}",
                               venue="kalshi", market=KALSHI_TICKER, outcome="YES",
                               side=Side.BUY, quantity=1, limit_price=Decimal("0.30"),
                               time_in_force="GTC")
        state = await exchange.create_order(await exchange.prepare_order(request))
        if state.status is not OrderStatus.OPEN:
            raise SystemExit(f"kalshi order {i} ended {state.status}")

    return one


def kalshi_official(port: int) -> Callable[[int], None]:
    from kalshi_python_sync import Configuration, KalshiClient

    key = kalshi_key()
    config = Configuration(host=f"http://127.0.0.1:{port}/trade-api/v2")
    config.api_key_id = key["key_id"]
    config.private_key_pem = key["private_key_pem"]
    config.connection_pool_maxsize = 32
    client = KalshiClient(config)

    def one(i: int) -> None:
        answer = client.create_order_v2(
            ticker=KALSHI_TICKER, client_order_id=f"official-{next(OFFICIAL_IDS)}",
            side="bid", count="1.00", price="0.3000", time_in_force="good_till_canceled",
            self_trade_prevention_type="taker_at_cross")
        if not answer.order_id:
            raise SystemExit(f"kalshi-python-sync order {i}: no order id in {answer}")

    return one


def kalshi_signature_alone(samples: int) -> list[float]:
    from arbexec_kalshi.signing import Signer

    key = kalshi_key()
    signer = Signer.from_pem(key["key_id"], key["private_key_pem"])
    out = []
    for _ in range(BATCHES):
        start = time.process_time()
        for _ in range(samples):
            signer.headers("POST", "/trade-api/v2/portfolio/events/orders")
        out.append((time.process_time() - start) / samples * 1e6)
    return out


# ------------------------------------------------------------------ Polymarket


def polymarket_plugin(port: int, client: httpx.AsyncClient | None
                      ) -> tuple[Callable[[int], Awaitable[None]], Any]:
    from arbexec_polymarket.amounts import limit_amounts
    from arbexec_polymarket.auth import ApiCredentials, L2Signer
    from arbexec_polymarket.config import PolymarketConfig
    from arbexec_polymarket.eip712 import ExchangeKind
    from arbexec_polymarket.http import ClobHttp
    from arbexec_polymarket.orders import OrderFields, OrderSigner, OrderType, post_body
    from arbexec_polymarket.signer import Signer
    from arbexec_polymarket.testing import YES_TOKEN

    signer = Signer.from_hex(POLY_KEY)
    api = ApiCredentials(**POLY_API)
    http = ClobHttp(PolymarketConfig(host=f"http://127.0.0.1:{port}"),
                    l2=L2Signer(signer.address, api), client=client)
    orders = OrderSigner(signer, chain_id=137)
    maker, taker = limit_amounts(Side.BUY, Decimal("0.30"), Decimal("10"), Decimal("0.01"))

    async def one(i: int) -> None:
        fields = OrderFields(token_id=int(YES_TOKEN), side=Side.BUY, maker_amount=maker,
                             taker_amount=taker, salt=1000 + i,
                             timestamp_ms=int(time.time() * 1000))
        signed = orders.sign(fields, ExchangeKind.STANDARD)
        answer = await http.post_order_body(
            "/order", post_body(signed, api.api_key, OrderType.GTC).encode())
        if not answer.get("success") or answer.get("orderID") != signed.order_hash:
            raise SystemExit(f"polymarket order {i} not accepted: {answer}")

    return one, http


def polymarket_official(port: int) -> Callable[[int], None]:
    from arbexec_polymarket.testing import YES_TOKEN
    from py_clob_client_v2.client import ClobClient
    from py_clob_client_v2.clob_types import ApiCreds, OrderArgsV2, PartialCreateOrderOptions

    creds = ApiCreds(api_key=POLY_API["api_key"], api_secret=POLY_API["secret"],
                     api_passphrase=POLY_API["passphrase"])
    client = ClobClient(f"http://127.0.0.1:{port}", chain_id=137, key=POLY_KEY, creds=creds)
    options = PartialCreateOrderOptions(tick_size="0.01", neg_risk=False)

    def one(i: int) -> None:
        answer = client.create_and_post_order(
            OrderArgsV2(token_id=YES_TOKEN, price=0.30, size=10.0, side="BUY"), options)
        if not answer.get("success"):
            raise SystemExit(f"py-clob-client-v2 order {i} not accepted: {answer}")

    return one


def httpx_default(headers: dict[str, str]) -> httpx.AsyncClient:
    """The plugins' clients before: httpx's AsyncClient on its default transport."""
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), headers=headers,
                             follow_redirects=False)


# ------------------------------------------------------------------ bare requests


def bare_clients() -> dict[str, Callable[[], httpx.AsyncClient]]:
    """One small POST with no venue work, per client: what the transport alone costs."""
    from arbexec.venue.client import venue_client

    clients: dict[str, Callable[[], httpx.AsyncClient]] = {
        "bare POST, httpx.AsyncClient default transport": lambda: httpx_default({}),
        "bare POST, venue client (stream transport)": lambda: venue_client(
            timeout=httpx.Timeout(10.0), headers={}),
    }
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        return clients  # the alternative transport, measured only where installed
    clients["bare POST, venue client on httpx-aiohttp"] = lambda: venue_client(
        timeout=httpx.Timeout(10.0), headers={}, transport=AiohttpTransport())
    return clients


async def bare_runs(report: Report, port: int, requests: int) -> None:
    url = f"http://127.0.0.1:{port}/orders"
    try:
        clients = bare_clients()
    except ImportError:  # a tree from before the venue client, measured for its plugins
        report.fact("bare requests", "skipped: this tree has no venue client")
        return
    for concurrency in CONCURRENCY:
        baseline = None
        for label, make in clients.items():
            client = make()

            async def one(i: int, client: httpx.AsyncClient = client,
                          label: str = label) -> None:
                response = await client.post(url, content=b'{"n":1}',
                                             headers={"Content-Type": "application/json"})
                if response.status_code != 200 or "order" not in response.json():
                    raise SystemExit(f"{label}: unexpected answer {response}")

            samples = await drive_async(one, requests, concurrency)
            await client.aclose()
            name = f"{label}, c={concurrency}"
            record(report, name, samples, baseline)
            baseline = baseline or name


# ------------------------------------------------------------------ the run


def record(report: Report, name: str, samples: Samples, against: str | None) -> None:
    report.add(f"{name} cpu", "us/request", samples.cpu,
               against=None if against is None else f"{against} cpu")
    report.add(f"{name} latency", "us", samples.latency,
               against=None if against is None else f"{against} latency")


async def plugin_runs(report: Report, venue: str, port: int, requests: int) -> None:
    for concurrency in CONCURRENCY:
        before = f"{venue} plugin, httpx default transport (before), c={concurrency}"
        after = f"{venue} plugin, c={concurrency}"
        for name in (before, after):
            client = httpx_default({"Accept": "application/json"}) if name == before else None
            if venue == "kalshi":
                exchange = kalshi_exchange(port, client)
                samples = await drive_async(kalshi_plugin(exchange), requests, concurrency)
                await exchange.aclose()
            else:
                one, http = polymarket_plugin(port, client)
                samples = await drive_async(one, requests, concurrency)
                await http.aclose()
            record(report, name, samples, before if name == after else None)


def official_runs(report: Report, venue: str, port: int, requests: int) -> None:
    label = "kalshi-python-sync" if venue == "kalshi" else "py-clob-client-v2"
    make = kalshi_official if venue == "kalshi" else polymarket_official
    for concurrency in CONCURRENCY:
        samples = drive_threads(make(port), max(requests // 2, 40), concurrency)
        ours = f"{venue} plugin, c={concurrency}"
        name = f"{label}, c={concurrency}"
        report.add(f"{name} cpu", "us/request", samples.cpu)
        report.add(f"{name} latency", "us", samples.latency)
        # the plugin's figures against the official client's, in the same run
        for what in ("cpu", "latency"):
            mine = next(f for f in report.figures if f.name == f"{ours} {what}")
            report.add(f"{ours} {what} (vs {label})", mine.unit, mine.samples,
                       against=f"{name} {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=sized(2000, 160))
    args = parser.parse_args()
    report = Report("venue_requests")
    with tempfile.TemporaryDirectory() as tmp:
        with serve("venue_standins:canned", Path(tmp) / "canned.port") as port:
            asyncio.run(bare_runs(report, port, args.requests))
        for venue in ("kalshi", "polymarket"):
            with serve(f"venue_standins:{venue}", Path(tmp) / f"{venue}.port") as port:
                asyncio.run(plugin_runs(report, venue, port, args.requests))
                official_runs(report, venue, port, args.requests)
    report.add("kalshi RSA-PSS signature alone cpu", "us/request",
               kalshi_signature_alone(sized(200, 20)),
               note="part of every Kalshi request above, ours and the official client's")
    report.fact("requests per figure (plugins / official clients)",
                f"{args.requests} / {max(args.requests // 2, 40)}")
    report.fact("cpu", "time.process_time (user + system) per request, one sample per "
                f"batch of {args.requests // BATCHES}; latency per request")
    report.finish()


if __name__ == "__main__":
    main()
