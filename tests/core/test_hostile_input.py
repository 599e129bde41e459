"""Hostile input, property-based: whatever arrives, no traceback, no order, one line.

Targets: request lines and pair lines (the parser, then whole ``run``s against the paper
venue), deployment files and policy files (``config check`` and the policy loader), and
the arguments of ``order place`` and ``run``. Every generated input is bad by construction
(one hostile mutation of a valid template), so the venue must receive nothing.

The default run keeps the example budget small so this file takes a few seconds. For a
long run, multiply every budget::

    ARBEXEC_HOSTILE_SCALE=50 ./dev test tests/core/test_hostile_input.py -q -s

The number of cases each target ran is printed at the end of the module (``-s`` shows
it), and written as JSON to ``$ARBEXEC_HOSTILE_REPORT`` when that is set.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbexec.cli import cli
from arbexec.errors import ConfigError
from arbexec.risk.policy import load_policy_file
from arbexec.risk.rules import builtin_specs
from arbexec.sources.jsonl import pair_from_mapping, parse_line

SCALE = max(1, int(os.environ.get("ARBEXEC_HOSTILE_SCALE", "1")))
COUNTS: Counter[str] = Counter()


def budget(examples: int) -> settings:
    """Hypothesis settings for one target: ``examples`` times the scale, reproducible in
    the default run (derandomized), no example database written to the checkout."""
    return settings(
        max_examples=examples * SCALE, deadline=None, database=None,
        derandomize=SCALE == 1,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                               HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    width = max((len(name) for name in COUNTS), default=0)
    lines = [f"  {name:<{width}}  {count}" for name, count in sorted(COUNTS.items())]
    table = "\n".join(lines)
    if sys.__stdout__ is not None:
        sys.__stdout__.write(f"\nhostile input cases per target (scale {SCALE}):\n{table}\n")
    report = os.environ.get("ARBEXEC_HOSTILE_REPORT")
    if report:
        Path(report).write_text(json.dumps({"scale": SCALE, "cases": dict(COUNTS)},
                                           indent=2) + "\n")


# ---------------------------------------------------------------------------- values

# Characters (as JSON escapes) that make a string unstorable or unsafe to show anywhere.
_HOSTILE_CHARS = ["\\ud800", "\\udfff", "\\u0000", "\\u001b[2J", "\\u202e", "\\u2066",
                  "\\u0007", "\\u2028", "\\n", "\\t", "\\u007f", "\\u0085", "\\ue000"]
# Invisible characters refused in identifiers only (free text may need joiners).
_NAME_ONLY_CHARS = ["\\u200b", "\\u200d", "\\ufeff", "\\u00ad"]
_WORD = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=8)

#: JSON text of a string that no field may hold (each has a hostile character).
HOSTILE_STRING = st.builds(
    lambda a, bad, b: json.dumps(a)[:-1] + bad + json.dumps(b)[1:],
    _WORD, st.sampled_from(_HOSTILE_CHARS), _WORD)
HOSTILE_NAME = st.one_of(HOSTILE_STRING, st.builds(
    lambda a, bad, b: json.dumps(a)[:-1] + bad + json.dumps(b)[1:],
    _WORD, st.sampled_from(_NAME_ONLY_CHARS), _WORD))
LONG_STRING = st.integers(300, 5000).map(lambda n: json.dumps("x" * n))

#: JSON number literals (and number-like text) out of range or precision for any field.
HOSTILE_NUMBER = st.one_of(
    st.integers(20, 400).map(lambda n: "9" * n),
    st.integers(20, 400).map(lambda n: "-" + "9" * n),
    st.integers(19, 60).map(lambda n: "0." + "0" * (n - 1) + "1"),
    st.integers(19, 60).map(lambda n: "0.3" + "0" * (n - 2) + "1"),
    st.sampled_from(["1e400", "-1e400", "1e-400", "1E999", "NaN", "Infinity", "-Infinity",
                     "-0", "0", "-1", "1e12", "1764000000000000000", "0e0"]),
    st.sampled_from(['"\\u0660.\\u0665"', '"\\uff15"', '"1_000"', '"nan"', '"inf"',
                     '"0x10"', '"1e99999"', '" "', '"5 5"', '"\\u00bd"', '"\\u0035\\u0301"']),
)
HOSTILE_NUMBER_OR_TEXT = st.one_of(HOSTILE_NUMBER, HOSTILE_STRING, LONG_STRING,
                                   st.sampled_from(["true", "null", "[]", "{}", '""']))
HOSTILE_TIME = st.one_of(
    HOSTILE_NUMBER,
    st.sampled_from(['"0001-01-01T00:00:00Z"', '"9999-12-31T23:59:59Z"',
                     '"2026-11-22T12:00:00"', '"tomorrow"', '"2026-13-01T00:00:00Z"',
                     '"\\uff12\\uff10\\uff12\\uff16-01-01T00:00:00Z"', '"1969-12-31T23:59:59Z"',
                     '"2026-11-22T12:00:00+25:00"', '"' + "2" * 70 + '"']),
)

REQUEST = {"request_id": '"r1"', "venue": '"paper"', "market": '"PAPER-FED-CUT"',
           "outcome": '"YES"', "side": '"BUY"', "quantity": '"1"', "limit_price": '"0.90"',
           "time_in_force": '"IOC"'}
_HOSTILE_FIELD = {
    "request_id": st.one_of(HOSTILE_NAME, LONG_STRING,
                            HOSTILE_NUMBER.filter(lambda v: not v.startswith('"'))),
    "idempotency_key": st.one_of(HOSTILE_NAME, LONG_STRING, st.just("[]")),
    "venue": st.one_of(HOSTILE_NAME, LONG_STRING, st.just("7")),
    "market": st.one_of(HOSTILE_NAME, LONG_STRING, st.just("{}")),
    "outcome": st.one_of(HOSTILE_STRING, st.sampled_from(['"MAYBE"', "1", '"Y\\u0000"'])),
    "side": st.one_of(HOSTILE_STRING, st.sampled_from(['"HOLD"', "true"])),
    "quantity": HOSTILE_NUMBER_OR_TEXT,
    "limit_price": HOSTILE_NUMBER_OR_TEXT,
    "reference_price": HOSTILE_NUMBER_OR_TEXT.filter(lambda v: v != "null"),
    "expected_value": st.one_of(HOSTILE_NUMBER_OR_TEXT, st.just('"7"')).filter(
        lambda v: v not in ("null", "-0", "0", "0e0")),
    "wait_budget": st.one_of(
        st.integers(20, 400).map(lambda n: "9" * n),
        st.integers(1, 400).map(lambda n: "-" + "9" * n),
        st.sampled_from(["1e400", "-1e-400", "86400.0000001", "NaN", "Infinity", '"5"', "true",
                         "[]", "1764000000000000000"])),
    "requested_at": HOSTILE_TIME,
    "post_only": st.sampled_from(['"yes"', "1", "[]"]),
    "tags": st.one_of(
        HOSTILE_STRING.map(lambda s: '{"note": ' + s + "}"),
        HOSTILE_STRING.map(lambda s: "{" + s + ": 1}"),
        st.integers(6, 40).map(lambda n: '{"a": ' + "[" * n + "]" * n + "}"),
        st.sampled_from(['"strategy"', "[1]", '{"a": 1e400}', '{"a": NaN}']),
    ),
}


def _render(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"


@st.composite
def hostile_request_line(draw: st.DrawFn) -> str:
    """A valid request line with exactly one hostile change."""
    fields = dict(REQUEST)
    kind = draw(st.sampled_from(["field", "field", "field", "duplicate", "unknown", "deep",
                                 "garbage", "gtd"]))
    if kind == "field":
        name = draw(st.sampled_from(sorted(_HOSTILE_FIELD)))
        fields[name] = draw(_HOSTILE_FIELD[name])
    elif kind == "duplicate":
        name = draw(st.sampled_from(sorted(REQUEST)))
        text = _render(fields)
        return text[:-1] + f", {json.dumps(name)}: {REQUEST[name]}}}"
    elif kind == "unknown":
        fields[draw(st.sampled_from(["limit_prce", "Quantity", "price", "\\u00e9"]))] = "1"
    elif kind == "deep":
        depth = draw(st.integers(17, 20_000))
        opener = draw(st.sampled_from(["[", '{"a":']))
        closer = "]" if opener == "[" else "}"
        return opener * depth + "1" + closer * depth
    elif kind == "gtd":
        fields["time_in_force"] = '"GTD"'
        fields["expires_at"] = draw(HOSTILE_TIME)
    else:
        text = draw(st.text(st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e"
                                                              "\x85\u2028\u2029"),
                            min_size=1, max_size=200))
        return text if text.strip() and not text.strip().startswith("#") else "{" + text
    return _render(fields)


LEGS = ('[{"venue": "paper", "market": "PAPER-FED-CUT", "outcome": "YES", "limit_price": %s}, '
        '{"venue": "paper", "market": "PAPER-ELECTION", "outcome": "NO", "limit_price": %s}]')


@st.composite
def hostile_pair_line(draw: st.DrawFn) -> str:
    """A valid pair line with one hostile change."""
    fields = {"pair_id": '"p1"', "quantity": '"1"', "legs": LEGS % ('"0.40"', '"0.40"')}
    kind = draw(st.sampled_from(["field", "leg_price", "leg_text", "deep", "duplicate",
                                 "extra"]))
    if kind == "field":
        name = draw(st.sampled_from(["pair_id", "quantity", "min_edge", "max_unwind_loss",
                                     "requested_at", "tags", "request_id", "legs"]))
        fields[name] = draw({
            "pair_id": st.one_of(HOSTILE_NAME, LONG_STRING, st.just("7")),
            "quantity": HOSTILE_NUMBER_OR_TEXT,
            "min_edge": HOSTILE_NUMBER.filter(lambda v: v not in ("-0", "0", "0e0", "-1")),
            "max_unwind_loss": HOSTILE_NUMBER.filter(lambda v: v not in ("-0", "0", "0e0")),
            "requested_at": HOSTILE_TIME,
            "tags": _HOSTILE_FIELD["tags"],
            "request_id": st.one_of(HOSTILE_NAME, LONG_STRING),
            "legs": st.sampled_from(["[]", "[1, 2]", '"ab"', "{}", LEGS % ("1", "1")]),
        }[name])
    elif kind == "leg_price":
        fields["legs"] = LEGS % (draw(HOSTILE_NUMBER_OR_TEXT), '"0.40"')
    elif kind == "leg_text":
        bad = draw(HOSTILE_NAME)
        fields["legs"] = LEGS.replace('"PAPER-ELECTION"', bad) % ('"0.40"', '"0.40"')
    elif kind == "deep":
        depth = draw(st.integers(15, 5000))
        fields["tags"] = '{"a": ' + "[" * depth + "]" * depth + "}"
    elif kind == "duplicate":
        text = _render(fields)
        return '{"pair": ' + text[:-1] + ', "quantity": "2"}}'
    else:
        return '{"pair": ' + _render(fields) + ', "note": 1}'
    return '{"pair": ' + _render(fields) + "}"


def _one_line(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message, message
    message.encode("utf-8")  # journal-safe


# ---------------------------------------------------------------------------- the parser


@budget(150)
@given(hostile_request_line())
def test_request_lines_are_refused_with_one_line_each(text: str) -> None:
    COUNTS["request lines (parser)"] += 1
    item = parse_line(text, "requests.jsonl:1", pair_from_mapping)
    assert item.request is None, (text, item.request)
    assert item.error_field
    _one_line(f"{item.position}: {item.error_field}: {item.error}")
    assert item.raw is not None
    item.raw.encode("utf-8")


@budget(100)
@given(hostile_pair_line())
def test_pair_lines_are_refused_with_one_line_each(text: str) -> None:
    COUNTS["pair lines (parser)"] += 1
    item = parse_line(text, "requests.jsonl:1", pair_from_mapping)
    assert item.request is None, (text, item.request)
    assert item.error_field
    _one_line(f"{item.position}: {item.error_field}: {item.error}")


# ---------------------------------------------------------------------------- whole runs


DEPLOYMENT = """
[journal]
path = "journal.sqlite3"

