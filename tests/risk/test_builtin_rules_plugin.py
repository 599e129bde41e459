"""The built-in rules reach the host through the same hook a plugin uses, and are documented."""

import re
from pathlib import Path

import pluggy

from arbexec import hookspecs
from arbexec.builtin import risk as builtin_risk
from arbexec.risk.base import RiskRule
from arbexec.risk.rules import BUILTIN_RULES

DOCS = Path(__file__).parents[2] / "docs" / "risk-policy.md"


def hooked_specs():
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(builtin_risk)
    pm.check_pending()
    return [spec for batch in pm.hook.arbexec_risk_rules() for spec in batch]


def test_the_hook_offers_every_builtin_rule_once():
    specs = hooked_specs()
    names = [spec.name for spec in specs]
    assert sorted(names) == sorted(cls.name for cls in BUILTIN_RULES)
    assert len(set(names)) == len(names) == 16
    for spec in specs:
        assert spec.description, spec.name
        assert all(spec.parameters.values()), spec.name


def test_each_spec_builds_a_rule_from_valid_parameters():
    minimal = {
        "circuit_breaker": {"consecutive_failures": 3},
        "access_lists": {"deny_venues": ["x"]},
        "market_close": {"min_seconds_before_close": 60},
        "order_size": {"max_quantity": 1},
        "max_slippage": {"max_percent": 1},
        "min_edge": {"min_edge": 0},
        "max_open_orders": {"total": 1},
        "order_rate": {"per_second": 1},
        "daily_loss": {"max_loss": 1},
        "max_exposure": {"max_total": 1},
        "unwind_bound": {"max_unwind_loss": 0},
    }
    for spec in hooked_specs():
        rule = spec.factory(minimal.get(spec.name, {}))
        assert isinstance(rule, RiskRule)
        assert rule.name == spec.name
        assert rule.params is not None  # kept for explain and repr


def test_every_rule_parameter_and_code_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for spec in hooked_specs():
        assert f"`{spec.name}`" in text, spec.name
        for parameter in spec.parameters:
            assert f"`{parameter}`" in text, (spec.name, parameter)
    source = "".join(
        Path(module).read_text(encoding="utf-8")
        for module in (Path(builtin_risk.__file__).parents[1] / "risk" / "rules").glob("*.py")
    )
    codes = set(re.findall(r'deny\(\s*"([a-z_]+)"', source))
    assert len(codes) > 30
    for code in codes:
        assert f"`{code}`" in text, code


def test_a_spec_describes_its_rule_from_the_docstring_summary():
    from arbexec.risk.rules import MaxOpenOrders

    spec = MaxOpenOrders.spec()
    assert spec.description == (
        "Refuses a new order when the open orders per market or in total are at their cap.")
    assert set(spec.parameters) == {"per_market", "total"}
    rule = MaxOpenOrders.from_params({"total": 2})
    assert repr(rule).startswith("<MaxOpenOrders max_open_orders ")
