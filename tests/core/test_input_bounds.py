"""Every input field has a bound, and every bad value is one line naming its field.

One reproduction per class of the hardening issue, and the siblings of each: lines that
nest too deep, numbers too large or too precise for their field, timestamps that are no
time at all, duplicate keys, Unicode digits, strings no journal can store, venue names that
climb out of the state folder, config numbers that would make a wait infinite.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from arbexec.cli import cli
from arbexec.config import load_deployment
from arbexec.errors import ConfigError
from arbexec.model import RequestError
from arbexec.risk.policy import load_policy_file
from arbexec.risk.rules import builtin_specs
from arbexec.sources.jsonl import pair_from_mapping, parse_line
from arbexec.sources.parse import request_from_mapping

BASE = ('"request_id": "r1", "venue": "paper", "market": "PAPER-FED-CUT", "outcome": "YES", '
        '"side": "BUY"')
FIELDS = {"request_id": '"r1"', "venue": '"paper"', "market": '"PAPER-FED-CUT"',
          "outcome": '"YES"', "side": '"BUY"', "quantity": '"5"', "limit_price": '"0.30"'}


def line(**fields: str) -> str:
    """A request line: a good request with each given field replaced (or added) as raw JSON
    text."""
    values = {**FIELDS, **fields}
    return "{" + ", ".join(f'"{k}": {v}' for k, v in values.items()) + "}"


def refused(text: str) -> tuple[str, str]:
    item = parse_line(text, "requests.jsonl:3", pair_from_mapping)
    assert item.request is None, item.request
    assert item.error and item.error_field
    assert "\n" not in item.error
    return item.error_field, item.error


# ---------------------------------------------------------------------------- item 4


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("[" * 50_000 + "]" * 50_000, "request", "characters long"),
        (line(tags='{"a":' * 2000 + "1" + "}" * 2000), "request", "nested deeper than 16"),
        ('{"a":' * 30 + "1" + "}" * 30, "request", "nested deeper than 16"),
        (line(wait_budget="9" * 400), "wait_budget", "between 0 and 86400"),
        (line(wait_budget="1e400"), "wait_budget", "between 0 and 86400"),
        (line(wait_budget="-1"), "wait_budget", "between 0 and 86400"),
        (line(wait_budget='"5"'), "wait_budget", "a number of seconds"),
        (line(time_in_force='"GTD"', expires_at="1e400"), "expires_at", "not unix seconds"),
        (line(time_in_force='"GTD"', expires_at="9" * 400), "expires_at", "not unix seconds"),
        (line(time_in_force='"GTD"', expires_at="Infinity"), "request", "Infinity"),
        (line(time_in_force='"GTD"', expires_at='"9999-12-31T23:59:59Z"'), "expires_at",
         "outside 2000 to 2099"),
        (line(requested_at="1e300"), "requested_at", "not unix seconds"),
        (line(requested_at="1764000000000000000"), "requested_at", "looks like nanoseconds"),
        (line(requested_at="1764000000000"), "requested_at", "looks like milliseconds"),
        (line(requested_at="-1"), "requested_at", "not unix seconds"),
        (line(requested_at='"0001-01-01T00:00:00Z"'), "requested_at", "leave it out"),
        (line(requested_at='"2026-11-22T12:00:00"'), "requested_at", "timezone"),
        (line(limit_price="0.3000000000000000000000000000000000000001"), "limit_price",
         "more than 18 decimal places"),
        (line(limit_price="NaN"), "request", "NaN"),
        (line(limit_price="1e-999999"), "limit_price", "more than 18 decimal places"),
        (line(limit_price="1e-9999999"), "limit_price", "more than 18 decimal places"),
        (line(quantity="1e400"), "quantity", "not a plausible order"),
        (line(quantity='"1e99999999"'), "quantity", "not a number"),
        (line(quantity='"' + "1" * 200 + '"'), "quantity", "not plausible"),
        (line(reference_price="0.3000000000000000000001"), "reference_price", "decimal places"),
        (line(expected_value='"7"'), "expected_value", "outside [0, 1]"),
        ('{' + BASE + ', "quantity": "5", "limit_price": 0.01, "limit_price": 0.99}',
         "limit_price", "appears more than once"),
        (line(tags='{"s": 1, "s": 2}'), "s", "appears more than once"),
        (line(limit_price='"\u0660.\u0665"'), "limit_price", "ASCII digits"),
        (line(quantity='"\uff15"'), "quantity", "ASCII digits"),
        (line(quantity='"1_000"'), "quantity", "not a number"),
        (line(quantity='"Infinity"'), "quantity", "not a number"),
        (line(requested_at='"\uff12\uff10\uff12\uff16-11-22T12:00:00Z"'), "requested_at",
         "not an ISO-8601"),
        (line(tags='{"a": ' + "[" * 6 + "]" * 6 + "}"), "tags.a[0][0][0][0]", "deeper than 4"),
        (line(tags='{"a": 1e400}'), "tags.a", "not a plausible number"),
        (line(tags='{"a": "' + "x" * 2000 + '"}'), "tags.a", "limit is 1024"),
        (line(outcome="7"), "outcome", "not one of YES, NO"),
        (line(post_only='"yes"'), "post_only", "true or false"),
        (line(market="12"), "market", "must be a string"),
    ],
)
def test_each_hostile_line_is_refused_with_its_field(text: str, field: str, words: str) -> None:
    got_field, message = refused(text)
    assert (got_field, words in message) == (field, True), message


def test_numbers_are_read_from_their_literal_not_through_float() -> None:
    """An 18-decimal quantity stays what it was (the venue then judges it against its
    grid); a float would have made it 1 and sent it."""
    item = parse_line(line(quantity="1.000000000000000001", limit_price="0.3"), "f:1")
    assert item.request is not None
    assert item.request.quantity == Decimal("1.000000000000000001")
    assert str(item.request.limit_price) == "0.3"
    exponent = parse_line(line(quantity="1e2"), "f:1").request
    assert exponent is not None and str(exponent.quantity) == "100"


def test_a_very_long_line_is_refused_without_reading_it_as_json() -> None:
    field, message = refused(line(tags='{"a": "' + "x" * 70_000 + '"}'))
    assert field == "request" and "limit is 65536" in message


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = line(tags='{"note": "' + "[{" * 40 + '\\" ]] {{ \\\\"}')
    item = parse_line(text, "f:1")
    assert item.request is not None, item.error
    escaped = line(tags='{"note": "a\\" ' + "[" * 30 + '", "other": "b\\\\"}')
    item = parse_line(escaped, "f:1")
    assert item.request is not None, item.error
    assert item.request.tags == {"note": 'a" ' + "[" * 30, "other": "b\\"}


# ---------------------------------------------------------------------------- item 3


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"request_id": "\\ud800", "venue": "paper", "market": "M", "outcome": "YES", '
         '"side": "BUY", "quantity": "5", "limit_price": "0.30"}', "request_id"),
        (line(idempotency_key='"k\\udfff"'), "idempotency_key"),
        (line(market='"M\\ud83d"'), "market"),
        (line(tags='{"note": "\\udc80"}'), "tags.note"),
        (line(tags='{"\\ud800": "x"}'), "tags.<key>"),
        (line(market='"M\\u0000"'), "market"),
        (line(market='"M\\u001b[2J"'), "market"),
        (line(request_id='"r\\u202e1"'), "request_id"),  # right-to-left override
        (line(request_id='"r\\u200b1"'), "request_id"),  # zero-width space
        (line(tags='{"note": "a\\nb"}'), "tags.note"),
    ],
)
def test_strings_that_cannot_be_journaled_or_shown_are_refused_alone(text: str,
                                                                      field: str) -> None:
    got_field, message = refused(text)
    assert got_field == field, message
    message.encode("utf-8")  # the reason itself can be journaled


def test_the_model_refuses_unstorable_strings_from_any_caller() -> None:
    good = {"request_id": "r", "venue": "paper", "market": "M", "outcome": "YES",
            "side": "BUY", "quantity": "1", "limit_price": "0.5"}
    for name in ("request_id", "venue", "market"):
        with pytest.raises(RequestError) as info:
            request_from_mapping({**good, name: "x\ud800"})
        assert info.value.field == name


# ---------------------------------------------------------------------------- item 12


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [(timedelta(0), True), (timedelta(minutes=-59), True), (timedelta(minutes=4), True),
     (timedelta(hours=-2), False), (timedelta(minutes=6), False),
     (datetime(1, 1, 1, tzinfo=UTC) - NOW, False), (datetime(9999, 1, 1, tzinfo=UTC) - NOW,
                                                     False)],
)
def test_a_client_requested_at_far_from_the_clock_is_refused(offset: timedelta,
                                                              allowed: bool) -> None:
    """The journal, ``orders`` and ``audit --since`` order and filter by ``requested_at``:
    a year-1 time would hide the order from today's views."""
    data = {"request_id": "r", "venue": "paper", "market": "M", "outcome": "YES",
            "side": "BUY", "quantity": "1", "limit_price": "0.5",
            "requested_at": (NOW + offset).isoformat()}
    if allowed:
        assert request_from_mapping(data, now=NOW).requested_at == NOW + offset
    else:
        with pytest.raises(RequestError) as info:
            request_from_mapping(data, now=NOW)
        assert info.value.field == "requested_at"
        assert "leave it out" in info.value.message


