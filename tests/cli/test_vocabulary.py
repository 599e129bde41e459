"""One vocabulary: the same thing has the same name on every command, core or plugin, and
every option a message or a help text names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.cli_options import TIME_IN_FORCE

from .commands import ROOT_OPTIONS, every_command, option_names

REPO = Path(__file__).resolve().parents[2]
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)")
#: Options of other programs that messages quote (an install hint, a pytest flag).
FOREIGN = {"--upgrade", "--no-deps", "--editable", "--asyncio-mode", "--import-mode"}
#: Old spellings: each may exist only as a hidden option that names its successor.
RETIRED = {"--size": "--quantity", "--amount": "--quantity", "--order-type": "--tif",
           "--limit-price": "--price", "--time-in-force": "--tif"}

COMMANDS = every_command()
ALL_OPTIONS = set().union(*(option_names(c) for _, c in COMMANDS)) | ROOT_OPTIONS


def _ids() -> list[str]:
    return [" ".join(path) for path, _ in COMMANDS]


def test_the_tree_holds_core_and_plugin_commands() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"order place", "arb", "book", "polymarket build-order", "kalshi sign-request",
            "polymarket doctor", "kalshi doctor", "paper resolve"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=_ids())
def test_every_option_a_help_text_names_exists(path: tuple[str, ...],
                                               command: click.Command) -> None:
    own = option_names(command) | ROOT_OPTIONS
    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    for text in texts:
        for line in text.splitlines():  # an example line is held to the command it names
            example = _example_command(line)
            if example is not None:
                for name in OPTION.findall(line):
                    assert name in option_names(example) | ROOT_OPTIONS, (
                        f"`arbexec {' '.join(path)}` help shows `{line.strip()}`, "
                        f"but that command has no {name}")
        text = "\n".join(line for line in text.splitlines()
                         if _example_command(line) is None)
        for name in OPTION.findall(text):
            if "`arbexec " in text and name in ALL_OPTIONS:
                continue  # an example of another command
            assert name in own or name in FOREIGN, (
                f"`arbexec {' '.join(path)}` help names {name}, which it does not have")


_BY_PATH = {path: command for path, command in COMMANDS}


def _example_command(line: str) -> click.Command | None:
    """The command an example line such as ``arbexec scan report --png s.png`` runs."""
    words = line.split()
    if not words or words[0] != "arbexec":
        return None
    names = [w for w in words[1:] if not w.startswith("-")]
    for cut in range(len(names), 0, -1):
        if tuple(names[:cut]) in _BY_PATH:
            return _BY_PATH[tuple(names[:cut])]
    return None


def _string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


SOURCES = sorted([*REPO.joinpath("arbexec").rglob("*.py"),
                  *REPO.joinpath("plugins").rglob("arbexec_*/**/*.py")])


def test_every_option_a_message_in_the_code_names_exists() -> None:
    """Error messages and hints in the source name options that exist (this caught
    ``--limit-price`` and ``--expires-at``)."""
    wrong = []
    for source in SOURCES:
        if "testing" in source.parts:
            continue
        for line, text in _string_literals(source):
            for name in OPTION.findall(text):
                if name not in ALL_OPTIONS and name not in FOREIGN and name not in RETIRED:
                    wrong.append(f"{source.relative_to(REPO)}:{line}: {name}")
    assert not wrong, "messages name options no command has:\n" + "\n".join(wrong)


def test_an_order_field_error_names_an_option_of_order_place() -> None:
    from arbexec.cli import _PLACE_OPTIONS
    from arbexec.model import OrderRequest

    place = next(c for p, c in COMMANDS if p == ("order", "place"))
    #: Fields `order place` never sets, so no error of theirs can reach it.
    unset = {"expected_value", "wait_budget", "requested_at"}
    for field in OrderRequest.__attrs_attrs__:  # type: ignore[attr-defined]
        if field.name in unset:
            continue
        option = _PLACE_OPTIONS.get(field.name, f"--{field.name.replace('_', '-')}")
        assert option in option_names(place, hidden=False), (field.name, option)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=_ids())
def test_retired_spellings_are_only_hidden_aliases(path: tuple[str, ...],
                                                   command: click.Command) -> None:
    visible = option_names(command, hidden=False)
    for old, new in RETIRED.items():
        assert old not in visible, f"`arbexec {' '.join(path)}` shows {old}; name it {new}"
        if old in option_names(command):
            assert new in visible, f"{old} is hidden but {new} is missing"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=_ids())
def test_time_in_force_is_tif_with_lower_case_values(path: tuple[str, ...],
                                                     command: click.Command) -> None:
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        if "--tif" in param.opts or ("time" in (param.name or "") and "force" in (
                param.name or "")):
            assert param.opts == ["--tif"]
            assert isinstance(param.type, click.Choice)
            values = list(param.type.choices)
            assert values == [v.lower() for v in values] and set(values) <= set(TIME_IN_FORCE)
            assert param.default in values


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=_ids())
def test_venue_and_market_are_options_never_positionals(path: tuple[str, ...],
                                                        command: click.Command) -> None:
    shown = [p for p in command.params if isinstance(p, click.Argument)
             and p.get_usage_pieces(click.Context(command))]
    assert not [p.name for p in shown if p.name in ("venue", "market", "outcome")]
    for param in command.params:
        if isinstance(param, click.Option) and param.name in ("venue", "market"):
            assert param.opts == [f"--{param.name}"]


def test_quantity_and_price_have_one_name() -> None:
    for path, command in COMMANDS:
        names = option_names(command, hidden=False)
        assert not names & {"--size", "--amount", "--shares", "--contracts"}, path
        assert not names & {"--limit-price", "--px", "--worst-price"}, path


def _shape(path: tuple[str, ...]) -> set[str]:
    command = next(c for p, c in COMMANDS if p == path)
    return option_names(command, hidden=False)


def test_the_signing_commands_have_the_same_shape() -> None:
    shared = {"--method", "--path", "--timestamp", "--json", "--venue"}
    assert shared <= _shape(("kalshi", "sign-request"))
    assert shared <= _shape(("polymarket", "sign-request"))
    for path in (("kalshi", "sign-request"), ("polymarket", "sign-request")):
        command = next(c for p, c in COMMANDS if p == path)
        assert not [p for p in command.params if isinstance(p, click.Argument)
                    and p.get_usage_pieces(click.Context(command))], path


def test_the_doctors_take_the_same_options() -> None:
    shared = {"--offline", "--proxy", "--environment", "--venue"}
    assert shared <= _shape(("kalshi", "doctor"))
    assert shared <= _shape(("polymarket", "doctor"))


def test_an_old_spelling_still_works_and_names_the_new_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["order", "place", "--venue", "paper", "--market",
                                 "PAPER-ELECTION", "--outcome", "yes", "--side", "buy",
                                 "--size", "2", "--limit-price", "0.55", "--tif", "IOC"])
    assert result.exit_code == 0, result.output
    assert "FILLED" in result.stdout and "BUY 2 YES" in result.stdout
    assert "warning: --size is deprecated; use --quantity" in result.stderr
    assert "warning: --limit-price is deprecated; use --price" in result.stderr
    both = runner.invoke(cli, ["order", "place", "--venue", "paper", "--market",
                               "PAPER-ELECTION", "--outcome", "yes", "--side", "buy",
                               "--size", "2", "--quantity", "3", "--price", "0.55"])
    assert both.exit_code == 2
    assert "give --quantity only" in both.stderr


def test_book_keeps_its_old_positional_form(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    old = runner.invoke(cli, ["--json", "book", "paper", "PAPER-ELECTION"])
    new = runner.invoke(cli, ["--json", "book", "--venue", "paper", "--market",
                              "PAPER-ELECTION"])
    assert old.exit_code == 0 and new.exit_code == 0, old.output
    assert "use --venue paper --market PAPER-ELECTION" in old.stderr
    assert '"market":"PAPER-ELECTION"' in old.stdout and '"bids"' in new.stdout
