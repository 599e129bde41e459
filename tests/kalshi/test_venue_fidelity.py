"""Kalshi behaviours the adapter must honour, each reproduced against the stand-in over the
checking transport (signatures verified, every body held to the SDK's models)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from arbexec_kalshi.errors import OrderMismatch, UnreadableAnswer
from arbexec_kalshi.fees import FeeSchedule
from arbexec_kalshi.ratelimit import TokenBucket, buckets_for
from kalshi_venue_checks import AnswerWith, LoseAnswer, ReplaceAnswer, Respond

from arbexec import errors as ax
from arbexec.model import Liquidity, OrderRequest, OrderStatus
from arbexec.testing.requests import order_request

D = Decimal
TICKER = "KXHIGHNY-26NOV22-B57.5"
ORDERS = "/portfolio/events/orders"


def request(key: str = "key-1", **kw: Any) -> OrderRequest:
    return order_request(
        **{"request_id": key, "idempotency_key": key, "venue": "kalshi", "market": TICKER, **kw}
    )


def sent(exchange: Any, method: str, suffix: str) -> list[httpx.Request]:
    return [
        r for r in exchange.checks.requests if r.method == method and r.url.path.endswith(suffix)
    ]


# ---------------------------------------------------------------- 1. phantom cancels


async def test_cancel_batch_cancel_and_decrease_are_routed_to_the_order_shard(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    one, two, three = [
        await exchange.create_order(
            await exchange.prepare_order(request(f"route-{i}", limit_price=D("0.20")))
        )
        for i in range(3)
    ]
    fresh = make_exchange(httpx.MockTransport(fake))  # knows nothing: must read the route
    decreased = await fresh.decrease_order(one.venue_order_id, reduce_to=D(2))
    assert decreased.quantity == D(2)
    cancelled = await fresh.cancel_order(one.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert fake.orders[one.venue_order_id].status == "canceled"  # the venue agrees
    (delete,) = sent(fresh, "DELETE", one.venue_order_id)
    assert delete.url.params["market_ticker"] == TICKER
    assert delete.url.params["exchange_index"] == "1"
    (decrease,) = sent(fresh, "POST", "/decrease")
    assert json.loads(decrease.content)["market_ticker"] == TICKER
    results = await fresh.cancel_orders([two.venue_order_id, three.venue_order_id])
    assert [r.error for r in results] == [None, None]
    (batch,) = sent(fresh, "DELETE", "/batched")
    assert {e["market_ticker"] for e in json.loads(batch.content)["orders"]} == {TICKER}
    assert all(fake.orders[o.venue_order_id].status == "canceled" for o in (two, three))


async def test_batch_cancel_answers_are_matched_to_orders_by_id_not_position(
    fake: Any, make_exchange: Any
) -> None:
    """The venue cancels all three but answers in reverse order and leaves the first
    order's entry out: each result belongs to its own order, and the one without an entry
    is an error saying so (looked up, not taken as cancelled)."""
    from arbexec.testing import faults

    exchange = make_exchange(httpx.MockTransport(fake))
    ids = [
        (await exchange.create_order(
            await exchange.prepare_order(request(f"bc-{i}", limit_price=D("0.20"))))
         ).venue_order_id
        for i in range(3)
    ]

    def reverse_and_drop_first(content: bytes) -> bytes:
        body = json.loads(content)
        entries = [e for e in body["orders"] if e["order_id"] != ids[0]]
        return json.dumps({**body, "orders": entries[::-1]}).encode()

    exchange.checks.faults.add(faults.mangle(
        "DELETE", f"/trade-api/v2{ORDERS}/batched", transform=reverse_and_drop_first))
    results = await exchange.cancel_orders(ids)
    assert [r.identity for r in results] == ids
    assert isinstance(results[0].error, ax.ExchangeError)
    assert "no entry" in str(results[0].error)
    assert [r.error for r in results[1:]] == [None, None]
    exchange.checks.faults.assert_all_fired()


async def test_a_cancel_the_venue_record_contradicts_is_not_reported_cancelled(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    state = await exchange.create_order(await exchange.prepare_order(request()))
    exchange.checks.inject("DELETE", f"{ORDERS}/{state.venue_order_id}", Respond(
        404, b'{"error":{"code":"not_found","message":"order not found"}}'))
    after = await exchange.cancel_order(state.venue_order_id)
    assert after.status is OrderStatus.OPEN  # it still rests on the venue, and can fill
    assert after.reason and "not confirmed" in after.reason
    assert fake.orders[state.venue_order_id].status == "resting"


# ---------------------------------------------------------------- 2. exact numbers


async def test_a_fractional_fee_multiplier_is_parsed_exactly(fake: Any, make_exchange: Any) -> None:
    fake.add_market("KXHALF-26DEC31-T1", fee_multiplier=0.5)
    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = await exchange.prepare_order(request(market="KXHALF-26DEC31-T1"))
    assert prepared.payload["price"] == "0.3000"
    info = await exchange.market_info("KXHALF-26DEC31-T1")
    assert info.fees.multiplier == D("0.5") and isinstance(info.fees.multiplier, Decimal)
    # 0.07 x 0.5 x 100 x 0.5 x 0.5, exactly
    assert exchange.fee("KXHALF-26DEC31-T1", D("0.5"), D(100), Liquidity.TAKER) == D("0.875")
    series = await exchange.fetch_series("KXHALF")
    assert series["fee_multiplier"] == D("0.5")


def test_venue_json_numbers_never_pass_through_float() -> None:
    from arbexec_kalshi.numbers import loads_exact

    exact = loads_exact(b'{"x": 0.1000000000000000000001, "n": 7}')
    assert exact == {"x": D("0.1000000000000000000001"), "n": 7}
    with pytest.raises(ValueError):
        loads_exact(b'{"x": NaN}')


# ---------------------------------------------------------------- 3. batches by budget


async def test_a_batch_of_twenty_creates_is_split_to_fit_the_basic_write_bucket(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = [
        await exchange.prepare_order(request(f"b20-{i}", limit_price=D("0.20"))) for i in range(20)
    ]
    items = await exchange.create_orders(prepared)
    assert [i.identity for i in items] == [p.identity for p in prepared]
    assert all(i.state is not None and i.state.status is OrderStatus.OPEN for i in items)
    sizes = [len(json.loads(r.content)["orders"]) for r in sent(exchange, "POST", "/batched")]
    assert sizes == [10, 10]  # Basic write bucket: 100 tokens, 10 per create


async def test_a_call_costing_more_than_the_bucket_is_never_sent_anyway() -> None:
    bucket = TokenBucket(100, 100)
    with pytest.raises(ValueError, match="exceeds the bucket"):
        await bucket.acquire(200)
    for tier in ("expert", "prestige"):  # the SDK's tier names
        read, write = buckets_for(tier)
        assert read.rate > 0 and write.capacity > 0


# ---------------------------------------------------------------- 4. remaining counts


async def test_price_only_amend_after_decrease_keeps_the_decreased_size(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    state = await exchange.create_order(
        await exchange.prepare_order(request(quantity=D(10), limit_price=D("0.20")))
    )
    decreased = await exchange.decrease_order(state.venue_order_id, reduce_to=D(4))
    assert (decreased.quantity, decreased.remaining) == (D(4), D(4))
    amended = await exchange.amend_order(state.venue_order_id, price=D("0.21"))
    (amend,) = sent(exchange, "POST", "/amend")
    assert json.loads(amend.content)["count"] == "4.00"
    assert (amended.limit_price, amended.remaining) == (D("0.21"), D(4))
    assert fake.orders[state.venue_order_id].remaining == D(4)


# ---------------------------------------------------------------- 5. index fee rates


def test_index_series_rates_come_from_the_series_else_current_prefixes() -> None:
    for series in ("KXINX", "KXINXU", "KXNASDAQ100U", "KXNASDAQ100", "INX"):
        assert FeeSchedule.from_records({"ticker": series}).taker_rate == D("0.035"), series
    assert FeeSchedule.from_records({"ticker": "KXHIGHNY"}).taker_rate == D("0.07")
    published = FeeSchedule.from_records(
        {"ticker": "KXINXU", "fee_type": "quadratic", "fee_multiplier": D("0.5")}
    )
    assert published.rate(Liquidity.TAKER) == D("0.035")  # the series' own fields decide


# ---------------------------------------------------------------- 6. the smaller ones


def test_an_explicit_private_key_path_wins_over_the_environment(
    rsa_key: dict[str, Any], ed_key: dict[str, Any], tmp_path: Path
) -> None:
    from arbexec_kalshi.credentials import load_credentials

    pem = tmp_path / "explicit.pem"
    pem.write_text(ed_key["private_key_pem"])
    environ = {"KALSHI_API_KEY_ID": "id-1", "KALSHI_PRIVATE_KEY": rsa_key["private_key_pem"]}
    creds = load_credentials({"private_key_path": str(pem)}, environ)
    assert creds is not None and creds.signer().key_type == "ed25519"
    assert creds.source == f"private_key_path {pem}"
    from_env = load_credentials({}, environ)
    assert from_env is not None and from_env.source == "KALSHI_PRIVATE_KEY"
    with pytest.raises(ax.ConfigError, match="keep one"):
        load_credentials({"private_key_path": str(pem), "private_key": "x"}, environ)


async def test_listings_follow_the_cursor_past_fifty_pages(fake: Any, make_exchange: Any) -> None:
    # a read budget that never waits: the client-side pacing is not under test here
    exchange = make_exchange(httpx.MockTransport(fake), read_rate=1_000_000)
    for i in range(60):  # resting orders placed straight on the stand-in
        fake._enter({"ticker": TICKER, "side": "bid", "count": "1", "price": "0.1000",
                     "time_in_force": "good_till_canceled", "client_order_id": f"c-{i}"})
    fake.page_size = 1
    assert len(await exchange.fetch_open_orders(TICKER)) == 60
    first = next(o for o in fake.orders.values())
    found = await exchange.lookup_order(first.client_order_id)  # the oldest: the last page
    assert found is not None and found.venue_order_id == first.order_id


async def test_self_trade_prevention_is_validated(fake: Any, make_exchange: Any) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    with pytest.raises(ax.InvalidOrder, match="self_trade_prevention 'cancel_both'"):
        await exchange.prepare_order(request(tags={"self_trade_prevention": "cancel_both"}))
    maker = await exchange.prepare_order(request(tags={"self_trade_prevention": "maker"}))
    assert maker.payload["self_trade_prevention_type"] == "maker"


async def test_amend_refuses_fractional_expiries_and_can_clear_one(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    state = await exchange.create_order(
        await exchange.prepare_order(request(time_in_force="GTD", expires_at=expiry))
    )
    with pytest.raises(ax.InvalidOrder, match="whole seconds"):
        await exchange.amend_order(state.venue_order_id, expires_at=expiry + timedelta(
            milliseconds=500))
    await exchange.amend_order(state.venue_order_id, clear_expiry=True)
    (amend,) = sent(exchange, "POST", "/amend")
    assert json.loads(amend.content)["expiration_time"] == 0
    assert fake.orders[state.venue_order_id].expiration is None


async def test_nothing_is_sent_while_trading_is_not_active(fake: Any, make_exchange: Any) -> None:
    fake.trading_active = False
    exchange = make_exchange(httpx.MockTransport(fake))
    with pytest.raises(ax.MarketClosed, match="trading is not active"):
        await exchange.prepare_order(request())
    assert not sent(exchange, "POST", ORDERS)


async def test_a_pause_of_the_market_shard_alone_stops_its_orders(
    fake: Any, make_exchange: Any
) -> None:
    fake.paused_shards.add(1)  # shard 0 (the top-level fields) trades on
    exchange = make_exchange(httpx.MockTransport(fake))
    with pytest.raises(ax.MarketClosed, match="trading is not active"):
        await exchange.prepare_order(request())
    other = await exchange.prepare_order(request(market="KXSUB-26DEC31-T5", limit_price=D("0.3")))
    assert other.payload["ticker"] == "KXSUB-26DEC31-T5"


def test_the_websocket_dependency_supports_proxies() -> None:
    import tomllib

    plugin = Path(__file__).resolve().parents[2] / "plugins" / "arbexec-kalshi"
    pyproject = plugin / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    (websockets,) = [d for d in deps if d.startswith("websockets")]
    assert websockets == "websockets>=15"  # connect(proxy=...) arrived in websockets 15


# ---------------------------------------------------------------- sells of held contracts


async def test_ioc_sells_of_held_contracts_go_out_reduce_only(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    nothing_held = await exchange.prepare_order(
        request("s-0", side="SELL", time_in_force="IOC", limit_price=D("0.40"))
    )
    assert "reduce_only" not in nothing_held.payload  # a deliberate open: the core decides
    await exchange.create_order(
        await exchange.prepare_order(request("b-1", quantity=D(2), limit_price=D("0.45")))
    )
    opening = await exchange.prepare_order(request(
        "s-9", side="SELL", quantity=D(5), time_in_force="IOC", limit_price=D("0.35"),
        tags={"reduce_only": False}))  # explicitly meant to go beyond the position
    assert "reduce_only" not in opening.payload
    close = await exchange.prepare_order(
        request("s-1", side="SELL", quantity=D(5), time_in_force="IOC", limit_price=D("0.35"))
    )
    assert close.payload["reduce_only"] is True
    state = await exchange.create_order(close)
    assert state.filled_quantity == D(2)  # capped at the position: never opens NO
    assert fake.positions[TICKER] == 0
    other_outcome = await exchange.prepare_order(
        request("s-2", side="SELL", outcome="NO", time_in_force="IOC", limit_price=D("0.40"))
    )
    assert "reduce_only" not in other_outcome.payload


# ---------------------------------------------------------------- issue 13: ambiguity


UNREADABLE = [
    ReplaceAnswer(200, b"<html><body>upstream timeout</body></html>", "text/html"),
    ReplaceAnswer(201, b'{"order_id": "00000000-000a-11ce-0000-0000000', "application/json"),
    ReplaceAnswer(201, b'{"order_id": "x", "fill_count": "0.00"}', "text/plain"),
    ReplaceAnswer(201, b'{"message": "upstream timeout"}', "application/json"),
    ReplaceAnswer(201, b"[]", "application/json"),
    ReplaceAnswer(400, b"<html>400 Bad Request (proxy)</html>", "text/html"),
    LoseAnswer(httpx.RemoteProtocolError),
]


@pytest.mark.parametrize("fault", UNREADABLE, ids=lambda f: type(f).__name__)
async def test_an_order_answer_that_does_not_clearly_refuse_is_ambiguous(
    fault: Any, fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = await exchange.prepare_order(request())
    exchange.checks.inject("POST", ORDERS, fault)
    with pytest.raises(ax.AmbiguousSubmission, match="looked up"):
        await exchange.create_order(prepared)
    found = await exchange.lookup_order(prepared.identity)  # the venue holds it
    assert found is not None and found.status is OrderStatus.OPEN


async def test_an_unreadable_gzip_body_on_an_order_post_is_ambiguous(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = await exchange.prepare_order(request())
    broken = httpx.Response(
        201,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
        stream=httpx.ByteStream(gzip.compress(b'{"order_id": "x"}')[:5]),
    )
    exchange.checks.inject("POST", ORDERS, AnswerWith(lambda _: broken))
    with pytest.raises(ax.AmbiguousSubmission):
        await exchange.create_order(prepared)
    assert len(fake.orders) == 1


async def test_a_batch_entry_that_cannot_be_matched_is_ambiguous_never_positional(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = [
        await exchange.prepare_order(request(f"bm-{i}", limit_price=D("0.20"))) for i in range(2)
    ]
    entries = [{"order_id": "00000000-0000-4000-8000-00000000000b", "fill_count": "0.00",
                "remaining_count": "5.00", "ts_ms": 1, "client_order_id": prepared[1].identity}]
    exchange.checks.inject(
        "POST", f"{ORDERS}/batched",
        ReplaceAnswer(201, json.dumps({"orders": entries}).encode(), "application/json"),
    )
    first, second = await exchange.create_orders(prepared)
    assert isinstance(first.error, ax.AmbiguousSubmission) and first.state is None
    assert second.state is not None and second.identity == prepared[1].identity
    assert second.state.venue_order_id == "00000000-0000-4000-8000-00000000000b"


async def test_a_lookup_finding_another_order_under_the_identity_is_a_mismatch(
    fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    ours = await exchange.prepare_order(request(quantity=D(1)))
    # another client (say, a second journal) already holds an order of 10 under our id
    theirs = dict(ours.payload, count="10.00")
    fake(httpx.Request("POST", "https://x/trade-api/v2" + ORDERS, json=theirs,
                       headers=exchange.signer.headers("POST", "/trade-api/v2" + ORDERS)))
    with pytest.raises(OrderMismatch, match="differ from the request"):
        await exchange.create_order(ours)  # 409, then the lookup finds the foreign order
    other = make_exchange(httpx.MockTransport(fake))  # after a restart too
    with pytest.raises(OrderMismatch):
        await other.lookup_order(ours.identity)


@pytest.mark.parametrize(
    "body",
    [b'{"orders": "xyz", "cursor": ""}', b'{"orders": [1, 2], "cursor": ""}',
     b'{"orders": [{"client_order_id": "ID"}], "cursor": ""}', b'["orders"]'],
)
async def test_an_odd_lookup_answer_is_a_clear_venue_error(
    body: bytes, fake: Any, make_exchange: Any
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    identity = (await exchange.prepare_order(request())).identity
    exchange.checks.inject(
        "GET", "/portfolio/orders", Respond(200, body.replace(b"ID", identity.encode()))
    )
    with pytest.raises(UnreadableAnswer, match="Kalshi answered"):
        await exchange.lookup_order(identity)


async def test_secrets_echoed_in_an_error_body_never_reach_the_message(
    fake: Any, make_exchange: Any, rsa_key: dict[str, Any]
) -> None:
    import base64

    exchange = make_exchange(httpx.MockTransport(fake))
    prepared = await exchange.prepare_order(request())
    seen: dict[str, str] = {}

    def echoing_proxy(req: httpx.Request) -> httpx.Response:
        signature = req.headers["KALSHI-ACCESS-SIGNATURE"]
        raw = base64.b64decode(signature)
        seen.update(sig=signature, hex=raw.hex(), url=base64.urlsafe_b64encode(raw).decode())
        key = rsa_key["key_id"]
        echo = (f"bad gateway; headers: KALSHI-ACCESS-KEY={key} sig={signature} "
                f"hex={raw.hex()} b64url={seen['url']} "
                f"keyb64={base64.b64encode(key.encode()).decode()}")
        return httpx.Response(400, json={"error": {"code": "bad_request", "message": echo}})

    exchange.checks.inject("POST", ORDERS, AnswerWith(echoing_proxy))
    with pytest.raises(ax.InvalidOrder) as info:
        await exchange.create_order(prepared)
    text = f"{info.value} {info.value.venue_message} {info.value.venue_code}"
    key = rsa_key["key_id"]
    for secret in (key, seen["sig"], seen["hex"], seen["url"], seen["url"].rstrip("="),
                   base64.b64encode(key.encode()).decode()):
        assert secret not in text
    assert "[redacted]" in text


async def test_secrets_echoed_in_an_odd_record_never_reach_the_message(
    fake: Any, make_exchange: Any, rsa_key: dict[str, Any]
) -> None:
    exchange = make_exchange(httpx.MockTransport(fake))
    key = rsa_key["key_id"]
    exchange.checks.inject("GET", "/portfolio/balance", Respond(200, json.dumps(
        {"balance": 1, "balance_dollars": f"KALSHI-ACCESS-KEY={key}", "portfolio_value": 0,
         "updated_ts": 1}).encode()))
    with pytest.raises(UnreadableAnswer) as info:
        await exchange.fetch_balance()
    assert key not in str(info.value) and "[redacted]" in str(info.value)
    exchange.checks.inject("GET", "/portfolio/orders", Respond(
        200, json.dumps({"orders": f"echo {key}", "cursor": ""}).encode()))
    with pytest.raises(UnreadableAnswer) as odd:
        await exchange.lookup_order("ax-by-" + "0" * 32 + "-00000000")
    assert key not in str(odd.value)
