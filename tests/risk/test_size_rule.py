from decimal import Decimal

import pytest

from arbexec.risk.rules import OrderSize, ParameterError


def rule(**params):
    return OrderSize.from_params(params)


@pytest.mark.parametrize(
    ("quantity", "allowed"), [("99", True), ("100", True), ("101", False)]
)
def test_max_quantity_below_at_above(req, ctx, quantity, allowed):
    verdict = rule(max_quantity=100).check(req(quantity=quantity), ctx())
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "quantity_above_max"
        assert verdict.figures == {"limit": "100", "actual": "101"}
        assert "101" in verdict.message and "100" in verdict.message


@pytest.mark.parametrize(("quantity", "allowed"), [("4", False), ("5", True), ("6", True)])
def test_min_quantity_below_at_above(req, ctx, quantity, allowed):
    verdict = rule(min_quantity="5").check(req(quantity=quantity), ctx())
    assert verdict.allowed is allowed
    assert verdict.code == (None if allowed else "quantity_below_min")


@pytest.mark.parametrize(
    ("price", "allowed"), [("0.49", True), ("0.50", True), ("0.51", False)]
)
def test_max_notional_below_at_above(req, ctx, price, allowed):
    # 100 contracts x price against a limit of 50 dollars
    verdict = rule(max_notional=50).check(req(quantity="100", limit_price=price), ctx())
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "notional_above_max"
        assert verdict.figures["actual"] == "51.00"
        assert verdict.figures["limit"] == "50"


@pytest.mark.parametrize(("price", "allowed"), [("0.09", False), ("0.10", True), ("0.11", True)])
def test_min_notional_below_at_above(req, ctx, price, allowed):
    verdict = rule(min_notional="1").check(req(quantity="10", limit_price=price), ctx())
    assert verdict.allowed is allowed
    assert verdict.code == (None if allowed else "notional_below_min")


def test_money_parameters_are_exact_decimals():
    assert rule(max_notional=0.1).params.max_notional == Decimal("0.1")
    assert rule(max_notional="12.345").params.max_notional == Decimal("12.345")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, None),
        ({"max_quantity": 0}, "max_quantity"),
        ({"max_quantity": "lots"}, "max_quantity"),
        ({"max_quantity": True}, "max_quantity"),
        ({"min_quantity": 10, "max_quantity": 5}, "min_quantity"),
        ({"max_quantiy": 5}, "max_quantiy"),
    ],
)
def test_bad_parameters_name_the_parameter(params, parameter):
    with pytest.raises(ParameterError) as caught:
        rule(**params)
    assert caught.value.parameter == parameter


def test_misspelt_parameter_suggests_the_right_one():
    with pytest.raises(ParameterError, match="did you mean 'max_quantity'"):
        rule(max_quantiy=5)
