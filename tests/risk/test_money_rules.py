"""Rules about money: minimum edge after fees, and available balance."""

from decimal import Decimal

import pytest

from arbexec.model import Liquidity, Position
from arbexec.risk.base import Need
from arbexec.risk.rules import AvailableBalance, MinEdge


def fee_of(rate: str):
    calls = []

    def fee(market, price, quantity, liquidity):
        calls.append(liquidity)
        return Decimal(rate) * quantity
    fee.calls = calls
    return fee


@pytest.mark.parametrize(
    ("value", "allowed"), [("0.54", False), ("0.55", True), ("0.56", True)]
)
def test_edge_per_contract_after_fees(req, ctx, value, allowed):
    # buy at 0.50, fee 0.01 per contract, minimum edge 0.04 per contract
    fee = fee_of("0.01")
    verdict = MinEdge.from_params({"min_edge": "0.04"}).check(
        req(expected_value=value), ctx(fee=fee)
    )
    assert verdict.allowed is allowed
    assert fee.calls == [Liquidity.TAKER]
    if not allowed:
        assert verdict.code == "edge_below_min"
        assert verdict.figures["actual"] == "0.0300"
        assert verdict.figures["fees"] == "0.10"


def test_post_only_orders_pay_maker_fees(req, ctx):
    fee = fee_of("0")
    MinEdge.from_params({"min_edge": 0}).check(req(expected_value="0.6", post_only=True),
                                               ctx(fee=fee))
    assert fee.calls == [Liquidity.MAKER]


@pytest.mark.parametrize(("value", "allowed"), [("0.59", False), ("0.60", True), ("0.61", True)])
def test_edge_for_the_whole_order(req, ctx, value, allowed):
    # buy 10 at 0.50 valued at `value`: edge 10 x (value - 0.50) against a minimum of 1
    verdict = MinEdge.from_params({"min_edge_total": "1"}).check(
        req(limit_price="0.50", expected_value=value), ctx()
    )
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.figures == {"limit": "1", "actual": "0.90", "fees": "0"}


@pytest.mark.parametrize(("value", "allowed"), [("0.61", False), ("0.60", True), ("0.59", True)])
def test_a_sell_earns_its_price_above_the_value(req, ctx, value, allowed):
    verdict = MinEdge.from_params({"min_edge_total": "1"}).check(
        req(side="SELL", limit_price="0.70", expected_value=value), ctx()
    )
    assert verdict.allowed is allowed


def test_requests_without_expected_value(req, ctx):
    assert MinEdge.from_params({"min_edge": 0}).check(req(), ctx()).allowed
    strict = MinEdge.from_params({"min_edge": 0, "require_expected_value": True})
    assert strict.check(req(), ctx()).code == "no_expected_value"


@pytest.mark.parametrize(
    ("no_price", "allowed"), [("0.44", True), ("0.45", True), ("0.46", False)]
)
def test_pair_edge_is_locked_in_by_both_prices(req, ctx, no_price, allowed):
    # YES at 0.50 + NO at no_price pays 1; fees 0.01 per contract on each leg; min 0.03
    first = req(venue="kalshi", outcome="YES", limit_price="0.50")
    second = req(venue="polymarket", outcome="NO", limit_price=no_price)
    verdict = MinEdge.from_params({"min_edge": "0.03"}).check_pair(
        first, second, ctx(fee=fee_of("0.01")), ctx(fee=fee_of("0.01"))
    )
    assert verdict.allowed is allowed


def test_pair_must_buy_opposite_outcomes(req, ctx):
    verdict = MinEdge.from_params({"min_edge": 0}).check_pair(req(), req(), ctx(), ctx())
    assert verdict.code == "not_a_pair"


@pytest.mark.parametrize(("available", "allowed"), [("4.99", False), ("5.00", True), ("6", True)])
def test_balance_below_at_above(req, ctx, balance, available, allowed):
    r = AvailableBalance.from_params({"include_fees": False})
    assert r.needs == {Need.BALANCE, Need.POSITIONS}
    verdict = r.check(req(), ctx(balance=balance(total="100", available=available)))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "insufficient_balance"
        assert verdict.figures["actual"] == "5.00"
        assert verdict.figures["free"] == available


def test_resting_orders_hold_cash_the_venue_still_shows_as_available(req, ctx, balance):
    r = AvailableBalance.from_params({})
    held = ctx(balance=balance(total="10", available="10"), reserved_on_venue=Decimal("6"))
    denied = r.check(req(), held)  # needs 5, only 4 free
    assert denied.code == "insufficient_balance"
    assert denied.figures["free"] == "4"
    # when the venue already deducted the resting orders, they are not counted twice
    deducted = ctx(balance=balance(total="11", available="5"), reserved_on_venue=Decimal("6"))
    assert r.check(req(), deducted).allowed


def test_fees_and_reserve_count_against_the_balance(req, ctx, balance):
    r = AvailableBalance.from_params({"reserve": "1"})
    the_ctx = ctx(balance=balance(total="6.10", available="6.10"), fee=fee_of("0.01"))
    assert r.check(req(), the_ctx).allowed  # 5 + 0.10 fee <= 6.10 - 1
    tight = ctx(balance=balance(total="6.09", available="6.09"), fee=fee_of("0.01"))
    assert r.check(req(), tight).code == "insufficient_balance"


def test_sells_of_held_contracts_need_no_cash_and_missing_balance_fails_closed(req, ctx):
    r = AvailableBalance.from_params({})
    held = (Position(venue="paper", market="M1", outcome="YES", quantity="10"),)
    assert r.check(req(side="SELL"), ctx(positions=held)).allowed
    assert r.check(req(), ctx()).code == "balance_unavailable"
