"""MAX_TRADE_SIZE, MAX_SLIPPAGE_PERCENT and MAX_USER_EXPOSURE from earlier deployments."""

from decimal import Decimal

import pytest

from arbexec.errors import ConfigError
from arbexec.risk.policy import LEGACY_ENV, Policy, apply_legacy_env, load_policy
from arbexec.risk.rules import OrderSize, builtin_specs

SPECS = builtin_specs()


def load(tables):
    return load_policy(tables, available=SPECS, source="deploy.toml")


ENV = {"MAX_TRADE_SIZE": "50", "MAX_SLIPPAGE_PERCENT": "2.5", "MAX_USER_EXPOSURE": "1000"}


def test_each_variable_adds_its_rule_when_the_policy_has_none(req, ctx):
    policy = apply_legacy_env(load([]), ENV)
    assert policy.names == ("kill_switch", "order_size", "max_slippage", "max_exposure")
    assert policy.rules[1].params.max_quantity == Decimal(50)
    assert policy.rules[2].params.max_percent == Decimal("2.5")
    assert policy.rules[3].params.max_total == Decimal(1000)
    assert policy.evaluate(req(quantity="51"), ctx()).code == "quantity_above_max"
    assert policy.evaluate(
        req(limit_price="0.52", reference_price="0.50"), ctx()
    ).code == "slippage_reference"
    assert policy.evaluate(req(), ctx(exposure={"total": Decimal(996)})).code == "exposure_total"


def test_a_variable_fills_in_a_parameter_the_policy_left_unset():
    policy = apply_legacy_env(load([{"rule": "order_size", "max_notional": 100}]),
                              {"MAX_TRADE_SIZE": "20"})
    assert policy.names == ("kill_switch", "order_size")
    params = policy.rules[1].params
    assert (params.max_quantity, params.max_notional) == (Decimal(20), Decimal(100))


def test_the_policy_wins_over_the_environment():
    original = load([{"rule": "order_size", "max_quantity": 5}])
    policy = apply_legacy_env(original, {"MAX_TRADE_SIZE": "500"})
    assert policy is original
    assert policy.rules[1].params.max_quantity == Decimal(5)


def test_nothing_set_changes_nothing():
    original = load([])
    assert apply_legacy_env(original, {"MAX_TRADE_SIZE": "  ", "PATH": "/bin"}) is original


def test_a_rule_built_in_code_is_not_rebuilt_but_joined():
    policy = apply_legacy_env(Policy([OrderSize.from_params({"max_notional": 5})]),
                              {"MAX_TRADE_SIZE": "7"}, available=SPECS)
    assert policy.names == ("order_size", "order_size")
    assert policy.rules[1].params.max_quantity == Decimal(7)


def test_a_rule_built_in_code_that_sets_the_parameter_wins():
    original = Policy([OrderSize.from_params({"max_quantity": 3})])
    assert apply_legacy_env(original, {"MAX_TRADE_SIZE": "7"}) is original


@pytest.mark.parametrize(
    ("env", "says"),
    [("MAX_TRADE_SIZE", "not a number"), ("MAX_USER_EXPOSURE", "not a number")],
)
def test_malformed_values_name_the_variable(env, says):
    with pytest.raises(ConfigError) as caught:
        apply_legacy_env(load([]), {env: "ten"})
    assert caught.value.source == "environment" and caught.value.key == env
    assert says in str(caught.value)


def test_a_negative_value_is_refused():
    with pytest.raises(ConfigError, match="MAX_SLIPPAGE_PERCENT"):
        apply_legacy_env(load([]), {"MAX_SLIPPAGE_PERCENT": "-1"})


def test_the_three_names_are_mapped():
    assert {s.env: (s.rule, s.parameter) for s in LEGACY_ENV} == {
        "MAX_TRADE_SIZE": ("order_size", "max_quantity"),
        "MAX_SLIPPAGE_PERCENT": ("max_slippage", "max_percent"),
        "MAX_USER_EXPOSURE": ("max_exposure", "max_total"),
    }