def test_a_pair_line_is_held_to_the_bounds_of_the_orders_it_will_send() -> None:
    legs = ('[{"venue": "a", "market": "M", "outcome": "YES", "limit_price": %s}, '
            '{"venue": "b", "market": "M", "outcome": "NO", "limit_price": "0.4"}]')
    pair = '{"pair": {"pair_id": %s, "quantity": %s, "legs": %s%s}}'
    cases = [
        (pair % ('"p"', "1", legs % "0.40000000000000000000001", ""), "a.limit_price"),
        (pair % ('"p"', "1e400", legs % '"0.4"', ""), "quantity"),
        (pair % ('"p"', "1", legs % '"0.4"', ', "requested_at": "0001-01-01T00:00:00Z"'),
         "requested_at"),
        (pair % ('"p\\ud800"', "1", legs % '"0.4"', ""), "pair.pair_id"),
        (pair % ('"p"', "1", legs % '"0.4"', ', "request_id": "' + "r" * 250 + '"'),
         "request_id"),
        (pair % ('"p"', "1", legs % '"0.4"', ', "min_edge": 1e30'), "min_edge"),
        ('{"pair": {"pair_id": "p"}, "extra": 1}', "extra"),
    ]
    for text, field in cases:
        assert refused(text)[0] == field, text
    ok = parse_line(pair % ('"p"', "1", legs % "0.4", ""), "f:1", pair_from_mapping)
    assert ok.request is not None, ok.error


