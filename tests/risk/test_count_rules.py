"""Open-order caps and order rates: counts the engine keeps, compared to limits."""

import pytest

from arbexec.risk.base import VenueHealth
from arbexec.risk.rules import MaxOpenOrders, OrderRate, ParameterError


@pytest.mark.parametrize(("open_now", "allowed"), [(3, True), (4, False), (5, False)])
def test_open_orders_per_market(req, ctx, open_now, allowed):
    verdict = MaxOpenOrders.from_params({"per_market": 4}).check(
        req(), ctx(open_orders_market=open_now)
    )
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "open_orders_market"
        assert verdict.figures == {"limit": "4", "actual": str(open_now + 1)}


@pytest.mark.parametrize(("open_now", "allowed"), [(19, True), (20, False), (21, False)])
def test_open_orders_total(req, ctx, open_now, allowed):
    verdict = MaxOpenOrders.from_params({"per_market": 5, "total": 20}).check(
        req(), ctx(open_orders_total=open_now)
    )
    assert verdict.allowed is allowed
    assert verdict.code == (None if allowed else "open_orders_total")


@pytest.mark.parametrize(("sent", "allowed"), [(9, True), (10, False), (11, False)])
def test_rate_per_second(req, ctx, sent, allowed):
    verdict = OrderRate.from_params({"per_second": 10}).check(
        req(), ctx(health=VenueHealth(orders_last_second=sent, orders_last_minute=sent))
    )
    assert verdict.allowed is allowed
    assert verdict.code == (None if allowed else "rate_per_second")


@pytest.mark.parametrize(("sent", "allowed"), [(119, True), (120, False), (121, False)])
def test_rate_per_minute(req, ctx, sent, allowed):
    verdict = OrderRate.from_params({"per_second": 10, "per_minute": 120}).check(
        req(), ctx(health=VenueHealth(orders_last_second=1, orders_last_minute=sent))
    )
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "rate_per_minute"
        assert verdict.figures["limit"] == "120"


def test_counts_must_be_whole_numbers():
    with pytest.raises(ParameterError) as caught:
        OrderRate.from_params({"per_second": 2.5})
    assert caught.value.parameter == "per_second"
    assert OrderRate.from_params({"per_second": "3"}).params.per_second == 3
