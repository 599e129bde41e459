"""The declared plugin API: complete, consistent, lazy, and what the plugins really use."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import arbexec
from arbexec import api

REPO = Path(__file__).resolve().parents[2]


def test_version_comes_from_the_distribution() -> None:
    assert arbexec.__version__ == importlib.metadata.version("arbexec")


def test_every_declared_name_resolves_to_the_core_object() -> None:
    assert sorted(api.__all__) == sorted(api._HOME)
    assert len(set(api.__all__)) == len(api.__all__)
    for name in api.__all__:
        home = importlib.import_module(api._HOME[name])
        assert getattr(api, name) is getattr(home, name), name


def test_an_undeclared_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="plugin API"):
        api.Journal  # noqa: B018
    with pytest.raises(ImportError):
        exec("from arbexec.api import Engine")


@pytest.mark.parametrize("group", ["Exchange", "Capabilities", "MarketRules", "PreparedOrder",
                                   "ExchangeSettings", "hookimpl", "LazyCommand", "ParamRule",
                                   "RiskRule", "Sink", "Source", "ExchangeSpec", "OrderRequest",
                                   "ExchangeError", "money"])
def test_the_issue_named_contracts_are_declared(group: str) -> None:
    assert group in api.__all__


def test_importing_the_api_for_a_plugin_module_stays_cheap() -> None:
    code = ("import sys; from arbexec.api import ExchangeSpec, hookimpl; "
            "print(sorted(m for m in ('arbexec.risk.rules', 'click', 'arbexec.engine', "
            "'arbexec.journal', 'sqlite3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_plugins_and_examples_use_names_the_api_declares() -> None:
    """Belt and braces to the import contract: every name they take from arbexec.api, and
    every ``ax.X`` / ``errors.X`` on the api module aliased, is declared."""
    declared = set(api.__all__)
    sources = [*REPO.glob("plugins/*/arbexec_*/**/*.py"), *REPO.glob("examples/*/arbexec_*/*.py")]
    assert sources
    for path in sources:
        tree = ast.parse(path.read_text())
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "arbexec.api":
                missing = {a.name for a in node.names} - declared
                assert not missing, f"{path}: {missing}"
            if isinstance(node, ast.ImportFrom) and node.module == "arbexec":
                aliases |= {a.asname or a.name for a in node.names if a.name == "api"}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases):
                assert node.attr in declared, f"{path}: {node.value.id}.{node.attr}"
