"""`./dev`: a working install prints two lines; a failing one shows pip's output."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("dev_script", str(REPO / "dev"))
    spec = importlib.util.spec_from_loader("dev_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    monkeypatch.setattr(module, "VENV", venv)
    monkeypatch.setattr(module, "STAMP", venv / ".arbexec-installed")
    return module


def chatty(returncode: int) -> Any:
    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert kwargs.get("stdout") is subprocess.PIPE, "pip's output must be captured"
        return subprocess.CompletedProcess(args, returncode, stdout="BuildBackendWarning: "
                                           "Editable installation.\n" * 20)
    return run


def test_a_working_install_keeps_pip_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    dev = load_dev(tmp_path, monkeypatch)
    monkeypatch.setattr(dev.subprocess, "run", chatty(0))
    dev.ensure_environment()
    captured = capsys.readouterr()
    assert "BuildBackendWarning" not in captured.out + captured.err
    assert captured.err.splitlines() == [
        "dev: installing arbexec, its plugins and test tools into .venv"]


def test_a_failing_install_shows_what_pip_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    dev = load_dev(tmp_path, monkeypatch)
    monkeypatch.setattr(dev.subprocess, "run", chatty(1))
    with pytest.raises(SystemExit) as exited:
        dev.ensure_environment()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "BuildBackendWarning" in err and "installation failed" in err
