"""Rule parameters are bounded above as well as below: an absurd but finite value (a
cooldown of thirty years, a limit of a quadrillion dollars) is a typo, never a policy, and
is refused with the parameter's name, like a negative one."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.risk.rules import CircuitBreaker, MaxExposure, MaxOpenOrders
from arbexec.risk.rules.params import ParameterError


@pytest.mark.parametrize("rule, params, name", [
    (CircuitBreaker, {"consecutive_failures": 5, "cooldown_seconds": 1e9}, "cooldown_seconds"),
    (CircuitBreaker, {"consecutive_failures": 5, "window_seconds": 604801}, "window_seconds"),
    (MaxExposure, {"max_total": "1e13"}, "max_total"),
    (MaxOpenOrders, {"total": 10**10}, "total"),
])
def test_absurd_finite_parameters_are_refused(rule, params, name) -> None:
    with pytest.raises((ParameterError, ValueError),
                       match=f"{name}.*(implausibly large|more than a week)"):
        rule.from_params(params)


@pytest.mark.parametrize("rule, params", [
    (CircuitBreaker, {"consecutive_failures": 5, "cooldown_seconds": 604800}),
    (MaxExposure, {"max_total": "999999999999"}),
    (MaxOpenOrders, {"total": 10**9}),
])
def test_the_bounds_themselves_are_accepted(rule, params) -> None:
    rule.from_params(params)


def test_config_check_names_the_file_and_key(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[rules]]\nrule = "circuit_breaker"\nconsecutive_failures = 5\n'
                      'cooldown_seconds = 1e9\n')
    result = CliRunner().invoke(cli, ["config", "check", "--policy", str(policy)])
    assert result.exit_code == 2, result.output
    assert "cooldown_seconds" in result.output and "Traceback" not in result.output
