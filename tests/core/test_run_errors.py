"""A request that raises in the engine is reported truthfully and fails the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.engine import Engine
from tests.core.test_batch_isolation import _line


def test_a_request_that_raises_before_its_intent_fails_the_run_and_says_no_row_exists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "deploy.toml"
    config.write_text('[journal]\npath = "journal.sqlite3"\n[venues.paper]\ntype = "paper"\n')
    source = tmp_path / "requests.jsonl"
    source.write_text(_line("a", "k1") + "\n")

    async def broken(self: Engine, request: Any) -> Any:
        raise RuntimeError("a bug before the write-ahead")

    monkeypatch.setattr(Engine, "_execute", broken)
    result = CliRunner().invoke(cli, ["--config", str(config), "run", str(source)])
    assert result.exit_code == 1, result.output
    assert "nothing of it is in the journal" in result.output
    assert "its state is in the journal" not in result.output
