"""The parameter helpers rule authors build on."""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from datetime import time, timedelta
from decimal import Decimal

import pytest
from attrs import frozen

from arbexec.risk.rules.params import (
    ParameterError,
    count,
    describe_params,
    flag,
    money,
    names,
    parse_params,
    seconds,
    time_of_day,
    weekdays,
    zone,
)


@frozen(kw_only=True)
class Example:
    amount: Decimal | None = money("an amount")
    n: int | None = count("a count")
    on: bool = flag("a switch", False)
    wait: timedelta = seconds("a wait", 5.0)
    who: frozenset[str] | None = names("some names")
    at: time = time_of_day("a time", time(9))
    days: frozenset[int] = weekdays("some days")
    tz: object = zone("a zone")


def test_values_are_converted():
    params = parse_params(Example, {
        "amount": "1.10", "n": "3", "on": "true", "wait": 0.5, "who": ["a", " b "],
        "at": "23:59", "days": ["sat", "Sunday"], "tz": "Europe/London",
    })
    assert params.amount == Decimal("1.10") and params.n == 3 and params.on is True
    assert params.wait == timedelta(milliseconds=500)
    assert params.who == {"a", "b"} and params.at == time(23, 59)
    assert params.days == {5, 6} and str(params.tz) == "Europe/London"


@pytest.mark.parametrize(
    ("key", "value"),
    [("amount", -1), ("amount", float("nan")), ("n", 1.5), ("on", 1), ("wait", -1),
     ("who", [""]), ("at", "24:00"), ("days", ["someday"]), ("tz", 5)],
)
def test_bad_values_name_their_parameter(key, value):
    with pytest.raises(ParameterError) as caught:
        parse_params(Example, {key: value})
    assert caught.value.parameter == key


def test_help_texts_describe_the_parameters():
    assert describe_params(Example)["amount"] == "an amount"
    assert list(describe_params(Example)) == ["amount", "n", "on", "wait", "who", "at", "days",
                                              "tz"]
