"""The documentation keeps up with the code: every hook, command, deployment key and link."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import click
import pytest

from arbexec import config, hookspecs
from arbexec.cli import cli
from arbexec.cli_lazy import LazyCommand
from arbexec.engine import EngineSettings

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
USER_GUIDE = DOCS / "user-guide.md"
PLUGIN_AUTHORS = DOCS / "plugin-authors.md"
ARCHITECTURE = DOCS / "architecture.md"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _annotation(value: Any) -> str:
    # hookspecs.py uses postponed annotations, so they are the source text already.
    return value if isinstance(value, str) else inspect.formatannotation(value)


def hook_signature(function: Any) -> str:
    """``name(arg: Type, ...) -> Return`` exactly as the hookspec is written."""
    signature = inspect.signature(function)
    params = []
    for p in signature.parameters.values():
        params.append(p.name if p.annotation is inspect.Parameter.empty
                      else f"{p.name}: {_annotation(p.annotation)}")
    result = f"{function.__name__}({', '.join(params)})"
    if signature.return_annotation is not inspect.Signature.empty:
        result += f" -> {_annotation(signature.return_annotation)}"
    return result


def hookspec_functions() -> list[Any]:
    marker = f"{hookspecs.PROJECT}_spec"
    return [getattr(hookspecs, name) for name in sorted(dir(hookspecs))
            if name.startswith(f"{hookspecs.PROJECT}_")
            and hasattr(getattr(hookspecs, name), marker)]


def sections(text: str, level: str = "### ") -> dict[str, str]:
    """Heading line -> the text up to the next heading of the same or a higher level."""
    out: dict[str, str] = {}
    heading: str | None = None
    body: list[str] = []
    in_fence = False
    depth = len(level.strip())
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else re.match(r"^(#{1,6}) ", line)
        if match and len(match.group(1)) <= depth:
            if heading is not None:
                out[heading] = "\n".join(body)
            heading = line if len(match.group(1)) == depth else None
            body = []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        out[heading] = "\n".join(body)
    return out


# ---------------------------------------------------------------------------- hooks


def test_the_hook_signature_helper_matches_the_source() -> None:
    assert hook_signature(hookspecs.arbexec_register_commands) == (
        "arbexec_register_commands(cli: click.Group) -> None")
    assert hook_signature(hookspecs.arbexec_exchanges) == (
        "arbexec_exchanges() -> Iterable[ExchangeSpec] | None")


def test_there_are_hooks_to_document() -> None:
    assert len(hookspec_functions()) >= 5


@pytest.mark.parametrize("hook", hookspec_functions(), ids=lambda f: f.__name__)
def test_every_hook_has_a_section_with_its_exact_signature(hook: Any) -> None:
    found = sections(_text(PLUGIN_AUTHORS))
    heading = f"### `{hook.__name__}`"
    assert heading in found, f"docs/plugin-authors.md has no section {heading!r}"
    signature = hook_signature(hook)
    assert f"`{signature}`" in found[heading], (
        f"the section {heading!r} does not show the signature `{signature}`")


# ---------------------------------------------------------------------------- CLI


def core_commands() -> dict[str, click.Command]:
    """Top-level commands of the core (plugin groups excluded, loaded or not)."""
    out = {}
    for name, command in cli.commands.items():
        if isinstance(command, LazyCommand):
            continue
        module = getattr(command.callback, "__module__", "") or ""
        if module == "arbexec" or module.startswith("arbexec."):
            out[name] = command
    return out


def test_the_core_has_its_commands() -> None:
    assert {"run", "order", "orders", "audit", "halt", "resume", "plugins"} <= set(
        core_commands())


@pytest.mark.parametrize("name", sorted(core_commands()))
def test_every_core_command_is_in_the_cli_reference(name: str) -> None:
    text = _text(USER_GUIDE)
    reference = text.split("## CLI reference", 1)
    assert len(reference) == 2, "docs/user-guide.md has no '## CLI reference' section"
    found = sections(reference[1])
    mine = [h for h in found if re.search(rf"`{re.escape(name)}[` ]", h)]
    assert mine, f"no '### ' heading of the CLI reference names `{name}`"
    command = core_commands()[name]
    if isinstance(command, click.Group):
        body = "\n".join(h + "\n" + found[h] for h in mine)
        for sub in command.commands:
            assert re.search(rf"\b{re.escape(sub)}\b", body), (
                f"`{name} {sub}` is not documented under its heading")


def test_every_option_of_every_core_command_is_documented() -> None:
    text = _text(USER_GUIDE)
    missing = []
    commands: list[tuple[str, click.Command]] = [("", cli)]
    for name, command in core_commands().items():
        commands.append((name, command))
        if isinstance(command, click.Group):
            commands.extend((f"{name} {s}", c) for s, c in command.commands.items())
    for name, command in commands:
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:  # hidden: old names
                longest = max(param.opts, key=len)
                if longest not in ("--help",) and longest not in text:
                    missing.append(f"{name or 'arbexec'} {longest}")
    assert not missing, f"options missing from docs/user-guide.md: {missing}"


# ---------------------------------------------------------------------------- config


@pytest.mark.parametrize("section", sorted(config._TOP_LEVEL))
def test_every_deployment_section_has_a_heading(section: str) -> None:
    headings = [h for h in sections(_text(USER_GUIDE)) if h.startswith("### `[")]
    pattern = re.compile(rf"^### `\[\[?{re.escape(section)}[\].]")
    assert any(pattern.match(h) for h in headings), (
        f"docs/user-guide.md has no '### `[{section}...]`' heading")


@pytest.mark.parametrize("key", sorted(config._ENGINE_KEYS))
def test_every_engine_key_is_in_the_table_with_its_default(key: str) -> None:
    rows = [line for line in _text(USER_GUIDE).splitlines()
            if line.startswith(f"| `{key}` |")]
    assert rows, f"no table row for engine key `{key}` in docs/user-guide.md"
    default = getattr(EngineSettings(), key)
    shown = str(default).lower() if isinstance(default, bool) else str(default)
    assert any(f"`{shown}`" in row for row in rows), (
        f"the row for `{key}` does not show its default `{shown}`")


# ---------------------------------------------------------------------------- links


def _slug(heading: str) -> str:
    text = heading.strip().lstrip("#").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors = set()
    in_fence = False
    for line in _text(path).splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"^#{1,6} ", line):
            anchors.add(_slug(line))
    return anchors


@pytest.mark.parametrize("doc", [USER_GUIDE, PLUGIN_AUTHORS, ARCHITECTURE], ids=lambda p: p.name)
def test_relative_links_and_anchors_resolve(doc: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _text(doc)):
        if re.match(r"^[a-z]+://", target):
            continue
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        missing_anchor = bool(anchor) and path.suffix == ".md" and (
            not path.exists() or anchor not in _anchors(path))
        if not path.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{doc.name}: broken links {broken}"


# ---------------------------------------------------------------------------- README


def test_readme_starts_with_the_two_commands() -> None:
    readme = REPO / "README.md"
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", _text(readme), flags=re.M | re.S)
    if len(blocks) < 2:
        pytest.skip("README.md has fewer than two fenced blocks yet")
    assert blocks[0].strip() == "./dev run"
    assert blocks[1].strip() == "./dev test"
