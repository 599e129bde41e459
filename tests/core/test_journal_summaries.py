"""The journal's running summaries: equal to a full rebuild, written with their fill, built
by the schema 3 migration, split by UTC day, and what start-up and the desk read."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbexec.cli import cli
from arbexec.desk import pnl_report, rebuild_accounting
from arbexec.journal import SCHEMA_VERSION, Journal, summaries
from arbexec.journal.schema import TABLES
from arbexec.model import Fill, OrderRequest, OrderStatus

D = Decimal
DAY1 = datetime(2026, 12, 1, 23, 59, 58, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime = DAY1) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def request(key: str, side: str = "BUY", market: str = "M", quantity: str = "10",
            price: str = "0.4", outcome: str = "YES") -> OrderRequest:
    return OrderRequest(request_id=f"r-{key}", idempotency_key=key, venue="v", market=market,
                        outcome=outcome, side=side, quantity=quantity, limit_price=price)


def intent(journal: Journal, key: str, **fields: Any) -> None:
    journal.record_intent(request(key, **fields), identity=f"id-{key}",
                          venue_order_id=f"id-{key}")


def fill(trade: str, quantity: str, price: str, fee: str = "0") -> Fill:
    return Fill(trade_id=trade, quantity=quantity, price=price, fee=fee)


# ---------------------------------------------------------------------------- exact figures


def test_a_buy_then_a_closing_sell_book_position_exposure_and_pnl(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3", clock=Clock())
    intent(journal, "b")
    journal.record_state("b", status=OrderStatus.PARTIALLY_FILLED,
                         fills=[fill("t1", "10", "0.4", "0.02")])
    # a live buy's money is in its reservation, not standing yet
    assert journal.market_exposure() == {}
    journal.record_state("b", status=OrderStatus.FILLED)
    assert journal.market_exposure() == {("v", "M"): D("4.0")}
    intent(journal, "s", side="SELL", quantity="4", price="0.5")
    journal.record_state("s", status=OrderStatus.FILLED, fills=[fill("t2", "4", "0.5")])
    assert journal.positions() == {("v", "M", "YES"): (D("6"), D("2.4"))}
    assert journal.market_exposure() == {("v", "M"): D("2.4")}  # 4.0 less 1.6 closed
    # realised: sell 4 at 0.5 against an average of 0.4, less the buy's fee
    assert journal.daily_pnl() == {("2026-12-01", "v", "M"): (D("0.38"), D("0.02"))}
    assert journal.verify() == []
    journal.close()


def test_a_fill_report_repeated_is_booked_once(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    intent(journal, "b")
    provisional = Fill(trade_id="t1", quantity="4", price="0.4", final=False)
    for _ in range(3):
        journal.record_state("b", status=OrderStatus.PARTIALLY_FILLED, fills=[provisional])
    journal.record_state("b", status=OrderStatus.FILLED, fills=[fill("t1", "4", "0.4")])
    assert journal.positions() == {("v", "M", "YES"): (D("4"), D("1.6"))}
    assert journal.market_exposure() == {("v", "M"): D("1.6")}
    journal.close()


def test_an_order_final_with_fills_its_venue_never_listed_gets_one_journal_fill(
        tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    intent(journal, "b")
    journal.record_state("b", status=OrderStatus.FILLED, filled_quantity=D("10"),
                         average_price=D("0.4"), fees=D("0.1"))
    assert [f.trade_id for f in journal.fills("b")] == [summaries.JOURNAL_TRADE]
    assert journal.market_exposure() == {("v", "M"): D("4.0")}
    assert journal.verify() == []
    journal.close()


def test_a_deferred_fill_is_booked_when_its_commit_runs(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    intent(journal, "b")
    journal.record_state("b", status=OrderStatus.FILLED, fills=[fill("t1", "10", "0.4")],
                         defer=True)
    journal.close()  # the deferred write rides on the close's flush
    journal = Journal.open(tmp_path / "j.sqlite3")
    assert journal.positions() == {("v", "M", "YES"): (D("10"), D("4.0"))}
    journal.close()


# ---------------------------------------------------------------------------- one transaction


def test_a_fill_is_never_written_without_its_summary(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    intent(journal, "b")

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process dies while booking")

    monkeypatch.setattr(summaries, "book_fill", crash)
    with pytest.raises(RuntimeError):
        journal.record_state("b", status=OrderStatus.FILLED, fills=[fill("t1", "10", "0.4")])
    journal.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT COUNT(*) FROM fills").fetchone()[0] == 0
        assert db.execute("SELECT status FROM orders").fetchone()[0] == "PENDING"
    finally:
        db.close()


# ---------------------------------------------------------------------------- the UTC day


def test_pnl_falls_on_the_utc_day_it_was_booked_and_start_up_reads_today_only(
        tmp_path: Path) -> None:
    clock = Clock()
    journal = Journal.open(tmp_path / "j.sqlite3", clock=clock)
    intent(journal, "b", quantity="20")
    journal.record_state("b", status=OrderStatus.FILLED, fills=[fill("t1", "20", "0.4")])
    intent(journal, "s1", side="SELL", quantity="5", price="0.5")
    journal.record_state("s1", status=OrderStatus.FILLED, fills=[fill("t2", "5", "0.5")])
    clock.at = DAY1 + timedelta(seconds=3)  # 00:00:01 the next day
    intent(journal, "s2", side="SELL", quantity="5", price="0.3")
    journal.record_state("s2", status=OrderStatus.FILLED, fills=[fill("t3", "5", "0.3")])
    day1, day2 = DAY1.date(), clock.at.date()
    assert journal.realised_on(day1) == D("0.5")
    assert journal.realised_on(day2) == D("-0.5")
    assert [d["day"] for d in pnl_report(journal)["realised"]] == [day1.isoformat(),
                                                                   day2.isoformat()]
    _, book = rebuild_accounting(journal, {}, today=day2)
    assert book._today == D("-0.5") and book._day == day2.isoformat()
    assert journal.verify() == []
    journal.close()


# ---------------------------------------------------------------------------- migration


def v2_journal(path: Path) -> sqlite3.Connection:
    """A schema-2 journal: the tables before summaries, and its version row."""
    db = sqlite3.connect(path)
    for statement in TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO meta VALUES('schema', '2'), ('written_by', '0.9.0')")
    return db


def add_order(db: sqlite3.Connection, key: str, side: str, status: str, *,
              filled: str = "0", average: str | None = None, fees: str = "0",
              executed: str = "2026-11-30T10:00:00+00:00") -> None:
    db.execute(
        "INSERT INTO orders(idempotency_key, request_id, venue, market, outcome, side, "
        "quantity, limit_price, request, status, filled_quantity, average_price, fees, "
        "requested_at, executed_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (key, key, "v", "M", "YES", side, "10", "0.5", "{}", status, filled, average, fees,
         executed, executed, executed))


def test_the_schema_3_migration_builds_the_summaries_from_a_v2_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    db = v2_journal(path)
    add_order(db, "b", "BUY", "FILLED", filled="10", average="0.4")
    db.execute("INSERT INTO fills VALUES('b','t1','v','10','0.4','0.05','TAKER',1,"
               "'2026-11-30T10:00:00+00:00')")
    # a final sell whose venue listed no trades: the rebuild's one fill, at its average
    add_order(db, "s", "SELL", "FILLED", filled="4", average="0.5",
              executed="2026-12-01T09:00:00+00:00")
    add_order(db, "open", "BUY", "OPEN")
    db.execute("INSERT INTO events(at, kind, idempotency_key, data) VALUES("
               "'2026-11-30T10:00:00+00:00', 'order.sent', 'b', "
               "'{\"venue\":\"v\",\"market\":\"M\",\"event\":\"FED\"}')")
    db.commit()
    db.close()

    journal = Journal.open(path)
    assert journal.positions() == {("v", "M", "YES"): (D("6"), D("2.4"))}
    assert journal.market_exposure() == {("v", "M"): D("2.4")}
    assert journal.daily_pnl() == {("2026-11-30", "v", "M"): (D("-0.05"), D("0.05")),
                                   ("2026-12-01", "v", "M"): (D("0.4"), D("0"))}
    assert journal.market_events() == {("v", "M"): "FED"}
    assert journal.verify() == []
    journal.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == str(
        SCHEMA_VERSION)
    db.close()


# ---------------------------------------------------------------------------- verify


def test_journal_verify_says_what_differs_and_exits_non_zero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy.toml").write_text('[journal]\npath = "j.sqlite3"\n\n'
                                          '[venues.paper]\ntype = "paper"\n')
    journal = Journal.open(tmp_path / "j.sqlite3")
    intent(journal, "b")
    journal.record_state("b", status=OrderStatus.FILLED, fills=[fill("t1", "10", "0.4")])
    journal.close()
    ok = CliRunner().invoke(cli, ["-c", "deploy.toml", "journal", "verify"])
    assert ok.exit_code == 0 and "agree" in ok.output
    db = sqlite3.connect(tmp_path / "j.sqlite3")
    db.execute("UPDATE positions SET quantity='11'")
    db.commit()
    db.close()
    bad = CliRunner().invoke(cli, ["-c", "deploy.toml", "journal", "verify"])
    assert bad.exit_code != 0
    assert "position v/M/YES: summary 11 / 4.0, rebuild 10 / 4.0" in bad.output


# ---------------------------------------------------------------------------- bounded reads


def test_the_latest_orders_are_read_backwards_without_a_sort(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    for n in range(5):
        journal.record_intent(
            OrderRequest(request_id=f"r{n}", idempotency_key=f"k{n}", venue="v", market="M",
                         outcome="YES", side="BUY", quantity="1", limit_price="0.5",
                         requested_at=DAY1 + timedelta(minutes=n)),
            identity=f"i{n}", venue_order_id=f"i{n}")
    assert [r.idempotency_key for r in journal.query(limit=2)] == ["k3", "k4"]
    assert [r.idempotency_key for r in journal.query(limit=2, venue="v")] == ["k3", "k4"]
    plan = " ".join(str(r[3]) for r in journal._db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM orders WHERE 1=1 ORDER BY rowid DESC LIMIT 1"))
    assert "TEMP B-TREE" not in plan
    journal.close()


@pytest.mark.parametrize("kind", ["risk.breaker", "pair.result", "risk.daily_loss"])
def test_start_up_reads_the_rules_events_through_the_partial_index(tmp_path: Path,
                                                                   kind: str) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    statements: list[str] = []
    journal._db.set_trace_callback(statements.append)  # the SQL as run, values inlined
    list(journal.events(kinds=(kind,), latest=256))
    journal._db.set_trace_callback(None)
    (read,) = [s for s in statements if s.startswith("SELECT * FROM events")]
    plan = " ".join(str(r[3]) for r in journal._db.execute(f"EXPLAIN QUERY PLAN {read}"))
    assert "events_rare" in plan, plan
    journal.close()


# ---------------------------------------------------------------------------- property


KEYS = ("a", "b", "c", "d")
MARKETS = ("M", "N")
quantities = st.sampled_from(["1", "2", "3", "5", "7", "10"])
prices = st.sampled_from(["0.01", "0.13", "0.37", "0.5", "0.77", "0.99"])
fees = st.sampled_from(["0", "0.01", "0.0333"])

operations = st.lists(st.one_of(
    st.tuples(st.just("intent"), st.sampled_from(KEYS), st.sampled_from(("BUY", "SELL")),
              st.sampled_from(MARKETS)),
    st.tuples(st.just("fill"), st.sampled_from(KEYS), st.integers(0, 5), quantities, prices,
              fees, st.booleans()),
    st.tuples(st.just("final"), st.sampled_from(KEYS),
              st.sampled_from(("FILLED", "CANCELLED", "EXPIRED", "REJECTED"))),
    st.tuples(st.just("unlisted"), st.sampled_from(KEYS), quantities, prices),
    st.tuples(st.just("restart")),
    st.tuples(st.just("next_day")),
    st.tuples(st.just("flush")),
), max_size=40)


def replay(path: Path, ops: list[tuple[Any, ...]]) -> Journal:
    clock = Clock(DAY1 - timedelta(hours=1))
    journal = Journal.open(path, clock=clock)
    for op in ops:
        kind = op[0]
        if kind == "intent":
            _, key, side, market = op
            intent(journal, key, side=side, market=market)
        elif kind == "fill":
            _, key, trade, quantity, price, fee, defer = op
            journal.record_state(key, status=OrderStatus.PARTIALLY_FILLED,
                                 fills=[fill(f"{key}-t{trade}", quantity, price, fee)],
                                 defer=defer)
        elif kind == "final":
            journal.record_state(op[1], status=OrderStatus(op[2]))
        elif kind == "unlisted":  # a venue reporting a final fill and listing no trades
            _, key, quantity, price = op
            journal.record_state(key, status=OrderStatus.FILLED, filled_quantity=D(quantity),
                                 average_price=D(price), fees=D("0.01"))
        elif kind == "restart":
            journal.close()  # deferred writes commit on close, as at a clean stop
            journal = Journal.open(path, clock=clock)
        elif kind == "next_day":
            clock.at += timedelta(hours=13)
        else:
            journal.flush()
    return journal


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_fills_cancels_and_restarts_keep_the_summaries_equal_to_a_rebuild(
        tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[Any, ...]]) -> None:
    path = tmp_path_factory.mktemp("summaries") / "j.sqlite3"
    journal = replay(path, ops)
    try:
        summary, rebuilt = journal.summary_figures(), journal.rebuilt_figures()
        assert summary.differences(rebuilt) == []
        assert summary == rebuilt
        # start-up restores exactly the summary's positions and exposure
        ledger, book = rebuild_accounting(journal, {})
        held = {k: (b.quantity, b.cost) for k, b in book.holdings().items()}
        assert held == summary.positions
        if not journal.non_final():
            for (venue, market), amount in summary.exposure.items():
                assert ledger.exposure_now(f"market:{venue}:{market}") == max(amount, D(0))
        for row in journal.non_final():  # every order final: all its money stands
            journal.record_state(row.idempotency_key, status=OrderStatus.CANCELLED)
        assert journal.summary_figures().differences(journal.rebuilt_figures()) == []
        assert_average_cost(journal)
    finally:
        journal.close()


def close_to(a: Decimal, b: Fraction) -> bool:
    return abs(Fraction(a) - b) < Fraction(1, 10**18)


def assert_average_cost(journal: Journal) -> None:
    """The summaries against a textbook average-cost book kept in exact fractions, fed the
    journal's fills in the order it wrote them: a buy adds at its price; a sell closes the
    contracts held at their average and opens its excess as the other outcome bought at
    1 - p (as the venue holds it); per market the money at risk is the cost of what is held.
    """
    book: dict[tuple[str, str, str], tuple[Fraction, Fraction]] = {}
    realised = Fraction(0)
    for q, p, fee, venue, market, outcome, side in journal._db.execute(
            "SELECT f.quantity, f.price, f.fee, o.venue, o.market, "
            "o.outcome, o.side FROM fills f JOIN orders o USING (idempotency_key) "
            "ORDER BY f.rowid"):
        quantity, cost = book.get((venue, market, outcome), (Fraction(0), Fraction(0)))
        traded, price = Fraction(D(q)), Fraction(D(p))
        realised -= Fraction(D(fee))
        if side == "BUY":
            book[(venue, market, outcome)] = (quantity + traded, cost + traded * price)
            continue
        closing = min(traded, quantity)
        if closing:
            average = cost / quantity
            realised += closing * (price - average)
            quantity, cost = quantity - closing, cost - closing * average
        book[(venue, market, outcome)] = (quantity, cost)
        if traded > closing:
            other = (venue, market, "NO" if outcome == "YES" else "YES")
            held, basis = book.get(other, (Fraction(0), Fraction(0)))
            book[other] = (held + traded - closing, basis + (traded - closing) * (1 - price))
    positions = journal.positions()
    assert set(positions) == set(book)
    for where, (quantity, cost) in book.items():
        assert positions[where][0] == quantity, where
        assert close_to(positions[where][1], cost), (where, positions[where], cost)
    assert close_to(sum((r for r, _ in journal.daily_pnl().values()), D(0)), realised)
    at_risk: dict[tuple[str, str], Fraction] = {}
    for (venue, market, _), (quantity, cost) in book.items():
        assert quantity >= 0, (venue, market, quantity)  # never below zero
        at_risk[(venue, market)] = at_risk.get((venue, market), Fraction(0)) + cost
    exposure = journal.market_exposure()
    for where, amount in at_risk.items():
        assert close_to(exposure.get(where, D(0)), amount), (where, exposure, amount)


def test_the_engine_restores_positions_and_today_pnl_from_the_summaries(
        tmp_path: Path) -> None:
    from arbexec.engine import Engine
    from arbexec.halt import JournalHaltFlag
    from arbexec.sinks.hub import SinkHub

    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    intent(journal, "b")
    journal.record_state("b", status=OrderStatus.FILLED, fills=[fill("t1", "10", "0.4")])
    intent(journal, "s", side="SELL", quantity="4", price="0.5")
    journal.record_state("s", status=OrderStatus.FILLED, fills=[fill("t2", "4", "0.5")])
    journal.close()

    journal = Journal.open(path)
    engine = Engine(journal=journal, venues={}, halt=JournalHaltFlag(journal), hub=SinkHub([]))

    async def start() -> None:
        await engine.start()
        await engine.aclose(close_venues=False)

    asyncio.run(start())
    accounting = engine._accounting
    assert accounting.positions.held("v", "M", "YES") == D("6")
    assert accounting.today_pnl() == D("0.4")
    assert accounting.ledger.exposure_now("market:v:M") == D("2.4")
    journal.close()


def test_a_fill_reported_again_after_a_restart_keeps_the_order_s_booking(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal.open(path)
    intent(journal, "b")
    journal.record_state("b", status=OrderStatus.PARTIALLY_FILLED, fills=[fill("t1", "1", "0.01")])
    journal.close()
    journal = Journal.open(path)  # the running summaries' cache starts empty
    journal.record_state("b", status=OrderStatus.PARTIALLY_FILLED, fills=[fill("t1", "1", "0.01")])
    journal.record_state("b", status=OrderStatus.CANCELLED)
    # the buy's 0.01 stands, and its booking is gone with its final state
    assert journal.market_exposure() == {("v", "M"): D("0.01")}
    assert journal.summary_figures().bookings == {}
    assert journal.verify() == []
    journal.close()
