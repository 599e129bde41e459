"""The venue toolkit (arbexec.venue): each rule on its own, and both venue plugins built on it
(the same failure gets the same verdict on Polymarket and on Kalshi)."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from arbexec_kalshi.http import KalshiHttp
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.http import ClobHttp
from arbexec_polymarket.limits import CLOB_LIMITS

from arbexec import api
from arbexec.errors import (
    AmbiguousSubmission,
    AuthenticationError,
    DuplicateOrder,
    ExchangeError,
    InvalidOrder,
    MarketClosed,
    NetworkError,
    OrderNotFound,
    PermissionDenied,
    RateLimited,
    VenueUnavailable,
)
from arbexec.testing import faults
from arbexec.venue.batch import match_by_identity
from arbexec.venue.delivery import NOT_SENT, transport_failure, was_not_sent
from arbexec.venue.numbers import MalformedNumber, loads_exact, venue_decimal
from arbexec.venue.ratelimit import RateLimiter, TokenBucket, Window, batch_size
from arbexec.venue.refusals import Refusal, refusal_for
from arbexec.venue.retry import ReadRetry, retry_after, with_read_retries

KALSHI = "https://api.elections.kalshi.com/trade-api/v2"
ORDERS = "/portfolio/events/orders"

# ------------------------------------------------------------------ the send-once rule

#: Every httpx transport failure and whether it proves the request was not sent.
VERDICTS: list[tuple[type[httpx.TransportError], bool]] = [
    (httpx.ConnectError, True),
    (httpx.ConnectTimeout, True),
    (httpx.PoolTimeout, True),
    (httpx.ProxyError, True),
    (httpx.UnsupportedProtocol, True),
    (httpx.WriteTimeout, False),
    (httpx.WriteError, False),
    (httpx.ReadTimeout, False),
    (httpx.ReadError, False),
    (httpx.RemoteProtocolError, False),
    (httpx.LocalProtocolError, False),
    (httpx.CloseError, False),
]


def test_every_transport_failure_class_has_a_verdict() -> None:
    def leaves(cls: type) -> set[type]:
        subs = cls.__subclasses__()
        return {cls} if not subs else set().union(*(leaves(s) for s in subs))

    assert leaves(httpx.TransportError) <= {cls for cls, _ in VERDICTS}
    assert set(NOT_SENT) == {cls for cls, not_sent in VERDICTS if not_sent}


@pytest.mark.parametrize(("error", "not_sent"), VERDICTS)
def test_only_a_failure_before_the_write_proves_nothing_was_sent(
    error: type[httpx.TransportError], not_sent: bool
) -> None:
    assert was_not_sent(error("x")) is not_sent
    write = transport_failure(error("x"), venue="v", what="POST /o", write=True)
    assert isinstance(write, NetworkError if not_sent else AmbiguousSubmission)
    read = transport_failure(error("x"), venue="v", what="GET /o", write=False)
    assert isinstance(read, NetworkError)


def _client(*installed: faults.Fault) -> httpx.AsyncClient:
    inner = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    return httpx.AsyncClient(transport=faults.FaultTransport(inner, *installed))


async def _polymarket_post(error: type[httpx.TransportError]) -> Exception:
    http = ClobHttp(PolymarketConfig(), client=_client(
        faults.fail_before_sending("POST", "/order", error, times=None)))
    with pytest.raises(ExchangeError) as caught:
        await http.send_once("POST", "/order", b"{}", auth=False)
    return caught.value


async def _kalshi_post(error: type[httpx.TransportError]) -> Exception:
    http = KalshiHttp(base_url=KALSHI, client=_client(
        faults.fail_before_sending("POST", "/trade-api/v2" + ORDERS, error, times=None)))
    with pytest.raises(ExchangeError) as caught:
        await http.request("POST", ORDERS, json={}, auth=False, order_post=True)
    return caught.value


@pytest.mark.parametrize(("error", "not_sent"), VERDICTS)
async def test_both_venues_give_an_order_post_the_same_verdict(
    error: type[httpx.TransportError], not_sent: bool
) -> None:
    expected = NetworkError if not_sent else AmbiguousSubmission
    for failure in (await _polymarket_post(error), await _kalshi_post(error)):
        assert type(failure) is expected, (error, failure)


# ------------------------------------------------------------------ read retries


def test_backoff_doubles_up_to_its_cap_and_jitter_only_shortens_it() -> None:
    fixed = ReadRetry(first_wait=0.25, max_backoff=1.0, jitter=0.5, random=lambda: 0.0)
    assert [fixed.backoff(n) for n in (1, 2, 3, 4)] == [0.25, 0.5, 1.0, 1.0]
    shortest = ReadRetry(first_wait=0.25, max_backoff=1.0, jitter=0.5, random=lambda: 1.0)
    assert [shortest.backoff(n) for n in (1, 2, 3)] == [0.125, 0.25, 0.5]


def test_retry_after_is_honoured_exactly_and_a_longer_one_than_the_cap_ends_the_read() -> None:
    policy = ReadRetry(max_retry_wait=10.0, random=lambda: 0.0)
    assert policy.wait_for(RateLimited("slow", retry_after=3.0), 1) == 3.0
    assert policy.wait_for(VenueUnavailable("down"), 1) == policy.backoff(1)
    with pytest.raises(RateLimited, match="max_retry_wait") as caught:
        policy.wait_for(RateLimited("slow", retry_after=3600.0, venue="v"), 1)
    assert caught.value.retry_after == 3600.0 and caught.value.venue == "v"


@pytest.mark.parametrize(("value", "seconds"), [
    ("3", 3.0), ("0", 0.0), ("inf", None), ("nan", None), ("-5", None), ("soon", None),
    ("1e400", None), ("x" * 100, None),
])
def test_retry_after_reads_only_finite_non_negative_seconds(
    value: str, seconds: float | None
) -> None:
    assert retry_after({"Retry-After": value}) == seconds


def test_retry_after_reads_an_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = email.utils.format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after({"Retry-After": later}, now=now) == 30.0


async def test_reads_are_retried_on_retryable_errors_until_the_attempts_run_out() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def failing() -> Any:
        calls.append(1)
        raise VenueUnavailable("down")

    policy = ReadRetry(attempts=3, random=lambda: 0.0)
    with pytest.raises(VenueUnavailable):
        await with_read_retries(failing, policy, sleep=sleep)
    assert len(calls) == 3 and sleeps == [policy.backoff(1), policy.backoff(2)]

    calls.clear()

    async def refused() -> Any:
        calls.append(1)
        raise InvalidOrder("no")

    with pytest.raises(InvalidOrder):
        await with_read_retries(refused, policy, sleep=sleep)
    assert len(calls) == 1  # a refusal is not retried

    calls.clear()
    with pytest.raises(VenueUnavailable):
        await with_read_retries(failing, policy, sleep=sleep, final=(VenueUnavailable,))
    assert len(calls) == 1  # a final error ends the read at once


def _answers(*responses: httpx.Response) -> httpx.AsyncClient:
    queue = list(responses)
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: queue.pop(0)))


def _too_many(seconds: str) -> httpx.Response:
    return httpx.Response(429, json={"error": "too many requests"},
                          headers={"Retry-After": seconds})


async def test_both_venues_wait_what_retry_after_says_before_reading_again() -> None:
    waits: dict[str, list[float]] = {"polymarket": [], "kalshi": []}

    def sleeper(venue: str) -> Any:
        async def sleep(seconds: float) -> None:
            waits[venue].append(seconds)
        return sleep

    poly = ClobHttp(PolymarketConfig(), sleep=sleeper("polymarket"),
                    client=_answers(_too_many("2"), httpx.Response(200, json={"ok": 1})))
    assert await poly.get("/book") == {"ok": 1}
    kalshi = KalshiHttp(base_url=KALSHI, sleep=sleeper("kalshi"),
                        client=_answers(_too_many("2"), httpx.Response(200, json={"ok": 1})))
    assert await kalshi.get("/markets", auth=False) == {"ok": 1}
    assert waits == {"polymarket": [2.0], "kalshi": [2.0]}


# ------------------------------------------------------------------ rate limits


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        assert len(self.sleeps) < 1000, "the bucket keeps sleeping"
        self.now += seconds


async def test_a_bucket_pays_costs_and_waits_exactly_for_the_missing_tokens() -> None:
    time = FakeTime()
    bucket = TokenBucket(10, 20, clock=time.clock, sleep=time.sleep)  # burst 20, 10/s
    assert await bucket.acquire(20) == 0.0
    assert await bucket.acquire(5) == pytest.approx(0.5)
    assert time.sleeps == [pytest.approx(0.5)]
    with pytest.raises(ValueError, match="exceeds the bucket"):
        await bucket.acquire(21)


async def test_a_bucket_on_a_late_float_clock_never_sleeps_for_rounding_dust() -> None:
    time = FakeTime()
    time.now = 1e6  # large enough that 1e-16 s does not move the clock
    bucket = TokenBucket(3, 3, clock=time.clock, sleep=time.sleep)
    for _ in range(30):
        await bucket.acquire(1)
    assert len(time.sleeps) == 27


def test_a_batch_never_costs_more_than_the_bucket_holds() -> None:
    assert batch_size(TokenBucket(100, 100), 10, 20) == 10
    assert batch_size(TokenBucket(1000, 1000), 10, 20) == 20
    assert batch_size(None, 10, 15) == 15
    assert batch_size(TokenBucket(5, 5), 10, 20) == 1


async def test_a_route_pays_its_own_windows_and_the_venue_wide_one() -> None:
    time = FakeTime()
    limiter = RateLimiter({"*": (Window(3, 1),), "GET /book": (Window(1, 10),)},
                          clock=time.clock, sleep=time.sleep)
    await limiter.acquire("GET /book")
    await limiter.acquire("GET /book")  # its own window: one per 10 s
    assert time.sleeps == [pytest.approx(10.0)]
    time.sleeps.clear()
    time.now += 10  # the venue-wide window (paid by both reads) is full again
    for _ in range(3):
        await limiter.acquire("GET /other")  # only the venue-wide window
    assert time.sleeps == []
    await limiter.acquire("GET /other")
    assert time.sleeps == [pytest.approx(1 / 3)]


def test_polymarket_limits_are_the_published_burst_and_sustained_windows() -> None:
    assert CLOB_LIMITS["POST /order"] == (Window(3500, 10), Window(36000, 600))
    assert CLOB_LIMITS["DELETE /cancel-all"] == (Window(250, 10), Window(6000, 600))
    assert CLOB_LIMITS["*"] == (Window(9000, 10),)


async def test_polymarket_calls_wait_for_room_under_the_limits() -> None:
    time = FakeTime()
    http = ClobHttp(PolymarketConfig(), sleep=time.sleep,
                    client=_answers(*(httpx.Response(200, json={}) for _ in range(4))))
    http.limiter = RateLimiter({"GET /book": (Window(1, 10),), "POST /order": (Window(1, 5),)},
                               clock=time.clock, sleep=time.sleep)
    await http.get("/book")
    await http.get("/book")
    await http.send_once("POST", "/order", b"{}", auth=False)
    await http.send_once("POST", "/order", b"{}", auth=False)
    assert time.sleeps == [pytest.approx(10.0), pytest.approx(5.0)]


# ------------------------------------------------------------------ refusals


def test_the_baseline_maps_statuses_onto_the_error_hierarchy() -> None:
    expected = {401: AuthenticationError, 403: PermissionDenied, 404: OrderNotFound,
                409: DuplicateOrder, 429: RateLimited, 500: VenueUnavailable,
                503: VenueUnavailable, 400: ExchangeError}
    assert {s: refusal_for(s).error for s in expected} == expected
    assert refusal_for(418, default=InvalidOrder).error is InvalidOrder


def test_a_venue_rule_comes_before_the_baseline_and_matches_codes_texts_and_predicates() -> None:
    rules = (
        Refusal(MarketClosed, "closed", codes=("market_closed",)),
        Refusal(InvalidOrder, "tick", fragments=("tick size",)),
        Refusal(MarketClosed, "paused", when=lambda t: "market" in t and "paused" in t),
    )
    assert refusal_for(404, code="market_closed_x", rules=rules).error is MarketClosed
    assert refusal_for(500, "Bad TICK SIZE", rules=rules).error is InvalidOrder
    assert refusal_for(400, "the market is paused", rules=rules).hint == "paused"
    assert refusal_for(400, "the market is open", rules=rules).error is ExchangeError
    assert refusal_for(404, "x", code="other", rules=rules).error is OrderNotFound


# ------------------------------------------------------------------ exact numbers


def test_venue_json_numbers_are_decimals_from_their_literal() -> None:
    decoded = loads_exact('{"p": 0.1000000000000000055511151231257827, "n": 3, "s": "0.5"}')
    assert decoded == {"p": Decimal("0.1000000000000000055511151231257827"), "n": 3, "s": "0.5"}
    assert type(decoded["n"]) is int
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError):
            loads_exact(f'{{"p": {constant}}}')


@pytest.mark.parametrize("junk", ["abc", "", " ", True, None, [1], {"a": 1}, "NaN", "inf",
                                  Decimal("NaN")])
def test_a_malformed_number_is_an_error_never_a_default(junk: Any) -> None:
    with pytest.raises(MalformedNumber):
        venue_decimal(junk, name="price", venue="v")


def test_floats_are_refused_unless_allowed_and_long_junk_is_never_shown_cut() -> None:
    with pytest.raises(MalformedNumber, match="exact"):
        venue_decimal(0.5, name="fee")
    assert venue_decimal(0.5, floats=True) == Decimal("0.5")
    assert venue_decimal(" 12.50 ") == Decimal("12.50")
    secret = "KEY-" + "s" * 100
    with pytest.raises(MalformedNumber) as caught:
        venue_decimal(secret)
    assert "KEY-" not in str(caught.value) and "characters" in str(caught.value)


async def test_both_venues_read_numbers_exactly() -> None:
    body = b'{"mid": 0.12345678901234567890123}'
    poly = ClobHttp(PolymarketConfig(), client=_answers(httpx.Response(200, content=body)))
    kalshi = KalshiHttp(base_url=KALSHI, client=_answers(httpx.Response(
        200, content=body, headers={"content-type": "application/json"})))
    exact = Decimal("0.12345678901234567890123")
    assert (await poly.get("/midpoint"))["mid"] == exact
    assert (await kalshi.get("/markets", auth=False))["mid"] == exact


# ------------------------------------------------------------------ batches


def test_batch_answers_are_matched_by_identity_never_by_position() -> None:
    orders = ["0xAA", "0xBB", "0xCC"]
    answers = [{"id": "0xcc", "n": 3}, {"id": "0xaa", "n": 1}, {"id": "0xaa", "n": 9},
               {"id": None}, {"id": "0xdd"}]
    matched = match_by_identity(orders, answers, order_key=lambda o: o,
                                answer_key=lambda a: a["id"], normalise=str.lower)
    assert [(o, a and a["n"]) for o, a in matched.pairs] == [
        ("0xAA", 1), ("0xBB", None), ("0xCC", 3)]
    assert (matched.unattributed, matched.foreign) == (2, 1)


# ------------------------------------------------------------------ the declared API


def test_the_toolkit_is_part_of_the_declared_plugin_api() -> None:
    for name in ("was_not_sent", "transport_failure", "ReadRetry", "with_read_retries",
                 "retry_after", "TokenBucket", "RateLimiter", "Window", "batch_size",
                 "Refusal", "refusal_for", "loads_exact", "venue_decimal", "MalformedNumber",
                 "match_by_identity"):
        assert name in api.__all__, name