# ---------------------------------------------------------------------------- config (11, 12)


def write(tmp_path: Path, text: str, name: str = "deploy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[engine]\nwait_budget = nan\n", "engine.wait_budget", "from 0 to 86400"),
        ("[engine]\nwait_budget = inf\n", "engine.wait_budget", "from 0 to 86400"),
        ("[engine]\nwait_budget = 1e300\n", "engine.wait_budget", "from 0 to 86400"),
        ("[engine]\nwait_budget = " + "9" * 400 + "\n", "engine.wait_budget", "400-digit"),
        ("[engine]\nunknown_grace = -inf\n", "engine.unknown_grace", "from 0 to 86400"),
        ("[engine]\npoll_interval = 0\n", "engine.poll_interval", "from 0.001 to 60"),
        ("[engine]\npoll_max_interval = nan\n", "engine.poll_max_interval", "to 3600"),
        ("[engine]\npoll_interval = 5\npoll_max_interval = 1\n", "engine.poll_max_interval",
         "at least engine.poll_interval"),
        ("[engine]\nbreaker_window = 1e12\n", "engine.breaker_window", "to 86400"),
        ("[engine]\nmax_in_flight = 10000000000\n", "engine.max_in_flight", "from 1 to"),
        ("[venues.'../../../escape']\ntype = 'paper'\n", "venues.../../../escape",
         "not a valid venue name"),
        ("[venues.'a/b']\ntype = 'paper'\n", "venues.a/b", "not a valid venue name"),
        ("[venues.'']\ntype = 'paper'\n", "venues.", "not a valid venue name"),
        ('[journal]\npath = "a\\u0000b"\n', "journal.path", "control character"),
        ("[journal]\nstate_dir = 7\n", "journal.state_dir", "must be a file path"),
        ("[risk]\npolicy = ''\n", "risk.policy", "must be a file path"),
        ("[[sinks]]\ntype = 'jsonl'\npath = 3\n", "sinks[0].path", "must be a file path"),
        ("a = " + "[" * 40 + "]" * 40 + "\n", "", "nested deeper than 32"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "", "nested deeper than 32"),
        ("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n", "", "nested deeper than 32"),
    ],
)
def test_config_numbers_names_and_nesting_are_checked(tmp_path: Path, text: str, key: str,
                                                      words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_deployment(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}:{key}" if key else str(path)), message
    assert words in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("options", "key", "words"),
    [
        ("latency_ms = 1e12", "latency_ms", "from 0 to 60000"),
        ("latency_ms = [0, inf]", "latency_ms", "from 0 to 60000"),
        ("latency_ms = nan", "latency_ms", "from 0 to 60000"),
        ("step_seconds = nan", "step_seconds", "[0.0, 3600.0]"),
        ("step_seconds = inf", "step_seconds", "[0.0, 3600.0]"),
        ("flush_interval = 1e300", "flush_interval", "[0.0, 3600.0]"),
        ("reject_rate = nan", "reject_rate", "[0.0, 1.0]"),
        ("max_catchup_steps = 100000000000", "max_catchup_steps", "from 1 to 1000000"),
        ("steps_per_order = 100000000000", "steps_per_order", "from 0 to 1000000"),
        ("cash = '1e400'", "cash", "must be below"),
        ("shadow = {venue = 'kalshi', refresh_seconds = inf}", "shadow.refresh_seconds",
         "[0.0, 3600.0]"),
        ("fees = {model = 'kalshi', taker_rate = '5'}", "fees.taker_rate", "at most 1"),
        ("markets.X = {mid = '0.5', depth = ['1e400']}", "markets.X.depth", "below"),
        ("markets.X = {mid = '0.5', spread_ticks = 100000000000}", "markets.X.spread_ticks",
         "from 1 to 1000"),
    ],
)
def test_paper_numbers_are_range_checked(tmp_path: Path, options: str, key: str,
                                         words: str) -> None:
    path = write(tmp_path, f"[venues.paper]\ntype = 'paper'\n{options}\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "check"])
    assert result.exit_code == 2, result.output
    assert f"venues.paper.{key}" in result.output and words in result.output, result.output
    assert "Traceback" not in result.output


def test_a_venue_name_never_becomes_a_path_outside_the_state_folder(tmp_path: Path) -> None:
    from arbexec_paper.store import state_path

    with pytest.raises(ConfigError, match="not a valid venue name"):
        state_path(tmp_path, "../../../escape")
    assert state_path(tmp_path, "paper-2") == tmp_path / "paper-paper-2.sqlite3"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("rules = " + "[" * 3000 + "]" * 3000 + "\n", "nested deeper than 32"),
        ("[[rules]]\nrule = 'order_size'\nmax_quantity = nan\n", "not a finite number"),
        ("[[rules]]\nrule = 'order_size'\nmax_quantity = inf\n", "not a finite number"),
    ],
)
def test_policy_files_refuse_deep_nesting_and_non_finite_numbers(tmp_path: Path, text: str,
                                                                  words: str) -> None:
    path = write(tmp_path, text, "policy.toml")
    with pytest.raises(ConfigError, match=words):
        load_policy_file(path, builtin_specs())