[engine]
wait_budget = 0.05

[venues.paper]
type = "paper"
seed = 1
"""


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """One deployment folder for every CLI example: its paper account must stay empty."""
    with tempfile.TemporaryDirectory(prefix="arbexec-hostile-") as folder:
        path = Path(folder)
        (path / "deploy.toml").write_text(DEPLOYMENT)
        yield path


def paper_orders(home: Path) -> int:
    path = home / "venues" / "paper" / "paper-paper.sqlite3"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:  # closed now, not at a GC
        return int(db.execute("SELECT count(*) FROM orders").fetchone()[0])


def journal_orders(home: Path) -> int:
    path = home / "journal.sqlite3"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:  # closed now, not at a GC
        return int(db.execute("SELECT count(*) FROM orders WHERE status != 'DENIED'")
                   .fetchone()[0])


def invoke(home: Path, args: list[str], input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(home / "deploy.toml"), *args], input=input)


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    assert "Traceback" not in result.output, result.output


def nothing_sent(home: Path) -> None:
    assert paper_orders(home) == 0
    assert journal_orders(home) == 0


@budget(12)
@given(st.lists(st.one_of(hostile_request_line(), hostile_pair_line()), min_size=1,
                max_size=6))
def test_a_run_of_hostile_lines_sends_nothing_and_answers_each(home: Path,
                                                               lines: list[str]) -> None:
    COUNTS["run: hostile lines on stdin"] += 1
    result = invoke(home, ["--json", "run", "-"], input="\n".join(lines) + "\n")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    denied = [r for r in records if r.get("reason_code") == "invalid_request"]
    assert len(denied) == len(lines), (lines, result.output)
    for record in denied:
        _one_line(record["reason"])
    nothing_sent(home)


# ---------------------------------------------------------------------------- config files


_BAD_ENGINE = st.tuples(
    st.sampled_from(["wait_budget", "poll_interval", "poll_max_interval", "unknown_grace",
                     "breaker_window", "max_in_flight", "venue_concurrency"]),
    st.sampled_from(["nan", "inf", "-inf", "-1", "1e300", "9" * 400, "-" + "9" * 30, "'5'",
                     "true", "[]", "{}", "1e400", "100001e3", "0x7fffffffffffffff"]),
)
_BAD_VENUE_NAME = st.one_of(
    st.sampled_from(["../../../escape", "..", ".", "/etc/x", "a/b", "a\\\\b", "", " ", "-x",
                     "a" * 65, "caf\\u00e9", "x\\u0000y", "\\u202ex"]),
    st.builds(lambda a, b: a + "/" + b, _WORD, _WORD),
)
_PAPER_NUMBER = st.tuples(
    st.sampled_from(["latency_ms", "step_seconds", "flush_interval", "reject_rate",
                     "ambiguous_rate", "max_catchup_steps", "steps_per_order", "cash"]),
    st.sampled_from(["nan", "inf", "-inf", "1e12", "-1", "9" * 400, "'1e400'", "'nan'",
                     "[0, inf]", "[5, 1]", "true", "{}"]),
)


@st.composite
def hostile_deployment(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["engine", "venue_name", "paper", "path", "deep", "garbage"]))
    if kind == "engine":
        key, value = draw(_BAD_ENGINE)
        return DEPLOYMENT.replace("wait_budget = 0.05", f"{key} = {value}")
    if kind == "venue_name":
        name = draw(_BAD_VENUE_NAME)
        return DEPLOYMENT.replace("[venues.paper]", f'[venues."{name}"]')
    if kind == "paper":
        key, value = draw(_PAPER_NUMBER)
        return DEPLOYMENT + f"{key} = {value}\n"
    if kind == "path":
        key = draw(st.sampled_from(["path", "state_dir"]))
        value = draw(st.sampled_from(['"a\\u0000b"', '""', "7", '"x\\u001by"', "[]"]))
        return DEPLOYMENT.replace('path = "journal.sqlite3"',
                                  f'path = "journal.sqlite3"\n{key} = {value}'
                                  if key == "state_dir" else f"path = {value}")
    if kind == "deep":
        depth = draw(st.integers(33, 6000))
        opener = draw(st.sampled_from(["[", "{a = "]))
        closer = "]" if opener == "[" else "}"
        return DEPLOYMENT + f"deep = {opener * depth}1{closer * depth}\n".replace(
            "[1]", "[1]" if opener == "[" else "1")
    return draw(st.text(min_size=1, max_size=300).filter(lambda t: "=" in t or "[" in t))


@budget(25)
@given(hostile_deployment())
def test_config_check_refuses_hostile_deployments_in_one_line(home: Path, text: str) -> None:
    COUNTS["deployment files (config check)"] += 1
    # Three levels down, so that a name climbing out (``../../../escape``) lands in home.
    deep = home / "configs" / "a" / "b"
    deep.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=deep))
    config = folder / "deploy.toml"
    config.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = set(home.rglob("*"))
    result = CliRunner().invoke(cli, ["--config", str(config), "config", "check"])
    no_traceback(result)
    assert result.exit_code == 2, (text, result.output)
    for message in result.output.strip().splitlines():
        assert message.startswith("error: "), result.output
    assert set(home.rglob("*")) == before  # nothing written, inside or outside the folder


# ---------------------------------------------------------------------------- policy files


SPECS = builtin_specs()
_POLICY_VALUE = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e300", "9" * 400, "-" + "9" * 400,
                     "'abc'", "'1e99999'", "'\\u0660'", "true", "[]", "[1, 'x']", "{}",
                     "{a = 1}", "'25:99'", "'Mars/Olympus'", "1979-05-27T07:32:00Z",
                     "'" + "x" * 500 + "'", "'\\u0000'", "[[[[[[1]]]]]]"]),
    st.integers().map(str),
    st.floats(allow_nan=False).map(repr),
)


@st.composite
def hostile_policy(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["params", "params", "rule", "shape", "deep"]))
    if kind == "deep":
        depth = draw(st.integers(33, 6000))
        return "rules = " + "[" * depth + "]" * depth + "\n"
    if kind == "shape":
        return draw(st.sampled_from(["rules = 3\n", "rules = 'x'\n", "rules = [1, 2]\n",
                                     "[rules]\nrule = 'order_size'\n", "description = 1\n",
                                     "[[rules]]\n", "[[rules]]\nrule = ''\n",
                                     "[[rules]]\nrule = 'nope'\n", "other = 1\n"]))
    if kind == "rule":
        return f"[[rules]]\nrule = {draw(_POLICY_VALUE)}\n"
    name = draw(st.sampled_from(sorted(n for n, s in SPECS.items() if s.parameters)))
    params = sorted(SPECS[name].parameters)
    chosen = draw(st.lists(st.sampled_from(params), min_size=1, max_size=3, unique=True))
    body = "".join(f"{p} = {draw(_POLICY_VALUE)}\n" for p in chosen)
    return f"[[rules]]\nrule = '{name}'\n{body}"


@budget(150)
@given(hostile_policy())
def test_policy_files_load_or_fail_with_one_config_error(text: str) -> None:
    COUNTS["policy files (loader)"] += 1
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as handle:
        handle.write(text)
    path = Path(handle.name)
    try:
        load_policy_file(path, SPECS)
    except ConfigError as exc:
        _one_line(str(exc))
        assert str(exc).startswith(str(path))
    finally:
        path.unlink()


# ---------------------------------------------------------------------------- CLI arguments


PLACE = {"--venue": "paper", "--market": "PAPER-FED-CUT", "--outcome": "YES",
         "--side": "BUY", "--quantity": "1", "--price": "0.90", "--tif": "IOC"}
_RAW_HOSTILE = st.sampled_from(["\ud800", "\x00", "\x1b[2J", "\u202e", "\n", "\u200b",
                                "\ufeff", "\u2028", "\x7f"])
_BAD_TEXT_ARG = st.builds(lambda a, bad: a + bad, _WORD, _RAW_HOSTILE)
_BAD_NUMBER_ARG = st.one_of(
    st.sampled_from(["-1", "0", "nan", "inf", "1e400", "9" * 400, "0.5.5", "1_000",
                     "\u0660.\u0665", "\uff15", "", " ", "1e99999", "0x10", "½"]),
    st.integers(19, 60).map(lambda n: "0.3" + "0" * n + "1"),
)
_HOSTILE_OPTION = {
    "--venue": st.one_of(_BAD_TEXT_ARG, st.just("")),
    "--market": st.one_of(_BAD_TEXT_ARG, st.just("x" * 300)),
    "--quantity": _BAD_NUMBER_ARG,
    "--price": _BAD_NUMBER_ARG,
    "--reference-price": _BAD_NUMBER_ARG,
    "--key": st.one_of(_BAD_TEXT_ARG, st.just("k" * 300)),
    "--request-id": _BAD_TEXT_ARG,
    "--tag": st.one_of(_BAD_TEXT_ARG, st.sampled_from(["novalue", "=x", "a=\ud800"])),
    "--expires": st.sampled_from(["1e400", "0001-01-01T00:00:00Z", "tomorrow",
                                  "9" * 400, "\ud800"]),
    "--outcome": st.sampled_from(["MAYBE", "\ud800", ""]),
    "--tif": st.sampled_from(["DAY", ""]),
}


@st.composite
def hostile_place_args(draw: st.DrawFn) -> list[str]:
    options = dict(PLACE)
    name = draw(st.sampled_from(sorted(_HOSTILE_OPTION)))
    options[name] = draw(_HOSTILE_OPTION[name])
    if name == "--expires":
        options["--tif"] = "GTD"
    args = ["order", "place"]
    for key, value in options.items():
        args += [key, value]
    return args


@budget(20)
@given(hostile_place_args())
def test_order_place_with_a_hostile_argument_sends_nothing(home: Path,
                                                           args: list[str]) -> None:
    COUNTS["order place arguments"] += 1
    result = invoke(home, args)
    no_traceback(result)
    assert result.exit_code == 2, (args, result.output)
    assert "error" in result.output.lower(), result.output
    nothing_sent(home)


@st.composite
def hostile_run_args(draw: st.DrawFn) -> tuple[list[str], str | None]:
    kind = draw(st.sampled_from(["source", "policy", "policy_file"]))
    if kind == "source":
        # No NUL (argv entries are C strings) and, for paths, only the surrogates that
        # undecodable argv bytes become (U+DC80 to U+DCFF); other arguments take any.
        source = draw(st.sampled_from(["/nonexistent/r.jsonl", "/", ".", "a\udcff", "a\ud800",
                                       "", "~/none.jsonl", "--", "x" * 5000]))
        return ["run", source], None
    if kind == "policy":
        policy = draw(st.sampled_from(["/nonexistent.toml", "/tmp", "a\x1bb", "\udcff",
                                       "x" * 5000]))
        return ["run", "--policy", policy, "-"], '{"request_id": "r"}\n'
    return ["run", "--policy", "POLICY", "-"], draw(hostile_policy())


@budget(12)
@given(hostile_run_args())
def test_run_with_hostile_arguments_sends_nothing(home: Path,
                                                  case: tuple[list[str], Any]) -> None:
    COUNTS["run arguments"] += 1
    args, extra = case
    stdin = None
    if "POLICY" in args:
        policy = Path(tempfile.mkdtemp(dir=home)) / "policy.toml"
        policy.write_text(extra)
        args = [str(policy) if a == "POLICY" else a for a in args]
        stdin = "\n".join(REQUEST) + "\n"  # not JSON: denied whatever the policy
    elif extra is not None:
        stdin = extra
    result = invoke(home, args, input=stdin)
    no_traceback(result)
    assert result.exit_code in (0, 2), (args, result.output)
    if result.exit_code == 2:  # one "error: ..." line, or click's usage and "Error: ..."
        errors = [x for x in result.output.splitlines() if x.lower().startswith("error")]
        assert len(errors) == 1, result.output
    nothing_sent(home)
