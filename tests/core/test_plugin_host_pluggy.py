"""The host calls hooks through pluggy: markers, priorities, check_pending, return types."""

from __future__ import annotations

from typing import Any

import click
import pytest

from arbexec.errors import PluginConflictError, PluginError
from arbexec.hookspecs import hookimpl
from arbexec.plugins import PluginHost, PluginRecord
from arbexec.specs import SinkSpec


def _mine(settings: Any) -> Any:
    raise NotImplementedError


def host_with(plugin: object, **kwargs: Any) -> PluginHost:
    host = PluginHost.create(entry_points=False, **kwargs)
    host.register(plugin, name="local", distribution="local-dist", version="9")
    return host


def record(host: PluginHost, name: str = "local") -> PluginRecord:
    return next(r for r in host.records() if r.name == name)


def test_a_tryfirst_implementation_wins_a_name_a_builtin_offers() -> None:
    class Replacement:
        @hookimpl(tryfirst=True)
        def arbexec_sinks(self) -> list[SinkSpec]:
            return [SinkSpec(name="jsonl", factory=_mine)]

    host = host_with(Replacement())
    assert host.sinks()["jsonl"].factory is _mine
    assert host.owner_of("sink", "jsonl") == ("local-dist", "9")
    assert record(host).status == "ok"
    builtin = record(host, "arbexec.builtin.sinks")
    assert builtin.status == "ok" and builtin.provides == {"sink": ("stdout",)}
    assert any("'jsonl'" in n and "overridden by local-dist 9 (tryfirst)" in n
               for n in builtin.notes)


def test_a_plain_implementation_offering_a_builtin_name_is_a_conflict_naming_both() -> None:
    class Rival:
        @hookimpl
        def arbexec_sinks(self) -> list[SinkSpec]:
            return [SinkSpec(name="jsonl", factory=_mine)]

    host = host_with(Rival())
    assert host.sinks()["jsonl"].factory is not _mine  # the built-in, registered first, stays
    failed = record(host)
    assert failed.status == "failed"
    assert "arbexec " in (failed.error or "") and "local-dist 9" in (failed.error or "")
    assert "tryfirst" in (failed.error or "")
    with pytest.raises(PluginConflictError, match="local-dist 9"):
        host_with(Rival(), strict=True).sinks()


def test_a_trylast_implementation_only_fills_gaps() -> None:
    class Fallback:
        @hookimpl(trylast=True)
        def arbexec_sinks(self) -> list[SinkSpec]:
            return [SinkSpec(name="jsonl", factory=_mine), SinkSpec(name="spare", factory=_mine)]

    host = host_with(Fallback())
    sinks = host.sinks()
    assert sinks["jsonl"].factory is not _mine and sinks["spare"].factory is _mine
    fallback = record(host)
    assert fallback.status == "ok" and fallback.provides == {"sink": ("spare",)}
    assert any("'jsonl' (trylast) is overridden by arbexec" in n for n in fallback.notes)


def test_a_function_named_like_a_hook_but_not_marked_is_never_called() -> None:
    called: list[str] = []

    class Unmarked:
        def arbexec_sinks(self) -> list[SinkSpec]:
            called.append("arbexec_sinks")
            return [SinkSpec(name="unmarked", factory=_mine)]

        def arbexec_register_commands(self, cli: click.Group) -> None:
            called.append("arbexec_register_commands")

    host = host_with(Unmarked())
    assert "unmarked" not in host.sinks()
    host.register_commands(click.Group("root"))
    assert called == []
    unmarked = record(host)
    assert unmarked.status == "ok" and unmarked.hooks == ()
    assert "arbexec_sinks is not marked @hookimpl, so it is never called" in unmarked.notes


def test_check_pending_reports_a_misspelled_hook_and_accepts_an_optional_one() -> None:
    class Misspelled:
        @hookimpl
        def arbexec_sink(self) -> list[SinkSpec]:
            return []

    host = host_with(Misspelled())
    failed = record(host)
    assert failed.status == "failed"
    assert "hooks that do not exist: arbexec_sink" in (failed.error or "")
    assert "arbexec_sinks" in (failed.error or "")  # the known hooks are listed
    assert host.pm.get_plugin("local") is None  # unregistered: none of its hooks run

    class Optional:
        @hookimpl(optionalhook=True)
        def arbexec_from_the_future(self) -> None:
            """A hook a later arbexec may define: pluggy lets it wait."""

    assert record(host_with(Optional())).status == "ok"
    with pytest.raises(PluginError, match="arbexec_sink"):
        host_with(Misspelled(), strict=True)


@pytest.mark.parametrize(("returned", "reason"), [
    ("jsonl", "arbexec_sinks returned str, expected an iterable of SinkSpec"),
    (SinkSpec(name="lone", factory=_mine),
     "arbexec_sinks returned SinkSpec, expected an iterable of SinkSpec"),
    ({"lone": 1}, "arbexec_sinks returned dict, expected an iterable of SinkSpec"),
    (42, "arbexec_sinks returned int, expected an iterable of SinkSpec"),
    ([SinkSpec(name="good", factory=_mine), "bad"],
     "arbexec_sinks returned a list holding str, expected an iterable of SinkSpec"),
])
def test_a_wrong_return_type_is_recorded_clearly_and_offers_nothing(
        returned: object, reason: str) -> None:
    class Wrong:
        @hookimpl
        def arbexec_sinks(self) -> object:
            return returned

    host = host_with(Wrong())
    sinks = host.sinks()
    assert {"jsonl", "stdout"} <= set(sinks) and not {"lone", "good"} & set(sinks)
    assert record(host).status == "failed" and record(host).error == reason
    with pytest.raises(PluginError, match="expected an iterable of SinkSpec"):
        host_with(Wrong(), strict=True).sinks()


def test_none_and_generators_are_valid_answers() -> None:
    class Quiet:
        @hookimpl
        def arbexec_sinks(self) -> None:
            return None

        @hookimpl
        def arbexec_sources(self) -> Any:
            yield from ()

    host = host_with(Quiet())
    assert set(host.sinks()) == {"jsonl", "stdout"} and set(host.sources()) == {"jsonl"}
    assert record(host).status == "ok"


def test_a_raising_hook_fails_its_plugin_only() -> None:
    class Raising:
        @hookimpl
        def arbexec_sinks(self) -> list[SinkSpec]:
            raise RuntimeError("no config")

        @hookimpl
        def arbexec_register_commands(self, cli: click.Group) -> str:
            return "oops"

    host = host_with(Raising())
    assert {"jsonl", "stdout"} <= set(host.sinks())
    assert record(host).error == "arbexec_sinks failed: RuntimeError: no config"
    host.register_commands(click.Group("root"))
    assert record(host).error == "arbexec_register_commands returned str; it must return None"


def test_a_hook_wrapper_is_refused_rather_than_wrapping_only_itself() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def arbexec_sinks(self) -> Any:
            return (yield)

    host = host_with(Wrapper())
    assert record(host).status == "failed" and "arbexec_sinks" in (record(host).error or "")
    assert host.pm.get_plugin("local") is None
    assert {"jsonl", "stdout"} <= set(host.sinks())
