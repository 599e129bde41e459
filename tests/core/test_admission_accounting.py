"""The engine's admission and accounting figure by figure: the restart reservation claim by
claim, a settle for a venue that lists no trades, an event learnt after its keys were
cached, the ledger's refusal in words, an admitted order not sent giving its hold back (and
a breaker's probe slot), ``risk explain`` answering every verdict and claim, and what the
rules are given: the cash resting buys hold, today's P&L after a restart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec.engine import Engine, EngineSettings
from arbexec.engine.accounting import Accounting
from arbexec.engine.admission import breach_message, opening_of
from arbexec.engine.live import LiveOrder
from arbexec.errors import UserError
from arbexec.exchange import Capabilities, PreparedOrder
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal, JournalRow
from arbexec.ledger import InMemoryLedger
from arbexec.model import Balance, Fill, OrderRequest, OrderStatus, Side, now_utc
from arbexec.positions import PositionBook
from arbexec.risk.base import Claim, ClaimKind
from arbexec.risk.policy import load_policy
from arbexec.risk.rules import builtin_specs
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import FILL, REJECT, REST, ScriptedVenue

INF = Decimal("Infinity")


class RecordingLedger(InMemoryLedger):
    def __init__(self) -> None:
        super().__init__()
        self.reserved: dict[str, list[Claim]] = {}

    async def try_reserve(self, holder: str, claims: Sequence[Claim]) -> Claim | None:
        self.reserved[holder] = list(claims)
        return await super().try_reserve(holder, claims)


def row(side: str, *, quantity: str = "10", limit: str = "0.40", filled: str = "0",
        average: str | None = None) -> JournalRow:
    now = now_utc()
    return JournalRow(
        idempotency_key="k", request_id="r", venue="v", market="M", outcome="YES", side=side,
        quantity=Decimal(quantity), limit_price=Decimal(limit), request={},
        status=OrderStatus.PARTIALLY_FILLED, reason_code=None, reason=None, identity="i",
        venue_order_id="o", filled_quantity=Decimal(filled),
        average_price=None if average is None else Decimal(average), fees=Decimal(0),
        pair_id=None, requested_at=now, acknowledged_at=now, executed_at=None,
        latency_ack_ms=None, latency_final_ms=None, updated_at=now)


def accounting(events: dict[str, str] | None = None) -> tuple[Accounting, RecordingLedger]:
    ledger = RecordingLedger()
    return Accounting(ledger=ledger, positions=PositionBook(),
                      market_events=events or {}), ledger


def restored(key: str, amount: str, kind: ClaimKind) -> Claim:
    return Claim(key=key, amount=Decimal(amount), limit=INF, rule="restart", code="restored",
                 kind=kind)


SLOTS = [restored("open_orders:market:v:M", "1", ClaimKind.HOLD),
         restored("open_orders:total", "1", ClaimKind.HOLD)]
SCOPES = ["total", "venue:v", "event:v:E", "market:v:M"]


async def test_a_restored_buy_holds_its_fills_money_and_its_remainder_at_the_limit() -> None:
    books, ledger = accounting({"v:M": "E"})
    # the fills listed (3 at 0.38 + 1 at 0.39) count, not the row's stale filled figure
    fills = [Fill(trade_id="t1", quantity="3", price="0.38"),
             Fill(trade_id="t2", quantity="1", price="0.39")]
    await books.restore(row("BUY", filled="2", average="0.30"), fills)
    amount = "3.93"  # 1.14 + 0.39 taken, 6 x 0.40 still open
    assert ledger.reserved["k"] == [
        *SLOTS, *(restored(key, amount, ClaimKind.EXPOSURE) for key in SCOPES),
        restored("cash:v", "2.40", ClaimKind.HOLD)]
    assert await ledger.exposure("event:v:E") == Decimal(amount)


async def test_a_restored_buy_without_its_fills_uses_the_row_s_figures() -> None:
    books, ledger = accounting({"v:M": "E"})
    await books.restore(row("BUY", filled="4", average="0.35"), [])
    # 4 x 0.35 taken + 6 x 0.40 open
    assert [c.amount for c in ledger.reserved["k"]][2:] == [Decimal("3.80")] * 4 + [
        Decimal("2.40")]


async def test_a_restored_sell_holds_the_contracts_it_closes_and_the_risk_it_opens() -> None:
    books, ledger = accounting({"v:M": "E"})
    # 10 to sell, 4 filled, 3 of the 10 beyond the position: the 6 left close 3 and open 3
    await books.restore(row("SELL", filled="4", limit="0.70"), [], opening=Decimal(3))
    at_risk = "0.90"  # 3 x (1 - 0.70)
    assert ledger.reserved["k"] == [
        *SLOTS, restored("position:v:M:YES", "3", ClaimKind.HOLD),
        *(restored(key, at_risk, ClaimKind.EXPOSURE) for key in SCOPES),
        restored("cash:v", at_risk, ClaimKind.HOLD)]


async def test_a_restored_sell_within_the_position_holds_contracts_only() -> None:
    books, ledger = accounting()
    await books.restore(row("SELL", filled="4"), [])
    assert ledger.reserved["k"] == [*SLOTS, restored("position:v:M:YES", "6", ClaimKind.HOLD)]


async def test_a_buy_on_a_venue_that_lists_no_trades_settles_at_its_average() -> None:
    books, ledger = accounting()
    request = OrderRequest(request_id="r", idempotency_key="k", venue="v", market="M",
                           outcome="YES", side="BUY", quantity="10", limit_price="0.40")
    await ledger.try_reserve("k", [Claim(key=key, amount=Decimal(4), limit=INF, rule="x", code="x")
                                   for key in books.keys("v", "M")])
    live = LiveOrder(key="k", request=request, identity="i", venue_order_id="o",
                     status=OrderStatus.FILLED, started=0.0, filled=Decimal(10),
                     average_price=Decimal("0.37"))
    await books.settle(live)
    assert await ledger.exposure("total") == Decimal("3.70")


async def test_an_event_learnt_after_the_keys_were_cached_replaces_them() -> None:
    books, _ = accounting()
    assert books.keys("v", "M")[2] == "event:v:M"
    books.learn_event("v", "M", "E")
    assert books.keys("v", "M") == SCOPES


def test_the_ledger_s_refusal_says_what_the_claim_would_reach() -> None:
    exposure = Claim(key="total", amount=Decimal(3), limit=Decimal(10), rule="max_exposure",
                     code="exposure_total")
    window = Claim(key="rate:v", amount=Decimal(1), limit=Decimal(5), rule="order_rate",
                   code="rate", kind=ClaimKind.WINDOW, window_seconds=1.0)
    hold = Claim(key="cash:v", amount=Decimal(2), limit=Decimal(4), rule="available_balance",
                 code="balance", kind=ClaimKind.HOLD)
    assert breach_message(exposure, Decimal(8)) == (
        "total exposure would be 11 against a limit of 10")
    assert breach_message(window, Decimal(5)) == (
        "rate:v would count 6 in its 1s window against a limit of 5")
    assert breach_message(hold, Decimal(3)) == "cash:v would hold 5 against a limit of 4"


class RefusesToPrepare(ScriptedVenue):
    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        if request.idempotency_key == "bad":
            raise UserError("no such market shape")
        return await super().prepare_order(request)


def engine_over(journal: Journal, venue: Any, policy: Any) -> Engine:
    engine = Engine(journal=journal, venues={venue.name: venue},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]),
                    settings=EngineSettings(wait_budget=0.0, background_tracking=False,
                                            poll_interval=0.01, unknown_grace=60.0))
    engine.policy = policy
    return engine


def order(key: str, **overrides: Any) -> OrderRequest:
    values: dict[str, Any] = dict(request_id=f"r-{key}", idempotency_key=key,
                                  venue="scripted", market="M", outcome="YES", side="BUY",
                                  quantity="10", limit_price="0.50")
    values.update(overrides)
    return OrderRequest(**values)


async def test_an_admitted_order_its_venue_cannot_prepare_gives_its_hold_back(
        tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    policy = load_policy([{"rule": "max_exposure", "max_total": "5"}],
                         available=builtin_specs(), source="test")
    engine = engine_over(journal, RefusesToPrepare(default=FILL), policy)
    await engine.start()
    refused = await engine.submit(order("bad"))
    held = await engine.ledger.exposure("total")
    filled = await engine.submit(order("good"))  # the whole 5 is free again
    await engine.aclose()
    journal.close()
    assert refused.status is OrderStatus.DENIED
    assert held == 0
    assert filled.status is OrderStatus.FILLED


async def test_explain_answers_every_verdict_and_claim(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    policy = load_policy([{"rule": "max_exposure", "max_total": "4"}],
                         available=builtin_specs(), source="test")
    venue = ScriptedVenue(default=FILL, capabilities=Capabilities(post_only=False))
    engine = engine_over(journal, venue, policy)
    await engine.start()
    over = await engine.explain(order("a"))  # 10 x 0.50 = 5 of 4
    unknown = await engine.explain(order("b", venue="nowhere"))
    post_only = await engine.explain(order("c", post_only=True, time_in_force="GTC"))
    await engine.aclose()
    journal.close()
    assert over.allowed is False
    assert over.verdicts == (
        {"rule": "kill_switch", "allowed": True, "code": None, "message": "", "figures": {}},
        {"rule": "max_exposure", "allowed": False, "code": "exposure_total",
         "message": "total exposure would be 5.00 (0 held or reserved + 5.00 for this order) "
                    "under total, above the limit of 4",
         "figures": {"limit": "4", "actual": "5.00", "current": "0", "requested": "5.00",
                     "key": "total"}})
    assert over.claims == ()
    assert unknown.allowed is False and unknown.claims == ()
    assert unknown.verdicts == ({"rule": "routing", "allowed": False, "code": "unknown_venue",
                                 "message": "venue 'nowhere' is not configured",
                                 "figures": {}},)
    assert post_only.verdicts == ({
        "rule": "venue", "allowed": False, "code": "unsupported_post_only",
        "message": "venue 'scripted' does not support post-only orders", "figures": {}},)


async def test_explain_lists_the_claims_of_an_allowed_order(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    policy = load_policy([{"rule": "max_exposure", "max_total": "6"}],
                         available=builtin_specs(), source="test")
    engine = engine_over(journal, ScriptedVenue(default=FILL), policy)
    await engine.start()
    allowed = await engine.explain(order("a"))
    await engine.aclose()
    journal.close()
    assert allowed.allowed is True
    assert [(v["rule"], v["allowed"]) for v in allowed.verdicts] == [
        ("kill_switch", True), ("max_exposure", True)]
    assert allowed.claims == ({"key": "total", "amount": Decimal(5), "limit": Decimal(6)},)


def rules(*tables: dict[str, Any]) -> Any:
    return load_policy(list(tables), available=builtin_specs(), source="test")


async def test_the_rules_see_the_engine_s_open_orders_for_this_venue_and_market(
        tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = engine_over(journal, ScriptedVenue(default=REST),
                         rules({"rule": "max_open_orders", "per_market": 1, "total": 2}))
    await engine.start()
    first = await engine.submit(order("a"))
    same_market = await engine.submit(order("b"))
    other = await engine.submit(order("c", market="N"))
    third = await engine.submit(order("d", market="P"))
    await engine.aclose()
    journal.close()
    assert (first.status, other.status) == (OrderStatus.OPEN, OrderStatus.OPEN)
    assert (same_market.reason_code, same_market.reason) == (
        "open_orders_market", "1 orders are already open on M; the limit is 1")
    assert (third.reason_code, third.reason) == (
        "open_orders_total", "2 orders are already open; the limit is 2")


async def test_the_rules_see_the_venue_s_health(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = engine_over(journal, ScriptedVenue(default=FILL),
                         rules({"rule": "order_rate", "per_minute": 1}))
    await engine.start()
    first = await engine.submit(order("a"))
    second = await engine.submit(order("b"))
    await engine.aclose()
    journal.close()
    assert first.status is OrderStatus.FILLED
    assert second.reason_code == "rate_per_minute"
    assert (second.reason or "").startswith("1 orders went to scripted in the last minute")


async def test_the_configured_event_of_a_market_joins_its_exposure(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    venue = ScriptedVenue(default=FILL)
    engine = Engine(journal=journal, venues={venue.name: venue},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]),
                    settings=EngineSettings(wait_budget=0.0, background_tracking=False,
                                            poll_interval=0.01, unknown_grace=60.0),
                    market_events={"scripted:M": "E", "scripted:N": "E"})
    engine.policy = rules({"rule": "max_exposure", "max_per_event": "8"})
    await engine.start()
    first = await engine.submit(order("a"))  # 5 of the event's 8
    second = await engine.submit(order("b", market="N"))  # 5 more in the same event
    await engine.aclose()
    journal.close()
    assert first.status is OrderStatus.FILLED
    assert second.reason_code == "exposure_event", second.reason


async def test_a_restored_sell_opening_one_contract_holds_its_risk() -> None:
    books, ledger = accounting({"v:M": "E"})
    await books.restore(row("SELL", limit="0.70"), [], opening=Decimal(1))
    assert restored("total", "0.30", ClaimKind.EXPOSURE) in ledger.reserved["k"]
    assert restored("cash:v", "0.30", ClaimKind.HOLD) in ledger.reserved["k"]


async def test_fills_booked_from_the_journal_are_not_booked_again() -> None:
    books, _ = accounting()
    request = OrderRequest(request_id="r", idempotency_key="k", venue="v", market="M",
                           outcome="YES", side="BUY", quantity="10", limit_price="0.40")
    live = LiveOrder(key="k", request=request, identity="i", venue_order_id="o",
                     status=OrderStatus.OPEN, started=0.0)
    fills = [Fill(trade_id="t1", quantity="4", price="0.40")]
    books.booked(live, fills)  # already in positions (restored from the journal)
    await books.book(live, fills)  # the venue reports the same trade again
    assert books.positions.held("v", "M", "YES") == 0


def live_order(side: str) -> LiveOrder:
    request = OrderRequest(request_id="r", idempotency_key="k", venue="v", market="M",
                           outcome="YES", side=side, quantity="10", limit_price="0.40")
    return LiveOrder(key="k", request=request, identity="i", venue_order_id="o",
                     status=OrderStatus.FILLED, started=0.0)


async def test_a_buy_s_trades_reported_after_it_settled_reach_the_ledger_at_once() -> None:
    books, ledger = accounting()
    await books.book(live_order("BUY"), [Fill(trade_id="t1", quantity="4", price="0.40")],
                     after_final=True)
    assert await ledger.exposure("market:v:M") == Decimal("1.60")
    assert books.positions.held("v", "M", "YES") == 4


async def test_a_sell_s_trades_after_it_settled_add_what_they_opened_and_their_p_and_l(
        ) -> None:
    books, ledger = accounting()
    await books.book(live_order("BUY"), [Fill(trade_id="b1", quantity="2", price="0.40")],
                     after_final=True)
    sell = live_order("SELL")
    # 2 held: the first trade closes them at a profit of 0.60, the next two open 3 and 1
    await books.book(sell, [Fill(trade_id="s1", quantity="2", price="0.70")],
                     after_final=True)
    await books.book(sell, [Fill(trade_id="s2", quantity="3", price="0.70")],
                     after_final=True)
    assert await ledger.exposure("total") == Decimal("0.90")  # 0.80 closed, 0.90 opened
    await books.book(sell, [Fill(trade_id="s3", quantity="1", price="0.80")],
                     after_final=True)
    assert sell.opened == Decimal("1.10")  # 3 x (1 - 0.70) + 1 x (1 - 0.80)
    assert sell.booking.realised == Decimal("0.60")
    assert books.today_pnl() == Decimal("0.60")


class FailingBalance(ScriptedVenue):
    async def fetch_balance(self) -> Any:
        raise RuntimeError("plugin bug")


async def test_a_plugin_bug_in_a_read_for_the_policy_denies_and_is_logged(
        tmp_path: Path, caplog: Any) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    engine = engine_over(journal, FailingBalance(default=FILL),
                         rules({"rule": "available_balance"}))
    await engine.start()
    with caplog.at_level("ERROR", logger="arbexec.engine"):
        result = await engine.submit(order("a"))
    await engine.aclose()
    journal.close()
    assert result.status is OrderStatus.DENIED
    assert (result.reason_code, result.reason) == (
        "risk_data_unavailable",
        "could not fetch what the risk policy needs from scripted: plugin bug")
    assert "venue scripted failed a read for the risk policy" in caplog.messages


def clocked(journal: Journal, venue: Any, policy: Any, now: list[datetime]) -> Engine:
    """An engine whose rules read ``now[0]`` (a test moves it past a cool-down)."""
    engine = Engine(journal=journal, venues={venue.name: venue},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]), policy=policy,
                    settings=EngineSettings(wait_budget=0.0, background_tracking=False,
                                            poll_interval=0.01, unknown_grace=60.0),
                    clock=lambda: now[0])
    return engine


async def test_a_probe_its_venue_cannot_prepare_gives_the_probe_slot_back(
        tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    venue = RefusesToPrepare(default=FILL)
    venue.script("M", REJECT)
    now = [now_utc()]
    engine = clocked(journal, venue, rules({
        "rule": "circuit_breaker", "max_reject_rate": "0.5", "min_orders": 1,
        "cooldown_seconds": 30}), now)
    await engine.start()
    rejected = await engine.submit(order("a"))  # 1 of 1 rejected: the breaker opens
    now[0] += timedelta(seconds=31)
    unprepared = await engine.submit(order("bad"))  # takes the half-open probe slot ...
    probe = await engine.submit(order("good"))  # ... and gives it back: this one probes
    await engine.aclose()
    journal.close()
    assert rejected.status is OrderStatus.REJECTED
    assert unprepared.status is OrderStatus.DENIED
    assert unprepared.reason_code != "breaker_open", unprepared.reason
    assert probe.status is OrderStatus.FILLED, probe.reason


def test_a_sell_no_money_rule_judged_opens_nothing_it_must_hold() -> None:
    sell = order("s", side="SELL")
    assert opening_of(sell, ()) == 0
    other = Claim(key="cash:scripted", amount=Decimal(5), limit=INF, rule="x", code="x")
    assert opening_of(sell, (other,)) == 0
    held = Claim(key="position:scripted:M:YES", amount=Decimal(4), limit=Decimal(4),
                 rule="x", code="x", kind=ClaimKind.HOLD)
    assert opening_of(sell, (other, held)) == 6


async def test_a_resting_sell_no_money_rule_judged_holds_no_risk_after_a_restart(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    slots = rules({"rule": "max_open_orders", "total": 10})
    journal = Journal.open(path)
    engine = engine_over(journal, ScriptedVenue(default=REST), slots)
    await engine.start()
    resting = await engine.submit(order("s", side="SELL", limit_price="0.70"))
    await engine.aclose()
    journal.close()
    journal = Journal.open(path)
    again = engine_over(journal, ScriptedVenue(default=REST), slots)
    await again.start()  # the sell is live again: its open-order slots, no money
    total, cash = await again.ledger.exposure("total"), await again.ledger.exposure(
        "cash:scripted")
    slots_held = await again.ledger.exposure("open_orders:total")
    await again.aclose()
    journal.close()
    assert resting.status is OrderStatus.OPEN
    assert slots_held == 1
    assert (total, cash) == (0, 0)  # not (1 - 0.70) for a contract it was never judged to open


class DeductsRestingBuys(ScriptedVenue):
    """A venue whose available cash already leaves out what its resting buys hold."""

    async def fetch_balance(self) -> Balance:
        resting = sum((s.remaining * s.limit_price for s in self.orders.values()
                       if s.status.is_live and s.side is Side.BUY), Decimal(0))
        return Balance(venue=self.name, total=self.cash, available=self.cash - resting)


async def test_the_rules_see_the_cash_this_engine_s_resting_buys_hold(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    venue = DeductsRestingBuys(default=REST, cash=Decimal(8))
    engine = engine_over(journal, venue, rules({"rule": "available_balance"}))
    await engine.start()
    resting = await engine.submit(order("a"))  # 10 x 0.50: 5 of the 8 held, 3 available
    fits = await engine.submit(order("b", quantity="4"))  # 2.00 of the 3 left
    too_much = await engine.submit(order("c", quantity="4"))  # 2.00 more: 1 left
    await engine.aclose()
    journal.close()
    assert (resting.status, fits.status) == (OrderStatus.OPEN, OrderStatus.OPEN), fits.reason
    assert too_much.reason_code == "insufficient_balance"
    assert too_much.reason == (
        "the order needs 2.00 but 1.00 is free on scripted after 7.00 held by resting orders")


async def test_a_restart_on_a_day_with_losses_keeps_the_daily_loss_limit(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    engine = engine_over(journal, ScriptedVenue(default=FILL),
                         rules({"rule": "max_open_orders", "total": 10}))
    await engine.start()
    bought = await engine.submit(order("b", limit_price="0.60"))
    sold = await engine.submit(order("s", side="SELL", limit_price="0.40"))  # 2.00 lost
    await engine.aclose()
    journal.close()
    journal = Journal.open(path)
    # a new process: the rule has observed nothing; only the engine's figure knows the loss
    again = engine_over(journal, ScriptedVenue(default=FILL),
                        rules({"rule": "daily_loss", "max_loss": "2"}))
    await again.start()
    after = await again.submit(order("c", quantity="1"))
    await again.aclose()
    journal.close()
    assert (bought.status, sold.status) == (OrderStatus.FILLED, OrderStatus.FILLED)
    assert after.status is OrderStatus.DENIED
    assert (after.reason_code, after.reason) == (
        "daily_loss_limit", "realised loss today is 2.00 (fees included), at or above the "
        "daily limit of 2; no new risk until midnight UTC")
