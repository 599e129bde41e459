"""``arbexec plugins``: each plugin's description, what it provides, each rule's parameters
and each venue's capabilities, as text and as JSON."""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from click.testing import CliRunner

from arbexec.cli import cli
from arbexec.exchange import Capabilities
from arbexec.model import TimeInForce
from arbexec.plugin_report import report
from arbexec.plugins import PluginRecord
from arbexec.specs import ExchangeSpec, RiskRuleSpec


def test_the_text_lists_descriptions_parameters_and_capabilities() -> None:
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert metadata.metadata("arbexec-kalshi")["Summary"] in result.stdout
    venue = lines.index(next(line for line in lines if line.startswith("  venue kalshi: ")))
    assert lines[venue + 1].startswith("      can: time in force fok, gtc, gtd, ioc")
    assert "cancel-all" in lines[venue + 1] and "order stream" in lines[venue + 1]
    rule = lines.index(next(line for line in lines if line.startswith("  risk rule order_size")))
    parameters = lines[rule + 1:rule + 5]
    assert "      max_quantity: largest order, in contracts (legacy MAX_TRADE_SIZE)" in (
        parameters)


def test_json_gives_the_same_in_full() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    paper = entries["paper"]
    assert paper["description"] == metadata.metadata("arbexec-paper")["Summary"]
    (venue,) = paper["details"]["exchange"]
    assert venue["name"] == "paper" and venue["description"]
    assert venue["capabilities"]["time_in_force"] == ["fok", "gtc", "gtd", "ioc"]
    assert venue["capabilities"]["cancel_all"] is True
    rules = {r["name"]: r for r in entries["arbexec.builtin.risk"]["details"]["risk_rule"]}
    assert set(rules["max_exposure"]["parameters"]) == {
        "max_per_event", "max_per_market", "max_per_venue", "max_total"}


class _Host:
    """A host offering one venue without declared capabilities and one whose listing
    breaks: the listing says so instead of failing."""

    def __init__(self) -> None:
        def broken() -> Capabilities:
            raise RuntimeError("cannot import its SDK")

        self.specs: dict[tuple[str, str], Any] = {
            ("exchange", "quiet"): ExchangeSpec(name="quiet", factory=lambda s: None,
                                                description="no capabilities declared"),
            ("exchange", "odd"): ExchangeSpec(name="odd", factory=lambda s: None,
                                              capabilities=broken),
            ("exchange", "ioc-only"): ExchangeSpec(
                name="ioc-only", factory=lambda s: None,
                capabilities=lambda: Capabilities(time_in_force=frozenset({TimeInForce.IOC}),
                                                  cancel_all=False)),
            ("risk_rule", "cap"): RiskRuleSpec(name="cap", factory=lambda p: None,
                                               parameters={"limit": "the cap, in dollars"}),
        }

    def records(self) -> list[PluginRecord]:
        return [PluginRecord(name="third", distribution="no-such-dist", version="1",
                             status="ok", provides={"exchange": ("ioc-only", "odd", "quiet"),
                                                    "risk_rule": ("cap",)})]

    def require(self, kind: str, name: str) -> Any:
        return self.specs[(kind, name)]


def test_a_third_party_venue_without_or_with_broken_capabilities_is_listed() -> None:
    (entry,) = report(_Host())  # type: ignore[arg-type]
    assert entry["description"] == ""
    venues = {v["name"]: v for v in entry["details"]["exchange"]}
    assert venues["quiet"]["capabilities"] is None
    assert venues["odd"]["capabilities"] is None
    assert "cannot import its SDK" in venues["odd"]["capabilities_error"]
    assert venues["ioc-only"]["capabilities"]["time_in_force"] == ["ioc"]
    assert venues["ioc-only"]["capabilities"]["cancel_all"] is False
    assert entry["details"]["risk_rule"][0]["parameters"] == {"limit": "the cap, in dollars"}
