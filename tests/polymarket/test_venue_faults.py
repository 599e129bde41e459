"""Venue faults, injected in a transport wrapper that runs on replay too
(cassettes/polymarket/test_venue_faults/). Each test's fault reaches the adapter in every
run; ``test_removing_the_injection_fails`` shows it.

Sources for the venue behaviour: docs.polymarket.com (trading/matching-engine: 425 during
the weekly restart; order types: the GTD security threshold), py-clob-client-v2 1.2.1
(acceptance rule, batch answers), /work protocol notes §9.3, §13, §23.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from arbexec_polymarket import auth
from arbexec_polymarket.http import too_early_waits
from arbexec_polymarket.signer import Signer
from arbexec_polymarket.venue_errors import AnswerMismatch, MatchingEngineRestarting

from arbexec import errors
from arbexec.model import OrderRequest, OrderStatus, Outcome, Side, TimeInForce
from arbexec.testing import faults as f

pytestmark = pytest.mark.vcr

CONDITION_ID = "0x" + "5e" * 32
REQUESTED = datetime(2026, 11, 13, 2, 13, 20, tzinfo=UTC)
CLOCK = 1_763_000_000.0
TOO_EARLY = {"error": "the matching engine is restarting, retry later"}


def order(key: str, **overrides: Any) -> OrderRequest:
    values: dict[str, Any] = {
        "request_id": f"req-{key}",
        "idempotency_key": key,
        "venue": "polymarket",
        "market": CONDITION_ID,
        "outcome": Outcome.YES,
        "side": Side.BUY,
        "quantity": Decimal("10"),
        "limit_price": Decimal("0.40"),
        "requested_at": REQUESTED,
    }
    values.update(overrides)
    return OrderRequest(**values)


# ---------------------------------------------------------------------------- 425


async def test_order_post_answered_425_is_sent_again_unchanged(make_venue: Any) -> None:
    await too_early_scenario(make_venue, [f.respond("POST", "/order", 425, json=TOO_EARLY,
                                                    times=2)])


@pytest.mark.default_cassette("test_order_post_answered_425_is_sent_again_unchanged.yaml")
async def test_removing_the_injection_fails(make_venue: Any) -> None:
    """The same test on the same cassette without its fault: it must fail, so the fault
    is what the test observes on replay (not something the cassette carries)."""
    with pytest.raises(AssertionError):
        await too_early_scenario(make_venue, [])


async def too_early_scenario(make_venue: Any, faults: list[f.Fault]) -> None:
    venue = make_venue(faults=faults)
    try:
        prepared = await venue.prepare_order(order("too-early"))
        state = await venue.create_order(prepared)
    finally:
        await venue.aclose()
    assert state.status is OrderStatus.OPEN and state.venue_order_id == prepared.identity
    posts = [r for r in venue.faults.requests if r.url.path == "/order"]
    assert len(posts) == 3 and len({r.content for r in posts}) == 1  # the same signed order
    venue.faults.assert_all_fired()


async def test_425_beyond_the_budget_is_a_clear_not_accepted_error(
    make_venue: Any, sleeps: list[float]
) -> None:
    faults = [f.respond("POST", "/order", 425, json=TOO_EARLY, times=None)]
    venue = make_venue(faults=faults, too_early_budget=20)
    try:
        prepared = await venue.prepare_order(order("too-early-long"))
        with pytest.raises(MatchingEngineRestarting) as caught:
            await venue.create_order(prepared)
    finally:
        await venue.aclose()
    assert not isinstance(caught.value, errors.AmbiguousSubmission)
    assert "not accepted" in str(caught.value) and "425" in str(caught.value)
    waits = too_early_waits(20)
    assert venue.faults.calls["POST /order"] == len(waits) + 1
    assert sleeps == waits and sum(sleeps) <= 20


async def test_cancel_all_answered_425_is_sent_again(make_venue: Any) -> None:
    venue = make_venue(faults=[f.respond("DELETE", "/cancel-all", 425, json=TOO_EARLY)])
    try:
        prepared = await venue.prepare_order(order("cancel-later"))
        await venue.create_order(prepared)
        assert await venue.cancel_all_orders() == 1
    finally:
        await venue.aclose()
    assert venue.faults.calls["DELETE /cancel-all"] == 2
    venue.faults.assert_all_fired()


async def test_read_answered_425_is_sent_again_past_the_read_retries(make_venue: Any) -> None:
    venue = make_venue(faults=[f.respond("GET", "/book", 425, json=TOO_EARLY, times=4)],
                       read_retries=1)
    try:
        book = await venue.fetch_order_book(CONDITION_ID)
    finally:
        await venue.aclose()
    assert book.asks and venue.faults.calls["GET /book"] == 5


# ---------------------------------------------------------------------------- batches


def _reverse_and_refuse_second(content: bytes) -> bytes:
    answers = json.loads(content)
    answers[1] = {**answers[1], "success": False, "status": "",
                  "errorMsg": "not enough balance / allowance"}
    return json.dumps(list(reversed(answers))).encode()


async def test_batch_answers_are_matched_by_order_hash_not_position(make_venue: Any) -> None:
    venue = make_venue(faults=[f.mangle("POST", "/orders", transform=_reverse_and_refuse_second)])
    try:
        prepared = [await venue.prepare_order(order(f"rev-{i}", limit_price=Decimal(30 + i) / 100))
                    for i in range(2)]
        results = await venue.create_orders(prepared)
    finally:
        await venue.aclose()
    first, second = results
    assert isinstance(first, errors.ExchangeError) is False
    assert first.status is OrderStatus.OPEN  # type: ignore[union-attr]
    assert first.venue_order_id == prepared[0].identity  # type: ignore[union-attr]
    assert isinstance(second, errors.InsufficientFunds)


async def test_batch_order_without_its_own_answer_is_unknown(make_venue: Any) -> None:
    def drop_ids(content: bytes) -> bytes:
        return json.dumps([{**a, "orderID": ""} for a in json.loads(content)]).encode()

    venue = make_venue(faults=[f.mangle("POST", "/orders", transform=drop_ids)])
    try:
        prepared = [await venue.prepare_order(order(f"anon-{i}", limit_price=Decimal(30 + i) / 100))
                    for i in range(2)]
        results = await venue.create_orders(prepared)
        found = await venue.lookup_order(prepared[0].identity)
    finally:
        await venue.aclose()
    assert all(isinstance(r, errors.AmbiguousSubmission) for r in results)
    assert found is not None and found.status is OrderStatus.OPEN  # the venue had it


# ---------------------------------------------------------------------------- duplicates


async def test_duplicated_order_is_looked_up_and_adopted(make_venue: Any) -> None:
    duplicated = {"success": False, "errorMsg": "INVALID_ORDER_DUPLICATED", "orderID": "",
                  "status": ""}
    venue = make_venue(faults=[f.respond("POST", "/order", 200, json=duplicated, times=1,
                                         when=lambda r: b'"postOnly":true' in r.content)])
    try:
        prepared = await venue.prepare_order(order("dup"))
        first = await venue.create_order(prepared)
        again = await venue.prepare_order(order("dup", post_only=True))
        assert again.identity == prepared.identity  # post-only is not signed
        adopted = await venue.create_order(again)
    finally:
        await venue.aclose()
    assert adopted.status is OrderStatus.OPEN
    assert adopted.venue_order_id == first.venue_order_id == prepared.identity
    venue.faults.assert_all_fired()


# ---------------------------------------------------------------------------- ambiguous answers


AMBIGUOUS = {
    "no-success": dict(status=200, json={"message": "upstream timeout"}),
    "html-200": dict(status=200, body="<html><body>Bad gateway</body></html>",
                     headers={"content-type": "text/html"}),
    "truncated": dict(status=200, body='{"success":true,"orderID":"0x26', ),
    "no-order-id": dict(status=200, json={"success": True, "status": "live", "errorMsg": ""}),
    "other-order": dict(status=200, json={"success": True, "status": "live", "errorMsg": "",
                                          "orderID": "0x" + "ab" * 32}),
    "html-502": dict(status=502, body="<html>502 Bad Gateway</html>",
                     headers={"content-type": "text/html"}),
    "html-403": dict(status=403, body="<html>Access denied by proxy</html>",
                     headers={"content-type": "text/html"}),
    "unknown-status": dict(status=200, json={"success": True, "status": "pending",
                                             "errorMsg": "", "orderID": "x"}),
}


@pytest.mark.parametrize("case", sorted(AMBIGUOUS))
async def test_an_answer_that_does_not_say_refused_is_unknown(make_venue: Any, case: str) -> None:
    venue = make_venue(faults=[f.mangle("POST", "/order", **AMBIGUOUS[case])])
    try:
        prepared = await venue.prepare_order(order(f"ambiguous-{case}"))
        with pytest.raises(errors.AmbiguousSubmission):
            await venue.create_order(prepared)
        found = await venue.lookup_order(prepared.identity)
    finally:
        await venue.aclose()
    assert found is not None and found.status is OrderStatus.OPEN  # the venue holds it
    venue.faults.assert_all_fired()


# ---------------------------------------------------------------------------- lookups


def _other(field: str, value: Any) -> Any:
    def transform(content: bytes) -> bytes:
        return json.dumps({**json.loads(content), field: value}).encode()

    return transform


@pytest.mark.parametrize(("field", "value"), [
    ("id", "0x" + "cd" * 32), ("side", "SELL"), ("original_size", "11"), ("price", "0.41"),
    ("asset_id", "123"),
])
async def test_a_lookup_answer_for_another_order_is_a_mismatch(
    make_venue: Any, field: str, value: Any
) -> None:
    venue = make_venue(faults=[f.mangle("GET", "/data/order/*", transform=_other(field, value))])
    try:
        prepared = await venue.prepare_order(order(f"mismatch-{field}"))
        await venue.create_order(prepared)
        with pytest.raises(AnswerMismatch):
            await venue.lookup_order(prepared.identity)
    finally:
        await venue.aclose()


# ---------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize("value", ["3600", "inf", "1e400", "nan", "-5"])
async def test_retry_after_never_makes_a_read_wait_unbounded(
    make_venue: Any, sleeps: list[float], value: str
) -> None:
    venue = make_venue(faults=[f.respond("GET", "/book", 429, json={"error": "Too Many Requests"},
                                         headers={"Retry-After": value})])
    try:
        try:
            await venue.fetch_order_book(CONDITION_ID)
        except errors.RateLimited as exc:
            assert value == "3600" and "max_retry_wait" in str(exc)
    finally:
        await venue.aclose()
    assert all(s <= venue.config.max_retry_wait for s in sleeps)


# ---------------------------------------------------------------------------- secrets


def _forms(value: str) -> list[str]:
    raw = value.encode()
    return [value, raw.hex(), base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode()]


def _echo_request(request: httpx.Request) -> httpx.Response:
    """A proxy error page echoing the request's headers and body, plain and encoded."""
    headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    encoded = " ".join(form for name in ("POLY_API_KEY", "POLY_PASSPHRASE", "POLY_SIGNATURE")
                       for form in _forms(request.headers.get(name, "")))
    text = f"400 Bad Request\n{headers}\n{request.content.decode()}\n{encoded}"
    return httpx.Response(400, json={"error": text})


