"""Deployment files: every mistake names the file, the key and what would be valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbexec.config import DEFAULT_NAME, load_deployment, parse_deployment
from arbexec.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deploy.toml"
    path.write_text(text)
    return path


def test_the_built_in_default_is_a_paper_deployment() -> None:
    deployment = load_deployment(None)
    assert deployment.source == DEFAULT_NAME
    assert [(v.name, v.type) for v in deployment.venues] == [("paper", "paper")]
    assert deployment.journal_path.name == "journal.sqlite3"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[engine]\nwait_budget = -1\n", "engine.wait_budget", "from 0 to 86400"),
        ("[engine]\nwait_budgt = 1\n", "engine.wait_budgt", "valid keys"),
        ("[journal]\ndurability = 'sometimes'\n", "journal.durability", "'normal' or 'full'"),
        ("[venue.paper]\n", "venue", "valid sections"),
        ("venues = 3\n", "venues", "must be a table"),
        ("[[sinks]]\nformat = 'json'\n", "sinks[0].type", "needs a 'type'"),
        ("[venues.k]\ntype = 'kalshi'\nkey = '${NO_SUCH_VARIABLE_X}'\n", "venues.k.key",
         "NO_SUCH_VARIABLE_X is not set"),
        ("[engine]\nmax_in_flight = 0\n", "engine.max_in_flight", "from 1 to 100000"),
    ],
)
def test_config_errors_name_file_key_and_fix(tmp_path: Path, text: str, key: str,
                                             words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_deployment(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}:{key}:"), message
    assert words in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[engine\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_deployment(path)


def test_secrets_come_from_the_environment_and_never_show_in_reprs(tmp_path: Path) -> None:
    deployment = parse_deployment(
        {"venues": {"k": {"type": "kalshi", "key": "${SECRET_KEY_X}"}}},
        source="d.toml", base_dir=tmp_path, environ={"SECRET_KEY_X": "s3cr3t-value"})
    assert deployment.venues[0].options["key"] == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(deployment)


def test_dotenv_is_honoured_without_overriding_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("DOTENV_ONLY_X=from-file\nBOTH_X=from-file\n")
    monkeypatch.setenv("BOTH_X", "from-env")
    monkeypatch.delenv("DOTENV_ONLY_X", raising=False)
    path = write(tmp_path, "[venues.p]\ntype='paper'\na='${DOTENV_ONLY_X}'\nb='${BOTH_X}'\n")
    deployment = load_deployment(path)
    assert deployment.venues[0].options == {"a": "from-file", "b": "from-env"}
