"""The plugin host: discovery, load failures, misspelled hooks, conflicts, strict mode."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from arbexec import hookspecs
from arbexec.errors import PluginConflictError, PluginError, UnknownNameError
from arbexec.hookspecs import hookimpl
from arbexec.plugins import PluginHost
from arbexec.specs import ExchangeSpec, LedgerSpec, RiskRuleSpec, SinkSpec, SourceSpec

FAKE_DISTS = Path(__file__).resolve().parent.parent / "data" / "fake-dists"


@pytest.fixture
def fake_dists(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(FAKE_DISTS))
    return FAKE_DISTS


def host_with(fake_dists: Path, **kwargs: object) -> PluginHost:
    env = {"ARBEXEC_DISABLE_PLUGINS": "paper,polymarket,kalshi"}
    env.update(kwargs.pop("env", {}))  # type: ignore[arg-type]
    return PluginHost.create(environ=env, **kwargs)  # type: ignore[arg-type]


def record(host: PluginHost, name: str):  # type: ignore[no-untyped-def]
    return next(r for r in host.records() if r.name == name)


def test_entry_points_are_discovered_with_their_distribution(fake_dists: Path) -> None:
    host = host_with(fake_dists, env={"ARBEXEC_DISABLE_PLUGINS":
                                      "paper,polymarket,kalshi,fakerival"})
    assert "fakevenue" in host.exchanges()
    ok = record(host, "fakeok")
    assert ok.status == "ok"
    assert ok.distribution == "fake-arbexec-plugins" and ok.version == "1.0"
    assert ok.provides == {"exchange": ("fakevenue",), "risk_rule": ("fake_rule",),
                           "sink": ("fakesink",), "source": ("fakesource",)}


def test_an_import_failure_is_reported_not_raised(fake_dists: Path) -> None:
    host = host_with(fake_dists)
    broken = record(host, "fakebroken")
    assert broken.status == "failed"
    assert "a_module_that_is_not_installed" in (broken.error or "")
    assert "jsonl" in host.sinks()  # everything else still works


def test_a_misspelled_hook_is_reported(fake_dists: Path) -> None:
    host = host_with(fake_dists)
    typo = record(host, "faketypo")
    assert typo.status == "failed"
    assert "arbexec_exchange" in (typo.error or "") and "do not exist" in (typo.error or "")


def test_a_name_conflict_names_both_distributions(fake_dists: Path) -> None:
    host = host_with(fake_dists)
    host.exchanges()
    rival = record(host, "fakerival")
    ok = record(host, "fakeok")
    failed = rival if rival.status == "failed" else ok
    assert "fake-arbexec-plugins 1.0" in (failed.error or "")
    assert "fake-arbexec-rival 2.0" in (failed.error or "")


def test_strict_mode_makes_failures_fatal(fake_dists: Path) -> None:
    with pytest.raises(PluginError):
        host_with(fake_dists, strict=True)


def test_strict_mode_makes_conflicts_fatal(fake_dists: Path) -> None:
    host = host_with(fake_dists, env={"ARBEXEC_DISABLE_PLUGINS":
                                      "paper,polymarket,kalshi,fakebroken,faketypo"})
    host.strict = True
    with pytest.raises(PluginConflictError, match="fake-arbexec-rival"):
        host.exchanges()


def test_blocked_plugins_are_listed_but_not_loaded(fake_dists: Path) -> None:
    host = host_with(fake_dists, env={"ARBEXEC_DISABLE_PLUGINS":
                                      "paper,polymarket,kalshi,fakeok,fakerival"})
    assert record(host, "fakeok").status == "blocked"
    assert "fakevenue" not in host.exchanges()


def test_no_plugins_switch_loads_builtins_only(fake_dists: Path) -> None:
    host = PluginHost.create(environ={"ARBEXEC_NO_PLUGINS": "1"})
    assert {r.distribution for r in host.records()} == {"arbexec"}


def test_unknown_name_says_what_is_available_and_what_failed(fake_dists: Path) -> None:
    host = host_with(fake_dists)
    with pytest.raises(UnknownNameError) as info:
        host.require("exchange", "nosuchvenue", where="deploy.toml:venues.x")
    message = str(info.value)
    assert "deploy.toml:venues.x" in message and "nosuchvenue" in message
    assert "pip install ./plugins/arbexec-nosuchvenue" in message
    assert "pip install arbexec-" not in message  # the public index has no arbexec packages
    assert "fakebroken" in message or "fake-arbexec-plugins" in message


# ---------------------------------------------------------------- one test per hook


class _Local:
    """A plugin registered in-process, as a test or an application would."""

    @hookimpl
    def arbexec_exchanges(self) -> list[ExchangeSpec]:
        return [ExchangeSpec(name="localvenue", factory=lambda s: None)]  # type: ignore[arg-type,return-value]

    @hookimpl
    def arbexec_risk_rules(self) -> list[RiskRuleSpec]:
        return [RiskRuleSpec(name="local_rule", factory=lambda p: None)]  # type: ignore[arg-type,return-value]

    @hookimpl
    def arbexec_sinks(self) -> list[SinkSpec]:
        return [SinkSpec(name="localsink", factory=lambda s: None)]  # type: ignore[arg-type,return-value]

    @hookimpl
    def arbexec_sources(self) -> list[SourceSpec]:
        return [SourceSpec(name="localsource", factory=lambda s: None)]  # type: ignore[arg-type,return-value]

    @hookimpl
    def arbexec_register_commands(self, cli: click.Group) -> None:
        cli.add_command(click.Command("localcmd", callback=lambda: None))

    @hookimpl
    def arbexec_ledgers(self) -> list[LedgerSpec]:
        return [LedgerSpec(name="localledger", factory=lambda s: None)]  # type: ignore[arg-type,return-value]


@pytest.fixture
def local_host() -> PluginHost:
    host = PluginHost.create(entry_points=False)
    assert host.register(_Local(), name="local", distribution="local-dist", version="9")
    return host


def test_hook_arbexec_exchanges(local_host: PluginHost) -> None:
    assert "localvenue" in local_host.exchanges()
    assert local_host.owner_of("exchange", "localvenue") == ("local-dist", "9")


def test_hook_arbexec_risk_rules(local_host: PluginHost) -> None:
    assert "local_rule" in local_host.risk_rules()


def test_hook_arbexec_sinks(local_host: PluginHost) -> None:
    sinks = local_host.sinks()
    assert {"localsink", "jsonl", "stdout"} <= set(sinks)


def test_hook_arbexec_sources(local_host: PluginHost) -> None:
    assert {"localsource", "jsonl"} <= set(local_host.sources())


def test_hook_arbexec_ledgers(local_host: PluginHost) -> None:
    assert set(local_host.ledgers()) == {"localledger"}
    assert local_host.owner_of("ledger", "localledger") == ("local-dist", "9")


def test_hook_arbexec_register_commands(local_host: PluginHost) -> None:
    group = click.Group("root")
    local_host.register_commands(group)
    assert "localcmd" in group.commands


def test_a_hook_returning_the_wrong_type_is_a_recorded_failure() -> None:
    class Wrong:
        @hookimpl
        def arbexec_sinks(self) -> list[str]:
            return ["not a spec"]

    host = PluginHost.create(entry_points=False)
    host.register(Wrong(), name="wrong")
    assert "stdout" in host.sinks()
    assert record(host, "wrong").status == "failed"


def test_every_hook_has_a_test() -> None:
    names = [n for n in dir(hookspecs) if n.startswith("arbexec_")]
    tests = set(globals())
    missing = [n for n in names if f"test_hook_{n}" not in tests]
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"
