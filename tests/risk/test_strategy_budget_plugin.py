"""The example third-party rule, imported from its source tree (not installed here)."""

import sys
from decimal import Decimal
from pathlib import Path

import pluggy
import pytest

from arbexec import hookspecs
from arbexec.errors import ConfigError
from arbexec.risk.policy import load_policy
from arbexec.risk.rules import builtin_specs

PACKAGE = Path(__file__).parents[2] / "examples" / "arbexec-strategy-budget"
sys.path.insert(0, str(PACKAGE))

from arbexec_strategy_budget import plugin  # noqa: E402
from arbexec_strategy_budget.rule import StrategyBudget  # noqa: E402


def rule(**params):
    return StrategyBudget.from_params({"budgets": {"momentum": "100"}, **params})


@pytest.mark.parametrize(("held", "allowed"), [("94", True), ("95", True), ("95.01", False)])
def test_budget_below_at_above(req, ctx, held, allowed):
    request = req(tags={"strategy": "momentum"})  # risks 10 x 0.50 = 5
    verdict = rule().check(request, ctx(exposure={"strategy:momentum": Decimal(held)}))
    assert verdict.allowed is allowed
    if allowed:
        (claim,) = verdict.claims
        assert (claim.key, claim.amount, claim.limit) == (
            "strategy:momentum", Decimal("5.00"), Decimal(100))
    else:
        assert verdict.code == "strategy_budget_exceeded"
        assert verdict.figures["limit"] == "100" and verdict.figures["actual"] == "100.01"


def test_untagged_and_unknown_strategies(req, ctx):
    assert rule().check(req(), ctx()).code == "strategy_missing"
    assert rule(require_strategy=False).check(req(), ctx()).allowed
    assert rule().check(req(tags={"strategy": "carry"}), ctx()).code == "strategy_unknown"
    fallback = rule(default=20).check(req(tags={"strategy": "carry"}), ctx())
    assert fallback.claims[0].limit == Decimal(20)


def test_sells_need_no_budget(req, ctx):
    assert rule().check(req(side="SELL"), ctx()).allowed


def test_the_hook_offers_the_rule_and_a_policy_can_use_it(req, ctx):
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    pm.check_pending()
    (specs,) = pm.hook.arbexec_risk_rules()
    available = {**builtin_specs(), **{spec.name: spec for spec in specs}}
    policy = load_policy(
        [{"rule": "strategy_budget", "budgets": {"momentum": 8}}],
        available=available, source="policy.toml",
    )
    decision = policy.evaluate(req(tags={"strategy": "momentum"}), ctx())
    assert [c.key for c in decision.claims] == ["strategy:momentum"]
    with pytest.raises(ConfigError) as caught:
        load_policy([{"rule": "strategy_budget", "budgets": {"momentum": "x"}}],
                    available=available, source="policy.toml")
    assert caught.value.key == "rules[0].budgets"
    with pytest.raises(ConfigError) as caught:
        load_policy([{"rule": "strategy_budget", "budget": {"momentum": 1}}],
                    available=available, source="policy.toml")
    assert "did you mean 'budgets'" in str(caught.value)
