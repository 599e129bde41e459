"""Loading policies from config: every mistake names the file, the key and what is valid."""

from decimal import Decimal
from pathlib import Path

import pytest

from arbexec.errors import ConfigError
from arbexec.risk.base import Verdict
from arbexec.risk.policy import load_policy, load_policy_file
from arbexec.risk.rules import builtin_specs
from arbexec.specs import RiskRuleSpec

EXAMPLES = Path(__file__).parents[2] / "examples" / "policies"
SPECS = builtin_specs()


def load(tables, **kw):
    return load_policy(tables, available=kw.pop("available", SPECS), source="deploy.toml", **kw)


def test_tables_become_rules_in_order_with_the_kill_switch_first():
    policy = load([
        {"rule": "order_size", "max_notional": "250.50"},
        {"rule": "max_exposure", "max_total": 1000},
    ])
    assert policy.names == ("kill_switch", "order_size", "max_exposure")
    assert policy.rules[1].params.max_notional == Decimal("250.50")
    assert policy.entries[1].params == {"max_notional": "250.50"}
    assert policy.source == "deploy.toml"


def test_a_listed_kill_switch_stays_where_it_is():
    policy = load([{"rule": "order_size", "max_quantity": 1}, {"rule": "kill_switch"}])
    assert policy.names == ("order_size", "kill_switch")


def test_an_empty_policy_still_has_the_kill_switch():
    assert load([]).names == ("kill_switch",)


def test_float_money_goes_through_repr():
    policy = load([{"rule": "order_size", "max_notional": 0.1}])
    assert policy.rules[1].params.max_notional == Decimal("0.1")


@pytest.mark.parametrize(
    ("tables", "key", "says"),
    [
        ([{"rule": "order_size", "max_notional": "lots"}], "rules[0].max_notional",
         "'lots' is not a number"),
        ([{"rule": "kill_switch"}, {"rule": "order_size", "max_notionl": 5}],
         "rules[1].max_notionl", "did you mean 'max_notional'"),
        ([{"rule": "max_notional", "limit": 5}], "rules[0].rule",
         "unknown rule 'max_notional'"),
        ([{"max_quantity": 5}], "rules[0].rule", "available rules:"),
        (["order_size"], "rules[0]", "each rule is a table"),
        ([{"rule": "order_size"}], "rules[0]", "set at least one of"),
        ([{"rule": "order_size", "min_quantity": 9, "max_quantity": 3}],
         "rules[0].min_quantity", "greater than max_quantity"),
        ([{"rule": "trading_window", "timezone": "Nowhere/Land"}], "rules[0].timezone",
         "unknown timezone"),
        ([{"rule": "circuit_breaker", "consecutive_failures": 0}],
         "rules[0].consecutive_failures", "greater than zero"),
    ],
)
def test_errors_name_file_key_and_what_is_valid(tables, key, says):
    with pytest.raises(ConfigError) as caught:
        load(tables)
    assert caught.value.source == "deploy.toml"
    assert caught.value.key == key
    assert says in str(caught.value)
    assert str(caught.value).startswith(f"deploy.toml:{key}: ")


def test_unknown_rules_list_what_is_available():
    with pytest.raises(ConfigError) as caught:
        load([{"rule": "strategy_budget"}])
    message = str(caught.value)
    assert "max_exposure" in message and "circuit_breaker" in message
    assert "arbexec plugins" in message


def test_the_prefix_follows_the_deployment_file():
    with pytest.raises(ConfigError) as caught:
        load([{"rule": "order_size", "max_quantity": -1}], prefix="risk.rules")
    assert caught.value.key == "risk.rules[0].max_quantity"


def test_not_an_array_of_tables():
    with pytest.raises(ConfigError, match="array of tables"):
        load({"rule": "order_size"})


class _Flat:
    name = "flat"
    needs = frozenset()

    def __init__(self, params):
        if "limit" in params and params["limit"] < 0:
            raise ValueError("limit: must not be negative")
        if params.get("mode") == "bad":
            raise ValueError("mode is wrong somehow")

    def check(self, request, ctx):
        return Verdict.allow(self.name)


def test_plugin_rules_are_checked_against_their_documented_parameters():
    spec = RiskRuleSpec(name="flat", factory=_Flat, parameters={"limit": "x", "mode": "y"})
    available = {**SPECS, "flat": spec}
    assert load([{"rule": "flat", "limit": 1}], available=available).names[-1] == "flat"
    with pytest.raises(ConfigError) as caught:
        load([{"rule": "flat", "limt": 1}], available=available)
    assert caught.value.key == "rules[0].limt"
    with pytest.raises(ConfigError) as caught:
        load([{"rule": "flat", "limit": -1}], available=available)
    assert caught.value.key == "rules[0].limit"
    with pytest.raises(ConfigError) as caught:
        load([{"rule": "flat", "mode": "bad"}], available=available)
    assert caught.value.key == "rules[0]" and "mode is wrong" in str(caught.value)


def test_policy_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('[[rules]]\nrule = "order_size"\nmax_quantity = 10\n', encoding="utf-8")
    policy = load_policy_file(path, SPECS)
    assert policy.names == ("kill_switch", "order_size")
    assert policy.source == str(path)


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        ('[[rule]]\nrule = "order_size"\n', "rule", "unknown key 'rule'"),
        ("description = 'nothing'\n", "rules", "no [[rules]] tables"),
        ('[[rules]]\nrule = "order_size"\nmax_quantity = \n', None, "not valid TOML"),
        ('[[rules]]\nrule = "order_size"\nmax_quantity = 0\n', "rules[0].max_quantity",
         "greater than zero"),
    ],
)
def test_policy_file_errors(tmp_path, text, key, says):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_policy_file(path, SPECS)
    assert caught.value.source == str(path)
    assert caught.value.key == key
    assert says in str(caught.value)


def test_missing_policy_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the policy file"):
        load_policy_file(tmp_path / "nope.toml", SPECS)


@pytest.mark.parametrize("name", ["conservative.toml", "permissive.toml"])
def test_example_policies_load(name):
    policy = load_policy_file(EXAMPLES / name, SPECS)
    assert policy.names[0] == "kill_switch"
    assert len(policy) >= 5


def test_the_conservative_example_uses_every_builtin_rule():
    policy = load_policy_file(EXAMPLES / "conservative.toml", SPECS)
    assert set(policy.names) == set(SPECS)