def test_unreadable_files_are_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "policy.toml"
    binary.write_bytes(b"\xff\xfe[[rules]]")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        load_policy_file(binary, builtin_specs())
    with pytest.raises(ConfigError, match="cannot read the policy file"):
        load_policy_file(tmp_path, builtin_specs())


# ---------------------------------------------------------------------------- end to end


def deployment(tmp_path: Path) -> Path:
    return write(tmp_path, """
[journal]
path = "journal.sqlite3"

[engine]
wait_budget = 0.05

[venues.paper]
type = "paper"
seed = 1
""")


def invoke(tmp_path: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(deployment(tmp_path)), *args], input=input)


def paper_orders(tmp_path: Path) -> int:
    path = tmp_path / "venues" / "paper" / "paper-paper.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM orders").fetchone()[0])


GOOD = ('{{"request_id": "g{n}", "venue": "paper", "market": "PAPER-FED-CUT", '
        '"outcome": "YES", "side": "BUY", "quantity": "1", "limit_price": "0.90", '
        '"time_in_force": "IOC"}}')
HOSTILE = [
    "[" * 50_000,
    '{"a":' * 5000 + "1" + "}" * 5000,
    line(wait_budget="9" * 400),
    line(time_in_force='"GTD"', expires_at="1e400"),
    line(requested_at="1764000000000000000"),
    line(requested_at='"0001-01-01T00:00:00Z"'),
    line(limit_price="0.3000000000000000000000000000000000000001"),
    line(quantity="1.000000000000000001", limit_price="0.90", time_in_force='"IOC"'),
    '{' + BASE + ', "quantity": "1", "limit_price": 0.01, "limit_price": 0.99}',
    line(limit_price='"\u0660.\u0669"'),
    line(request_id='"\\ud800"'),
    line(tags='{"n": "\\ud800"}'),
]


