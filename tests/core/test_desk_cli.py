"""The operator's desk on the paper venue: status, cancel-all, halt --cancel-open, pnl, pairs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from arbexec_paper.exchange import PaperExchange
from click.testing import CliRunner, Result

from arbexec.cli import cli
from arbexec.journal import Journal
from arbexec.model import OrderRequest

DEPLOY = """
[journal]
path = "journal.sqlite3"

[engine]
wait_budget = 0.05

[venues.paper]
type = "paper"
seed = 1

[[risk.rules]]
rule = "kill_switch"

[[risk.rules]]
rule = "max_exposure"
max_total = "2500"
max_per_market = "800"
"""

MARKET = "PAPER-FED-CUT"


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text(DEPLOY)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["-c", "deploy.toml", *args], catch_exceptions=False)


def place(side: str, quantity: str, price: str, tif: str = "GTC") -> dict[str, Any]:
    result = invoke("--json", "order", "place", "--venue", "paper", "--market", MARKET,
                    "--outcome", "YES", "--side", side, "--quantity", quantity,
                    "--price", price, "--tif", tif)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output.strip().splitlines()[-1]))


def rest() -> dict[str, Any]:
    """A buy far below the market: it rests."""
    order = place("BUY", "5", "0.05")
    assert order["status"] == "OPEN"
    return order


def status_json() -> dict[str, Any]:
    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def journal_status(key: str) -> str:
    journal = Journal.open("journal.sqlite3")
    try:
        row = journal.get(key)
        assert row is not None
        return row.status.value
    finally:
        journal.close()


# ---------------------------------------------------------------------------- status


def test_status_shows_the_halt_with_reason_who_and_when(desk: Path) -> None:
    assert status_json()["halt"]["halted"] is False
    assert invoke("halt", "--reason", "fat finger").exit_code == 0
    report = status_json()
    assert report["halt"]["halted"] is True
    assert report["halt"]["reason"] == "fat finger"
    assert report["halt"]["by"] and report["halt"]["at"]
    table = invoke("status").output
    assert "HALTED: fat finger" in table


def test_status_counts_open_orders_and_holds_exposure_against_each_limit(desk: Path) -> None:
    rest()
    bought = place("BUY", "5", "0.90", "IOC")
    report = status_json()
    assert report["venues"] == [{"venue": "paper", "open": 1, "in_flight": 0,
                                 "breaker": "closed", "breaker_reason": None}]
    exposure = {e["key"]: e for e in report["exposure"]}
    held = Decimal("5") * Decimal("0.05") + Decimal(bought["filled_quantity"]) * Decimal(
        bought["average_price"])
    assert Decimal(exposure["total"]["held"]) == held
    assert exposure["total"]["limit"] == "2500"
    assert Decimal(exposure["total"]["headroom"]) == Decimal(2500) - held
    assert exposure[f"market:paper:{MARKET}"]["limit"] == "800"
    assert exposure["venue:paper"]["limit"] is None
    assert Path(report["journal"]["path"]).name == "journal.sqlite3"
    assert report["journal"]["bytes"] > 0
    table = invoke("status").output
    for header in ("venue", "breaker", "open orders", "scope", "held", "limit", "headroom"):
        assert header in table
    assert "$2500.00" in table


def test_status_counts_an_unanswered_send_as_in_flight(desk: Path) -> None:
    journal = Journal.open("journal.sqlite3")
    try:
        request = OrderRequest(request_id="lost-1", idempotency_key="lost-1", venue="paper",
                               market=MARKET, outcome="YES", side="BUY",
                               quantity=Decimal(3), limit_price=Decimal("0.10"))
        journal.record_intent(request, identity="lost-1", venue_order_id=None)
    finally:
        journal.close()
    assert status_json()["venues"][0]["in_flight"] == 1


def test_status_shows_today_realised_pnl(desk: Path) -> None:
    buy = place("BUY", "5", "0.90", "IOC")
    sell = place("SELL", "2", "0.05", "IOC")
    expected = Decimal(2) * (Decimal(sell["average_price"]) - Decimal(buy["average_price"]))
    expected -= Decimal(buy["fees"]) + Decimal(sell["fees"])
    assert Decimal(status_json()["realised_pnl_today"]) == expected


# ---------------------------------------------------------------------------- halt / resume


def test_halt_when_already_halted_keeps_the_first_reason_and_says_so(desk: Path) -> None:
    assert invoke("halt", "--reason", "first").exit_code == 0
    again = invoke("halt", "--reason", "second")
    assert again.exit_code == 0
    assert "already halted" in again.output and "first" in again.output
    assert status_json()["halt"]["reason"] == "first"
    assert json.loads(invoke("--json", "halt", "--reason", "third").output)[
        "already_halted"] is True


def test_resume_when_not_halted_says_so(desk: Path) -> None:
    result = invoke("resume")
    assert result.exit_code == 0
    assert "not halted" in result.output
    journal = Journal.open("journal.sqlite3")
    try:
        assert list(journal.events(kinds=("resume",))) == []  # nothing was lifted
    finally:
        journal.close()
    invoke("halt")
    assert "resumed" in invoke("resume").output


def test_halt_cancel_open_halts_then_cancels_every_resting_order(desk: Path) -> None:
    order = rest()
    result = invoke("halt", "--cancel-open", "--reason", "drill")
    assert result.exit_code == 0, result.output
    assert "halted: drill" in result.output and "CANCELLED" in result.output
    assert journal_status(order["idempotency_key"]) == "CANCELLED"
    assert status_json()["halt"]["halted"] is True


# ---------------------------------------------------------------------------- cancel-all


def test_cancel_all_uses_the_venue_cancel_all_and_records_every_cancel(desk: Path) -> None:
    first, second = rest(), rest()
    result = invoke("--json", "cancel-all")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["venues"][0]["method"] == "venue cancel-all"
    assert report["venues"][0]["swept"] == 2
    assert {o["idempotency_key"] for o in report["cancelled"]} == {
        first["idempotency_key"], second["idempotency_key"]}
    assert report["failed"] == [] and report["complete"] is True
    assert journal_status(first["idempotency_key"]) == "CANCELLED"
    assert status_json()["venues"][0]["open"] == 0


def test_cancel_all_cancels_each_order_where_the_venue_has_no_cancel_all(
        desk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order = rest()
    monkeypatch.setattr(PaperExchange, "capabilities",
                        attrs.evolve(PaperExchange.capabilities, cancel_all=False))

    async def refuse(self: Any, market: str | None = None) -> int:
        raise AssertionError("cancel-all called on a venue without one")

    monkeypatch.setattr(PaperExchange, "cancel_all_orders", refuse)
    report = json.loads(invoke("cancel-all", "--json").output)
    assert report["venues"][0]["method"] == "each order"
    assert [o["idempotency_key"] for o in report["cancelled"]] == [order["idempotency_key"]]
    assert journal_status(order["idempotency_key"]) == "CANCELLED"


def test_cancel_all_of_one_market_leaves_the_others(desk: Path) -> None:
    order = rest()
    report = json.loads(invoke("--json", "cancel-all", "--market", "OTHER").output)
    assert report["cancelled"] == []
    assert journal_status(order["idempotency_key"]) == "OPEN"


def test_cancel_all_reports_what_it_could_not_cancel_and_exits_3(desk: Path) -> None:
    journal = Journal.open("journal.sqlite3")
    try:
        request = OrderRequest(request_id="lost-1", idempotency_key="lost-1", venue="paper",
                               market=MARKET, outcome="YES", side="BUY",
                               quantity=Decimal(3), limit_price=Decimal("0.10"))
        journal.record_intent(request, identity="lost-1", venue_order_id=None)
    finally:
        journal.close()
    result = invoke("cancel-all")
    assert result.exit_code == 3, result.output
    assert "NOT cancelled" in result.output and "no venue order id" in result.output


def test_cancel_all_refuses_an_unknown_venue_in_one_line(desk: Path) -> None:
    result = invoke("cancel-all", "--venue", "nope")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: venue 'nope' is not configured; configured venues: paper"]


# ---------------------------------------------------------------------------- pnl


def test_pnl_by_day_venue_and_market_and_open_positions_at_cost(desk: Path) -> None:
    buy = place("BUY", "5", "0.90", "IOC")
    sell = place("SELL", "2", "0.05", "IOC")
    average_buy = Decimal(buy["average_price"])
    result = invoke("pnl", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (day,) = report["realised"]
    assert (day["venue"], day["market"]) == ("paper", MARKET)
    expected = Decimal(2) * (Decimal(sell["average_price"]) - average_buy) - Decimal(
        buy["fees"]) - Decimal(sell["fees"])
    assert Decimal(day["realised"]) == expected == Decimal(report["total_realised"])
    (position,) = report["open_positions"]
    assert Decimal(position["quantity"]) == 3
    assert Decimal(position["cost_basis"]) == 3 * average_buy
    table = invoke("pnl").output
    assert "realised" in table and "cost basis" in table and MARKET in table


def test_pnl_of_an_empty_journal_says_so(desk: Path) -> None:
    assert "no fills in the journal" in invoke("pnl").output


# ---------------------------------------------------------------------------- pairs

PAIRS_DEPLOY = """
[journal]
path = "journal.sqlite3"
[engine]
wait_budget = 0.5
[venues.paper-a]
type = "paper"
step_seconds = 0
flush_interval = 0
[venues.paper-a.markets.M]
mid = "0.40"
depth = [100, 200, 300]
volatility = 0.0
[venues.paper-b]
type = "paper"
step_seconds = 0
flush_interval = 0
[venues.paper-b.markets.M]
mid = "0.55"
depth = [100, 200, 300]
volatility = 0.0
"""


def test_pairs_lists_state_legs_edge_and_unwind_loss_from_the_journal(desk: Path) -> None:
    (desk / "deploy.toml").write_text(PAIRS_DEPLOY)
    arb = invoke("--json", "arb", "--leg", "paper-a:M:YES:0.41", "--leg", "paper-b:M:NO:0.46",
                 "--quantity", "10", "--key", "p-1", "--max-unwind-loss", "1")
    assert arb.exit_code == 0, arb.output
    executed = json.loads(arb.output.strip().splitlines()[-1])
    result = invoke("pairs", "--json")
    assert result.exit_code == 0, result.output
    (pair,) = json.loads(result.output)
    assert pair["pair_id"] == "p-1" and pair["state"] == "HEDGED"
    assert pair["realised_edge"] == executed["realised_edge"]
    assert pair["unwind_loss"] == executed["unwind_loss"]
    assert [(leg["leg"], leg["venue"], leg["status"]) for leg in pair["legs"]] == [
        ("a", "paper-a", "FILLED"), ("b", "paper-b", "FILLED")]
    table = invoke("pairs").output
    assert "HEDGED" in table and "paper-a M YES" in table and "edge" in table


# ---------------------------------------------------------------------------- run summary

LINE = ('{{"request_id": "{rid}", "venue": "paper", "market": "PAPER-FED-CUT", '
        '"outcome": "YES", "side": "BUY", "quantity": "5", "limit_price": "{price}", '
        '"time_in_force": "{tif}"}}')


def run_file(*lines: str, json_output: bool = False) -> Result:
    Path("requests.jsonl").write_text("\n".join(lines) + "\n")
    return invoke(*(["--json"] if json_output else []), "run", "requests.jsonl")


def test_a_duplicate_inside_one_file_is_printed_and_named_in_the_summary(desk: Path) -> None:
    line = LINE.format(rid="twice", price="0.90", tif="IOC")
    result = run_file(line, line)
    assert result.exit_code == 0, result.output
    rows = [r for r in result.output.splitlines() if r.startswith("FILLED")]
    assert len(rows) == 2 and "(duplicate key: nothing sent)" in rows[1]
    assert "duplicates: 1 (idempotency key already executed; nothing sent): twice" in (
        result.output)


def test_the_summary_breaks_outcomes_down_by_venue_and_reason_and_points_at_the_journal(
        desk: Path) -> None:
    result = run_file(LINE.format(rid="fills", price="0.90", tif="IOC"),
                      LINE.format(rid="rests", price="0.05", tif="GTC"),
                      LINE.format(rid="offgrid", price="0.055", tif="IOC"))
    assert result.exit_code == 0, result.output
    assert "by venue:  paper filled 1, open 1, denied 1" in result.output
    assert "reasons:   off_grid 1" in result.output
    assert "journal:   journal.sqlite3" in result.output
    assert "still open: 1 order(s)" in result.output
    summary = json.loads(run_file(LINE.format(rid="again", price="0.90", tif="IOC"),
                                  json_output=True).output.strip().splitlines()[-1])["summary"]
    assert summary["by_venue"] == {"paper": {"FILLED": 1}}
    assert summary["still_open"] == 1 and summary["needs_attention"] == []


def test_a_run_that_leaves_an_order_unknown_exits_3_and_says_why(
        desk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from arbexec.errors import AmbiguousSubmission, NetworkError

    async def lost(self: Any, order: Any) -> Any:
        raise AmbiguousSubmission("the answer was lost", venue="paper")

    async def unreachable(self: Any, identity: str) -> Any:
        raise NetworkError("connect failed", venue="paper")

    monkeypatch.setattr(PaperExchange, "create_order", lost)
    monkeypatch.setattr(PaperExchange, "lookup_order", unreachable)
    result = run_file(LINE.format(rid="lost", price="0.90", tif="IOC"))
    assert result.exit_code == 3, result.output
    assert "ATTENTION: 1 order(s) still UNKNOWN" in result.output
    assert "`arbexec reconcile`" in result.output


def test_a_run_halted_on_the_way_exits_3(desk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from arbexec import runner

    real = runner._what_is_left

    def halted_meanwhile(summary: Any, runtime: Any, halted_before: bool) -> None:
        runtime.journal.set_halt(True, reason="pair exposed", by="engine")
        real(summary, runtime, halted_before)

    monkeypatch.setattr(runner, "_what_is_left", halted_meanwhile)
    result = run_file(LINE.format(rid="one", price="0.90", tif="IOC"))
    assert result.exit_code == 3, result.output
    assert "ATTENTION: trading was halted during the run: pair exposed" in result.output


def test_a_sell_shows_its_floor(desk: Path) -> None:
    place("BUY", "5", "0.90", "IOC")
    result = invoke("order", "place", "--venue", "paper", "--market", MARKET, "--outcome",
                    "YES", "--side", "SELL", "--quantity", "2", "--price", "0.05", "--tif",
                    "IOC")
    assert "SELL 2 YES @>=0.05" in result.output
    assert "@>=0.05" in invoke("audit").output


def test_a_pair_result_prints_as_a_row_in_a_run(desk: Path) -> None:
    (desk / "deploy.toml").write_text(PAIRS_DEPLOY)
    pair = {"pair_id": "row-1", "quantity": "10", "max_unwind_loss": "1",
            "legs": [{"venue": "paper-a", "market": "M", "outcome": "YES", "limit_price": "0.41"},
                     {"venue": "paper-b", "market": "M", "outcome": "NO", "limit_price": "0.46"}]}
    result = run_file(json.dumps({"pair": pair}))
    assert result.exit_code == 0, result.output
    assert "[pair.result]" not in result.output and "{'" not in result.output
    (row,) = [line for line in result.output.splitlines() if "row-1" in line
              and "hedged" in line]
    assert row.startswith("HEDGED") and "10/10 hedged" in row
    assert "pairs:     hedged 1" in result.output