@pytest.mark.parametrize("route", ["POST /order", "GET /data/orders"], ids=["post", "read"])
async def test_secrets_echoed_back_are_scrubbed_from_errors(
    make_venue: Any, api: Any, route: str
) -> None:
    method, path = route.split()
    venue = make_venue(faults=[f.answer(method, path, _echo_request)])
    try:
        with pytest.raises(errors.ExchangeError) as caught:
            if method == "POST":
                await venue.create_order(await venue.prepare_order(order("echo")))
            else:
                await venue.fetch_open_orders()
    finally:
        await venue.aclose()
    sent = [r for r in venue.faults.requests if r.url.path == path][-1]
    secrets = [api.api_key, api.passphrase, api.secret, sent.headers["POLY_SIGNATURE"]]
    secrets += re.findall(r'"signature":"(0x[0-9a-f]+)"', sent.content.decode())
    shown = f"{caught.value} {caught.value.venue_message}"
    leaked = [form for secret in secrets for form in _forms(secret) if form.lower() in
              shown.lower()]
    assert leaked == [] and "[redacted]" in shown


# ---------------------------------------------------------------------------- GTD


async def test_gtd_expiry_is_sent_with_the_venues_minute_added(make_venue: Any) -> None:
    venue = make_venue()
    try:
        expires = datetime.fromtimestamp(CLOCK + 90, UTC)
        prepared = await venue.prepare_order(
            order("gtd", time_in_force=TimeInForce.GTD, expires_at=expires))
        for lead in (2, -30):
            soon = datetime.fromtimestamp(CLOCK + lead, UTC)
            with pytest.raises(errors.InvalidOrder, match="at least 5 s ahead"):
                await venue.prepare_order(
                    order(f"gtd-{lead}", time_in_force=TimeInForce.GTD, expires_at=soon))
    finally:
        await venue.aclose()
    body = json.loads(prepared.payload.body)
    assert body["order"]["expiration"] == str(int(CLOCK) + 90 + 60)
    assert body["orderType"] == "GTD"
    assert expires - datetime.fromtimestamp(CLOCK, UTC) == timedelta(seconds=90)


# ---------------------------------------------------------------------------- replay checks


async def test_a_zeroed_order_signature_fails_on_replay(
    make_venue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Signer, "sign", lambda self, digest: b"\x00" * 64 + b"\x1b")
    venue = make_venue()
    try:
        prepared = await venue.prepare_order(order("zeroed"))
        with pytest.raises(AssertionError, match="order signature does not recover"):
            await venue.create_order(prepared)
    finally:
        await venue.aclose()


async def test_a_wrong_poly_signature_fails_on_replay(
    make_venue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = auth.L2Signer.headers

    def wrong(self: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
        headers = real(self, *args, **kwargs)
        return {**headers, "POLY_SIGNATURE": headers["POLY_SIGNATURE"][::-1]}

    monkeypatch.setattr(auth.L2Signer, "headers", wrong)
    venue = make_venue()
    try:
        with pytest.raises(AssertionError, match="POLY_SIGNATURE does not verify"):
            await venue.fetch_open_orders()
    finally:
        await venue.aclose()
