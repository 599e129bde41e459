"""Every command line in README.md and docs/ still holds.

Each ``arbexec ...`` line of a fenced block (a synopsis or an example) must name a command
that exists and only options that command has. Each example of an ``sh`` block is run, in
the order of its file, in a fresh folder on the paper venue (venue tools get a deployment
and a generated key, never the network): it must exit as documented, and where the docs
show what it prints, print that. An example that cannot run here is in ``NOT_RUNNABLE``
with its reason, and the list is counted.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from attrs import frozen

from arbexec.cli import cli
from arbexec.cli_lazy import LazyCommand

REPO = Path(__file__).resolve().parents[2]
FILES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
COMMAND = re.compile(r"^\s*(?:\$ )?(?:\.venv/bin/)?arbexec(?= |$)")
GLOBAL_WITH_VALUE = {"-c", "--config", "--journal"}
GLOBAL_FLAGS = {"--json", "--strict", "--help", "--version"}
FUNDER = "0x" + "ab" * 20


@frozen
class Example:
    path: Path
    line: int
    text: str  # the command, continuation lines joined, the trailing comment kept apart
    fence: str  # the fence's language: sh, or "" for a synopsis block

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def key(self) -> tuple[str, str]:
        return (str(self.path.relative_to(REPO)), self.text)


def _strip_comment(line: str) -> str:
    return re.split(r"\s+#\s", line, maxsplit=1)[0].rstrip()


def extract(path: Path) -> list[Example]:
    found: list[Example] = []
    fence: str | None = None
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            fence = line.strip()[3:].strip() if fence is None else None
            i += 1
            continue
        if fence is None or not COMMAND.match(line):
            i += 1
            continue
        start, parts = i + 1, [_strip_comment(line)]
        while parts[-1].endswith("\\") or (
                fence == "" and i + 1 < len(lines) and lines[i + 1].startswith(" " * 8)
                and not COMMAND.match(lines[i + 1])):
            parts[-1] = parts[-1].rstrip("\\").rstrip()
            i += 1
            parts.append(_strip_comment(lines[i]).strip())
        found.append(Example(path, start, " ".join(p.strip() for p in parts).strip(),
                             fence))
        i += 1
    return found


EXAMPLES = [e for path in FILES for e in extract(path)]


def _real(command: click.Command) -> click.Command:
    return command.load() if isinstance(command, LazyCommand) else command


def resolve(words: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """(command path, command, the rest) of an ``arbexec`` command line."""
    cli.load_plugin_commands(None)  # type: ignore[attr-defined]
    rest = list(words)
    while rest and (rest[0] in GLOBAL_FLAGS or rest[0] in GLOBAL_WITH_VALUE
                    or rest[0].startswith("[")):
        rest = rest[2:] if rest[0] in GLOBAL_WITH_VALUE else rest[1:]
        if rest and rest[0].endswith("]"):  # `[-c deploy.toml]`
            rest = rest[1:]
    command: click.Command = cli
    path: list[str] = []
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0]) or command.get_command(
            click.Context(command), rest[0])
        if sub is None:
            break
        command, path, rest = _real(sub), [*path, rest[0]], rest[1:]
    return path, command, rest


def _words(text: str) -> list[str]:
    body = COMMAND.sub("", text).split(";")[0].split(">")[0].split("|")[0] if (
        "'" not in text) else COMMAND.sub("", text)
    try:
        return shlex.split(body)
    except ValueError:
        return body.split()


def _option_names(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in [*command.params, *cli.params]:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_every_documented_command_and_option_exists(example: Example) -> None:
    path, command, rest = resolve(_words(example.text))
    words = _words(example.text)
    placeholders = [w for w in rest if not w.startswith(("-", "[")) and not (
        w.strip("[].").isupper() or w.strip("[]") in ("...", "FILE"))]
    assert path or not placeholders, (
        f"{example.where}: `{example.text}` names no arbexec command ({placeholders})")
    del words
    if isinstance(command, click.Group) and path:
        assert not rest or rest[0].startswith(("-", "[")), (
            f"{example.where}: `arbexec {' '.join(path)}` has no subcommand {rest[0]!r}")
    known = _option_names(command)
    for token in rest:
        for name in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", token):
            if name.startswith("--") or (len(name) == 2 and name[1].isalpha()):
                for spelled in name.split("/"):
                    assert spelled in known or spelled in {"-q"} & known, (
                        f"{example.where}: `arbexec {' '.join(path)}` has no option "
                        f"{spelled} (documented as `{example.text}`)")


# ---------------------------------------------------------------------------- running them

#: Examples that cannot run in a test, each with its reason. Counted below: adding one is a
#: decision, not an accident.
NOT_RUNNABLE: dict[tuple[str, str], str] = {
    ("docs/plugin-authors.md", "arbexec -c tiny.toml config check"):
        "needs the example plugin installed; tests/core/test_third_party.py installs and "
        "runs it",
    ("docs/plugin-authors.md", "arbexec -c tiny.toml order place --venue tiny --market DEMO "
     "--outcome yes --side buy --quantity 5 --price 0.42 --key tiny-1"):
        "needs the example plugin installed; tests/core/test_third_party.py installs and "
        "runs it",
    ("docs/risk-policy.md", "arbexec run --policy examples/policies/conservative.toml ..."):
        "elided arguments (`...`): a form, not a command",
    ("docs/redis.md", "arbexec --config deployment.toml redis doctor"):
        "needs a Redis server; tests/redis runs doctor against a real redis-server",
    ("docs/redis.md", "arbexec --config deployment.toml run"):
        "consumes a Redis stream until Ctrl-C; tests/redis/test_engines.py runs engines so",
    ("docs/redis.md", "arbexec --config deployment.toml redis publish requests.jsonl --wait 10"):
        "needs a Redis server and an engine; tests/redis runs publish against a real one",
    ("docs/redis.md", "$ arbexec --config engine-a.toml redis doctor"):
        "output of a running shared deployment; tests/redis runs doctor against a real one",
}
NOT_RUNNABLE_COUNT = 7

#: Exit statuses other than 0 that an example documents.
EXIT_STATUS: dict[tuple[str, str], int] = {}


def _sh_examples(relative: str) -> list[Example]:
    return [e for e in EXAMPLES if e.fence in ("sh", "bash", "shell", "console")
            and e.key[0] == relative]


def test_the_not_runnable_list_is_counted_and_current() -> None:
    assert len(NOT_RUNNABLE) == NOT_RUNNABLE_COUNT
    keys = {e.key for e in EXAMPLES}
    stale = [k for k in NOT_RUNNABLE if k not in keys]
    assert not stale, f"not-runnable entries that no longer match an example: {stale}"


def _workspace(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder like a checkout: the examples, a request file, an `arbexec` on PATH and in
    `.venv/bin`, a Kalshi key and a deployment for the venue tools; no venue variables."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    shutil.copy(REPO / "examples" / "requests.jsonl", tmp_path / "requests.jsonl")
    shim = tmp_path / ".venv" / "bin" / "arbexec"
    shim.parent.mkdir(parents=True)
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m arbexec \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    (tmp_path / "kalshi.pem").write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "deploy.toml").write_text(
        '[venues.kalshi]\napi_key_id = "doc-key"\nprivate_key_path = "kalshi.pem"\n\n'
        f'[venues.polymarket]\nsignature_type = "POLY_GNOSIS_SAFE"\nfunder = "{FUNDER}"\n')
    (tmp_path / ".env").write_text(  # beside the deployment: read by the venue tools
        f"POLYMARKET_PRIVATE_KEY=0x{'33' * 32}\nPOLYMARKET_API_KEY=doc-api-key\n"
        "POLYMARKET_API_SECRET=c2VjcmV0\nPOLYMARKET_API_PASSPHRASE=doc-pass\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ARBEXEC_", "POLYMARKET_", "KALSHI_", "NO_COLOR"))}
    env.update(PATH=f"{shim.parent}{os.pathsep}{env.get('PATH', '')}",
               KALSHI_API_KEY_ID="doc-key", KALSHI_PRIVATE_KEY_PATH="kalshi.pem",
               COLUMNS="200")
    return tmp_path, env


#: What an example prints, where the docs say it: (file, command) -> check of stdout.
Check = Callable[[str], None]


def _has_rows(*wanted: tuple[str, str]) -> Check:
    def check(out: str) -> None:
        for status, request_id in wanted:
            assert re.search(rf"^{status}\s+{request_id}\s", out, re.M), (status, request_id)
    return check


def _starts(prefix: str) -> Check:
    def check(out: str) -> None:
        assert out.startswith(prefix), out[:200]
    return check


OUTPUT: dict[tuple[str, str], Check] = {
    ("README.md", ".venv/bin/arbexec -c deployment.toml config check"):
        _starts("ok: deployment.toml: venues paper (paper)"),
    ("docs/user-guide.md", "arbexec orders --open"):  # "what is still resting (r07, r08)"
        _has_rows(("OPEN", "r07"), ("OPEN", "r08")),
    ("docs/user-guide.md", "arbexec order status r01"): _has_rows(("FILLED", "r01")),
    ("docs/user-guide.md", "arbexec order cancel r07"): _has_rows(("CANCELLED", "r07")),
    ("docs/venues/polymarket.md", "arbexec -c deploy.toml polymarket doctor --offline"):
        lambda out: re.search(rf"signature type POLY_GNOSIS_SAFE; maker {FUNDER}", out,
                              re.I) or pytest.fail(out),
    ("docs/venues/polymarket.md", "arbexec -c deploy.toml polymarket build-order --token-id "
     "1234 --side BUY --price 0.57 --quantity 10 --tick-size 0.01 --json"):
        lambda out: re.search(r'"owner": "doc-api-key"', out) or pytest.fail(out),
    ("docs/markets.md", "arbexec -c examples/crossed-pair.toml scan --once --execute"):
        lambda out: re.search(r"executed .* edge 48\.7584 fees 13\.2416 +\[HEDGED realised "
                              r"48\.7584\]", out) or pytest.fail(out),
    ("README.md", ".venv/bin/arbexec -c examples/crossed-pair.toml scan --once --execute"):
        lambda out: re.search(r"\[HEDGED realised 48\.7584\]", out) or pytest.fail(out),
    ("docs/venues/kalshi.md", "arbexec -c deploy.toml kalshi doctor --offline"):
        lambda out: re.search(r"\[ok  \] private key: ed25519 key loaded", out) or (
            pytest.fail(out)),
}


DOCS_RUN = sorted({e.key[0] for e in EXAMPLES if e.fence in ("sh", "bash", "shell",
                                                              "console")})


@pytest.mark.parametrize("relative", DOCS_RUN)
def test_every_sh_example_runs_as_documented(relative: str, tmp_path: Path) -> None:
    cwd, env = _workspace(tmp_path)
    ran = listed = 0
    for example in _sh_examples(relative):
        if example.key in NOT_RUNNABLE:
            listed += 1
            continue
        if "pip install" in example.text:
            continue
        run = subprocess.run(["/bin/sh", "-c", example.text], cwd=cwd, env=env,
                             capture_output=True, text=True, timeout=300)
        expected = EXIT_STATUS.get(example.key, 0)
        assert run.returncode == expected, (
            f"{example.where}: `{example.text}` exited {run.returncode}, documented "
            f"{expected}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        assert "Traceback" not in run.stderr, f"{example.where}: {run.stderr}"
        check = OUTPUT.get(example.key)
        if check is not None:
            check(run.stdout)
        ran += 1
    assert ran or listed, f"{relative}: no example ran"


def test_every_output_check_names_a_documented_example() -> None:
    keys = {e.key for e in EXAMPLES}
    assert not [k for k in OUTPUT if k not in keys]


# ---------------------------------------------------------------------------- shown output


def _documented_run_output() -> list[str]:
    text = (REPO / "docs" / "user-guide.md").read_text(encoding="utf-8")
    block = text.split("arbexec run examples/requests.jsonl\n```", 1)[1]
    block = block.split("```\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def _shape(line: str) -> str:
    """A documented line as a pattern: timings, paths and counts of time vary."""
    pattern = re.escape(line.strip())
    pattern = re.sub(r"\d+\\\.\d+ms", r"\\d+(?:\\.\\d+)?ms", pattern)
    pattern = re.sub(r"\d+\\\.\d+s\\ \\\(\d+\\\.\d+/s\\\)", r"[\\d.]+s\\ \\([\\d.]+/s\\)",
                     pattern)
    pattern = re.sub(r"(p50|p90|p99|max)\\ \d+(?:\\\.\d+)?ms", r"\1\\ [\\d.]+ms", pattern)
    pattern = pattern.replace(re.escape("/home/me/.arbexec/journal.sqlite3"), r"\S+")
    return pattern.replace(r"\ ", r"\s+")


def test_the_first_run_prints_what_the_user_guide_shows(tmp_path: Path) -> None:
    cwd, env = _workspace(tmp_path)
    run = subprocess.run([sys.executable, "-m", "arbexec", "run", "examples/requests.jsonl"],
                         cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for line in _documented_run_output():
        if line.strip():
            assert re.search(_shape(line), run.stdout), (
                f"docs/user-guide.md shows\n  {line}\nbut the run printed\n{run.stdout}")