def test_a_run_refuses_each_hostile_line_alone_and_executes_the_rest(tmp_path: Path) -> None:
    lines: list[str] = []
    for n, bad in enumerate(HOSTILE):
        lines += [GOOD.format(n=n), bad]
    lines.append(GOOD.format(n="last"))
    source = write(tmp_path, "\n".join(lines) + "\n", "requests.jsonl")
    result = invoke(tmp_path, "--json", "run", str(source))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    records = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    results = [r for r in records if "status" in r]
    denied = [r for r in results if r["reason_code"] == "invalid_request"]
    filled = [r for r in results if r["status"] == "FILLED"]
    # The 18-decimal quantity is read exactly and refused by the venue's grid, not rounded.
    off_grid = [r for r in results if r["reason_code"] not in ("invalid_request", None)]
    assert len(denied) == len(HOSTILE) - 1, [r["reason"] for r in results]
    assert [r["status"] for r in off_grid] == ["DENIED"]
    assert "1.000000000000000001" in off_grid[0]["reason"]
    assert len(filled) == len(HOSTILE) + 1
    for record in denied:
        assert "\n" not in record["reason"] and record["reason"].startswith(f"{source}:")
    assert paper_orders(tmp_path) == len(filled)


@pytest.mark.parametrize(
    "journal",
    ['path = "requests.jsonl/journal.sqlite3"', 'path = "' + "x" * 300 + '/journal.sqlite3"',
     'path = "journal.sqlite3"\nstate_dir = "/proc/no-such-folder"'],
)
def test_a_state_folder_that_cannot_be_made_is_one_line(tmp_path: Path, journal: str) -> None:
    source = write(tmp_path, GOOD.format(n=1) + "\n", "requests.jsonl")
    config = write(tmp_path, f"[journal]\n{journal}\n[venues.paper]\ntype = 'paper'\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "run", str(source)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.count("\n") == 1 and "venues.paper: cannot keep the venue's state" \
        in result.output, result.output


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("--price", "0.3000000000000000000000001", "more than 18 decimal places"),
     ("--price", "\u0660.\u0665", "ASCII digits"),
     ("--quantity", "1e400", "not a plausible order"),
     ("--market", "M\x1b[2J", "control character"),
     ("--key", "k\ud800", "lone surrogate"),
     ("--expires", "1e400", "not an ISO-8601 timestamp")],
)
def test_order_place_names_the_option_it_refuses(tmp_path: Path, option: str, value: str,
                                                 words: str) -> None:
    args = {"--venue": "paper", "--market": "PAPER-FED-CUT", "--outcome": "YES",
            "--side": "BUY", "--quantity": "1", "--price": "0.90",
            "--tif": "GTD" if option == "--expires" else "IOC", option: value}
    result = invoke(tmp_path, "order", "place", *[x for kv in args.items() for x in kv])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}" in result.output and words in result.output, \
        result.output
    assert paper_orders(tmp_path) == 0


@pytest.mark.parametrize("command", [["risk", "explain", "--file"], ["arb", "--file"]])
@pytest.mark.parametrize("content", ["[" * 100_000, '{"a":' * 900 + "1" + "}" * 900,
                                     '{"pair": {"pair_id": "p", "pair_id": "q"}}'],
                         ids=["long", "deep", "duplicate"])
def test_other_line_readers_refuse_hostile_lines_in_one_line(
    tmp_path: Path, command: list[str], content: str
) -> None:
    source = tmp_path / "lines.jsonl"
    source.write_bytes(content.encode() + b"\n\xff\xfe\n")
    result = invoke(tmp_path, *command, str(source))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith(f"error: {source}:1: ") and result.output.count("\n") == 1


def test_a_line_past_the_bound_is_skipped_unread_and_the_file_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "requests.jsonl"
    with source.open("w") as handle:
        handle.write('{"request_id": "' + "x" * 5_000_000 + '"}\n')
        handle.write(GOOD.format(n=1) + "\n")
    result = invoke(tmp_path, "--json", "run", str(source))
    assert result.exit_code == 0, result.output[:500]
    records = [json.loads(x) for x in result.output.splitlines() if x.startswith('{"request')]
    assert [r["status"] for r in records] == ["DENIED", "FILLED"]
    assert records[0]["reason"].startswith(f"{source}:1: request: the line is longer than")


async def test_stdin_holds_at_most_one_bounded_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import threading

    from arbexec.sources import jsonl

    read_end, write_end = os.pipe()

    class Stdin:
        def fileno(self) -> int:
            return read_end

    def feed() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(b'{"request_id": "' + b"x" * 3_000_000 + b'"}\n')
            pipe.write(b'{"next": 1}\n')

    monkeypatch.setattr(jsonl.sys, "stdin", Stdin())
    threading.Thread(target=feed, daemon=True).start()
    queue = jsonl._stdin_lines()
    lines = []
    while (line := await queue.get()) is not None:
        lines.append(line)
    os.close(read_end)
    assert lines == [jsonl.OVERLONG, '{"next": 1}\n']
