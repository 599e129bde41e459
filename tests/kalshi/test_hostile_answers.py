"""Hostile venue answers, property-based: whatever Kalshi (or a proxy) sends back, a read
ends in a value or an ``ExchangeError`` naming the venue, and an order post in a state or
``AmbiguousSubmission``; never another exception, never a refusal invented from junk."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from arbexec_kalshi.config import KalshiConfig
from arbexec_kalshi.exchange import KalshiExchange
from arbexec_kalshi.signing import Signer
from arbexec_kalshi.testing import FakeKalshi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kalshi_venue_checks import CheckedTransport, ReplaceAnswer, Respond

from arbexec import errors as ax
from arbexec.model import OrderState
from arbexec.testing.requests import order_request

TICKER = "KXHIGHNY-26NOV22-B57.5"
FIELDS = ["order_id", "client_order_id", "ticker", "book_side", "status", "yes_price_dollars",
          "fill_count_fp", "remaining_count_fp", "initial_count_fp", "fill_count",
          "remaining_count", "orders", "order", "fills", "cursor", "market_positions",
          "balance", "balance_dollars", "position_fp", "count_fp", "error", "ts_ms"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["0.5000", "1e400", "-1", "NaN", "bid", "resting"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=6),
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.sampled_from([b"<html>oops</html>", b'{"orders": "xyz"}', b'{"order": {"order_id": 1}}',
                     b'{"fills": [{"order_id": "o"}], "cursor": ""}', b"{", b"NaN"]),
)
READS = [
    ("GET", "/portfolio/orders", lambda ex, ident: ex.lookup_order(ident)),
    ("GET", "/portfolio/orders/o-1", lambda ex, ident: ex.fetch_order("o-1")),
    ("GET", "/portfolio/fills", lambda ex, ident: ex.fetch_fills(order_id="o-1")),
    ("GET", "/portfolio/positions", lambda ex, ident: ex.fetch_positions()),
    ("GET", "/portfolio/balance", lambda ex, ident: ex.fetch_balance()),
]


KEY = json.loads((Path(__file__).parent / "data" / "kalshi_vectors.json").read_text())[
    "test_keys"]["rsa_2048"]


def _exchange() -> tuple[KalshiExchange, CheckedTransport]:
    key = KEY
    fake = FakeKalshi(public_key_pem=key["public_key_pem"], key_id=key["key_id"])
    fake.add_market(TICKER, exchange_index=1)
    checks = CheckedTransport(httpx.MockTransport(fake), key["public_key_pem"], key["key_id"])

    async def no_sleep(_: float) -> None:
        return None

    exchange = KalshiExchange(
        config=KalshiConfig(), signer=Signer.from_pem(key["key_id"], key["private_key_pem"]),
        transport=checks, sleep=no_sleep,
    )
    return exchange, checks


COUNTS: dict[str, int] = {}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies, status=st.sampled_from([200, 201]), read=st.sampled_from(READS),
       content_type=st.sampled_from(["application/json", "text/html"]))
def test_hostile_read_answers_end_in_a_value_or_a_venue_error(
    body: bytes, status: int, read: Any, content_type: str
) -> None:
    COUNTS["reads"] = COUNTS.get("reads", 0) + 1
    method, route, call = read

    async def scenario() -> None:
        exchange, checks = _exchange()
        for _ in range(8):  # every attempt and every page gets the hostile answer
            checks.inject(method, route, Respond(status, body, content_type))
        try:
            await call(exchange, "ax-by-" + "0" * 32 + "-00000000")
        except ax.ExchangeError as exc:
            assert exc.venue == "kalshi" and str(exc)
        finally:
            await exchange.aclose()

    asyncio.run(scenario())


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies, status=st.sampled_from([200, 201, 202, 204, 302, 400, 403, 502]),
       content_type=st.sampled_from(["application/json", "text/html", "text/plain"]))
def test_hostile_answers_to_an_order_post_never_invent_a_refusal(
    body: bytes, status: int, content_type: str
) -> None:
    COUNTS["order posts"] = COUNTS.get("order posts", 0) + 1

    async def scenario() -> None:
        exchange, checks = _exchange()
        request = order_request("h-1", venue="kalshi", market=TICKER, limit_price=Decimal("0.3"))
        prepared = await exchange.prepare_order(request)
        checks.inject("POST", "/portfolio/events/orders", ReplaceAnswer(status, body, content_type))
        try:
            state = await exchange.create_order(prepared)
            assert isinstance(state, OrderState) and 200 <= status < 300
        except ax.AmbiguousSubmission:
            pass
        except ax.ExchangeError as exc:
            # a refusal only where the body is one of Kalshi's error shapes
            assert 400 <= status < 500, (status, body, exc)
            payload = json.loads(body)
            assert isinstance(payload, dict), payload
        finally:
            await exchange.aclose()

    asyncio.run(scenario())
