"""A pair's leg keys (``<pair_id>:a``, ``:b``, ``:unwind-<n>``) cannot be forged by a
single request: request lines may not use them, and a pair never adopts an order under its
leg key that it did not send itself."""

from __future__ import annotations

import pytest

from arbexec.arbitrage import PairExecutor, PairState
from arbexec.engine import Engine
from arbexec.model import OrderRequest, OrderStatus, RequestError
from arbexec.sources.parse import request_from_mapping

LINE = {"venue": "paper-a", "market": "M", "outcome": "YES", "side": "BUY",
        "quantity": "10", "limit_price": "0.41"}


@pytest.mark.parametrize("key", ["P1:a", "P1:b", "P1:unwind-1", "x:y:unwind-12"])
@pytest.mark.parametrize("field", ["idempotency_key", "request_id"])
def test_a_request_line_cannot_take_a_pair_legs_key(key: str, field: str) -> None:
    with pytest.raises(RequestError) as refused:
        request_from_mapping({**LINE, field: key})
    assert refused.value.field == "idempotency_key"
    assert "reserved for the orders of pair" in refused.value.message


@pytest.mark.parametrize("key", ["P1:c", "P1:a2", "a", "P1-a", "P1:unwind-x", "2026:b:c"])
def test_other_keys_with_colons_are_fine(key: str) -> None:
    assert request_from_mapping({**LINE, "idempotency_key": key}).idempotency_key == key


async def test_a_pair_does_not_adopt_a_single_order_under_its_leg_key(
        engine: Engine, executor: PairExecutor, make_pair, venue_a) -> None:
    single = OrderRequest(request_id="single", idempotency_key="arb-1:a", venue="paper-a",
                          market="M", outcome="YES", side="BUY", quantity=10,
                          limit_price="0.41")
    assert (await engine.submit(single)).status is OrderStatus.FILLED
    result = await executor.execute(make_pair(pair_id="arb-1", quantity=10))
    assert result.state is PairState.DENIED
    assert result.reason_code == "leg_key_taken"
    assert "arb-1:a" in (result.reason or "")
    assert engine.journal.get("arb-1:b") is None  # nothing sent for the other leg
    assert [p.quantity for p in await venue_a.fetch_positions()] == [10]  # the single only
