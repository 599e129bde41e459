"""Money-path defects the engine's structure once let through, each pinned by a test.

Every test drives the public engine (submit, start, reconcile) against a scripted venue and
checks what a trader would: exposure held, what the journal says, what the sinks saw.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve

from arbexec.engine import Engine, EngineSettings, PolicyLike
from arbexec.engine.admission import HALT_PASSED
from arbexec.errors import DuplicateOrder, UserError
from arbexec.exchange import Capabilities, PreparedOrder
from arbexec.halt import JournalHaltFlag
from arbexec.journal import Journal
from arbexec.ledger import ExposureLedger, InMemoryLedger
from arbexec.model import (
    Balance,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    TimeInForce,
    now_utc,
)
from arbexec.reconcile_report import full_report
from arbexec.risk.base import RISK_REDUCING_TAG
from arbexec.risk.policy import load_policy
from arbexec.risk.rules import builtin_specs
from arbexec.sinks.builtin import JsonlSink
from arbexec.sinks.hub import SinkHub
from arbexec.testing.scripted_venue import LOSE_ORDER, PARTIAL, REST, ScriptedVenue


def request(key: str, market: str = "M", **overrides: object) -> OrderRequest:
    values: dict[str, object] = dict(request_id=f"r-{key}", idempotency_key=key,
                                     venue="scripted", market=market, outcome="YES", side="BUY",
                                     quantity="10", limit_price="0.50")
    values.update(overrides)
    return OrderRequest(**values)  # type: ignore[arg-type]


def make_engine(journal: Journal, venue: Any, *, policy: Any = None, hub: SinkHub | None = None,
                clock: Any = None, **settings: Any) -> Engine:
    options: dict[str, Any] = dict(wait_budget=0.0, background_tracking=False,
                                   poll_interval=0.01, unknown_grace=60.0)
    options.update(settings)
    extra: dict[str, Any] = {}
    if "ledger" in options:
        extra["ledger"] = options.pop("ledger")
    if policy is not None:
        extra["policy"] = policy
    if clock is not None:
        extra["clock"] = clock
    return Engine(journal=journal, venues={venue.name: venue}, halt=JournalHaltFlag(journal),
                  hub=hub or SinkHub([]), settings=EngineSettings(**options), **extra)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def journals(path: Path) -> Iterator[list[Journal]]:
    opened: list[Journal] = []
    yield opened
    for journal in opened:
        journal.close()


def reopen(path: Path, journals: list[Journal]) -> Journal:
    if journals:
        journals[-1].close()
        journals.pop()
    journal = Journal.open(path)
    journals.append(journal)
    return journal


def exposure_limit(total: str) -> Any:
    return load_policy([{"rule": "max_exposure", "max_total": total}],
                       available=builtin_specs(), source="test")


# ---------------------------------------------------------------- 1: dedupe before the ledger

async def test_resubmitting_a_resting_key_keeps_its_exposure_hold(path: Path,
                                                                 journals: list[Journal]
                                                                 ) -> None:
    journal = reopen(path, journals)
    venue = ScriptedVenue(default=REST)
    engine = make_engine(journal, venue, policy=exposure_limit("150"))
    await engine.start()
    first = await engine.submit(request("a", quantity="100"))  # 100 x 0.50 = 50 resting
    assert first.status is OrderStatus.OPEN
    again = await engine.submit(request("a", quantity="100"))
    assert again.duplicate and again.status is OrderStatus.OPEN
    assert await engine.ledger.exposure("total") == Decimal(50)
    more = [await engine.submit(request(f"b{i}", quantity="100")) for i in range(4)]
    assert [r.status for r in more].count(OrderStatus.OPEN) == 2  # 150 limit: 50 + 2 x 50
    assert len(venue.sent) == 3
    await engine.aclose()


# ---------------------------------------------------------------- 2: restart, partial fill

async def test_restart_holds_a_partial_orders_fills_and_its_unfilled_remainder(
    path: Path, journals: list[Journal]
) -> None:
    venue = ScriptedVenue(default=REST)
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    result = await engine.submit(request("p"))  # 10 x 0.50 resting
    await engine.aclose()
    identity = venue.sent[0]
    fill = Fill(trade_id="t1", quantity=Decimal(5), price=Decimal("0.40"))
    venue.orders[identity] = evolve(venue.orders[identity],
                                    status=OrderStatus.PARTIALLY_FILLED,
                                    filled_quantity=Decimal(5),
                                    average_price=Decimal("0.40"), fills=(fill,))
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    # the journal knew no fill at start: the whole order is held at its limit
    assert await engine.ledger.exposure("total") == Decimal("5.00")
    await engine.reconcile()
    await engine.aclose()
    # with the partial fill in the journal at start: 5 bought at 0.40 (2.00) and the
    # unfilled remainder of 5 at 0.50 (2.50) are held, nothing more, nothing less
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    assert await engine.ledger.exposure("total") == Decimal("4.50")
    venue.complete(identity)  # the remainder fills at 0.50
    await engine.reconcile()
    assert await engine.ledger.exposure("total") == Decimal("4.50")
    await engine.aclose()
    assert result.status is OrderStatus.OPEN


# ---------------------------------------------------------------- 3: acknowledged, not found

class ForgetfulVenue(ScriptedVenue):
    """Knows its orders by id but its lookup by identity finds nothing (as Kalshi's lookup
    of recent orders only, or Polymarket's empty answers)."""

    async def lookup_order(self, identity: str) -> OrderState | None:
        return None


async def test_an_acknowledged_order_the_lookup_misses_is_a_mismatch_not_never_received(
    path: Path, journals: list[Journal]
) -> None:
    venue = ForgetfulVenue(default=REST)
    engine = make_engine(reopen(path, journals), venue, unknown_grace=0.0)
    await engine.start()
    assert (await engine.submit(request("gtc"))).status is OrderStatus.OPEN
    await engine.aclose()
    journal = reopen(path, journals)
    venue.orders.clear()  # nothing answers for it any more, by identity or by id
    engine = make_engine(journal, venue, unknown_grace=0.0)
    await engine.start()
    report = await engine.reconcile()
    row = journal.get("gtc")
    assert row is not None and row.status is OrderStatus.OPEN
    assert report[0]["now"] == "OPEN" and "mismatch" in report[0]["note"]
    assert await engine.ledger.exposure("total") == Decimal(5)  # exposure kept
    assert engine.tracking("gtc")  # still followed
    kinds = [event.kind for _, event in journal.events(key="gtc")]
    assert "reconcile.mismatch" in kinds
    await engine.aclose()


# ---------------------------------------------------------------- issue 13.1: the grace

async def test_never_received_waits_for_the_grace_in_wall_clock_time_across_restarts(
    path: Path, journals: list[Journal]
) -> None:
    venue = ScriptedVenue()
    venue.script("M", LOSE_ORDER)
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    assert (await engine.submit(request("u"))).status is OrderStatus.UNKNOWN
    await engine.aclose()
    journal = reopen(path, journals)
    engine = make_engine(journal, venue)  # reconcile right after the UNKNOWN
    await engine.start()
    report = await engine.reconcile()
    await engine.aclose()
    assert report[0]["now"] == "UNKNOWN"
    assert journal.get("u").status is OrderStatus.UNKNOWN  # type: ignore[union-attr]
    journal = reopen(path, journals)
    later = now_utc() + timedelta(seconds=61)  # the grace has passed since the send
    engine = make_engine(journal, venue, clock=lambda: later)
    await engine.start()
    report = await engine.reconcile()
    await engine.aclose()
    row = journal.get("u")
    assert row is not None and row.status is OrderStatus.REJECTED
    assert row.reason_code == "never_received" and report[0]["now"] == "REJECTED"
    assert len(venue.sent) == 1


async def test_a_slow_venue_that_fills_within_the_grace_is_believed(
    path: Path, journals: list[Journal]
) -> None:
    venue = ScriptedVenue()
    venue.script("M", LOSE_ORDER)
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    await engine.submit(request("slow"))
    await engine.reconcile()  # nothing on the venue yet: proves nothing
    prepared = await venue.prepare_order(request("slow"))
    venue.orders[prepared.identity] = venue._state(prepared, "fill")  # it arrived late
    report = await engine.reconcile()
    await engine.aclose()
    assert report[0]["now"] == "FILLED"


# ---------------------------------------------------------------- 4: duplicate answers

class RememberingVenue(ScriptedVenue):
    """A venue that already holds this key's order (deterministic client ids, new journal)."""

    async def create_order(self, order: PreparedOrder) -> OrderState:
        if order.identity in self.orders:
            self.sent.append(order.identity)
            raise DuplicateOrder("order already exists", venue=self.name)
        return await super().create_order(order)


async def test_a_duplicate_answer_adopts_the_venue_order_of_that_identity(
    tmp_path: Path, journals: list[Journal]
) -> None:
    venue = RememberingVenue()
    engine = make_engine(reopen(tmp_path / "one.sqlite3", journals), venue)
    await engine.start()
    assert (await engine.submit(request("d"))).status is OrderStatus.FILLED
    await engine.aclose()
    journal = reopen(tmp_path / "two.sqlite3", journals)  # a new journal, same venue
    engine = make_engine(journal, venue)
    await engine.start()
    result = await engine.submit(request("d"))
    await engine.aclose()
    assert result.status is OrderStatus.FILLED and result.filled_quantity == Decimal(10)
    assert result.reason_code is None
    assert [fill.quantity for fill in journal.fills("d")] == [Decimal(10)]
    assert [event.kind for _, event in journal.events(key="d")] == [
        "order.sent", "order.adopted", "order.state"]
    assert len(venue.sent) == 2  # one send per journal; the second found the first's order


# ---------------------------------------------------------------- 5: settle from fills

class ThreeFillVenue(ScriptedVenue):
    """Fills in three trades whose average is a repeating decimal."""

    def _state(self, order: PreparedOrder, action: str) -> OrderState:
        state = super()._state(order, action)
        fills = tuple(Fill(trade_id=f"{order.identity}-t{n}", quantity=Decimal(1),
                           price=Decimal(price)) for n, price in enumerate(
                               ("0.10", "0.10", "0.11"), 1))
        return evolve(state, quantity=Decimal(3), filled_quantity=Decimal(3),
                      average_price=Decimal("0.31") / 3, fills=fills)


async def test_the_ledger_settles_and_rebuilds_from_the_sum_of_fill_notionals(
    path: Path, journals: list[Journal]
) -> None:
    venue = ThreeFillVenue()
    engine = make_engine(reopen(path, journals), venue, policy=exposure_limit("1000"))
    await engine.start()
    result = await engine.submit(request("f", quantity="3", limit_price="0.20"))
    assert result.status is OrderStatus.FILLED
    assert await engine.ledger.exposure("total") == Decimal("0.31")  # not 0.30999...
    await engine.aclose()
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    assert await engine.ledger.exposure("total") == Decimal("0.31")
    await engine.aclose()


# ---------------------------------------------------------------- 6: capabilities

@pytest.mark.parametrize(("overrides", "code"), [
    ({"time_in_force": "GTC", "post_only": True}, "unsupported_time_in_force"),
    ({"time_in_force": "IOC", "post_only": False, "market": "M2"}, None),
    ({"time_in_force": "GTD", "expires_at": "2099-01-01T00:00:00Z"},
     "unsupported_time_in_force"),
])
async def test_admission_denies_what_the_venue_cannot_do(
    path: Path, journals: list[Journal], overrides: dict[str, Any], code: str | None
) -> None:
    venue = ScriptedVenue(capabilities=Capabilities(
        time_in_force=frozenset({TimeInForce.IOC}), post_only=False))
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    result = await engine.submit(request("c", **overrides))
    await engine.aclose()
    if code is None:
        assert result.status is OrderStatus.FILLED
        return
    assert result.status is OrderStatus.DENIED and result.reason_code == code
    assert venue.sent == []


async def test_post_only_is_denied_where_the_venue_has_none(path: Path,
                                                           journals: list[Journal]) -> None:
    venue = ScriptedVenue(capabilities=Capabilities(post_only=False))
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    result = await engine.submit(request("po", post_only=True))
    await engine.aclose()
    assert result.status is OrderStatus.DENIED
    assert result.reason_code == "unsupported_post_only" and venue.sent == []


# ---------------------------------------------------------------- 7: every event reaches sinks

async def test_sinks_receive_every_event_the_journal_records(path: Path,
                                                             journals: list[Journal]) -> None:
    journal = reopen(path, journals)
    out = path.parent / "events.jsonl"
    venue = ScriptedVenue()
    venue.script("M", "fill", "reject", REST, LOSE_ORDER)
    engine = make_engine(journal, venue, hub=SinkHub([JsonlSink(name="j", path=out)]))
    await engine.start()
    for key in ("fill", "reject", "rest", "unknown"):
        await engine.submit(request(key))
    await engine.submit(request("late", market="L"))
    await engine.submit(request("denied", venue="nowhere"))
    await engine.cancel("rest")
    await engine.aclose()
    sank = [json.loads(line)["kind"] for line in out.read_text().splitlines()]
    journaled = [event.kind for _, event in journal.events()]
    assert sorted(k for k in sank if k != "result") == sorted(journaled)
    assert sank.count("order.state") >= 4


async def test_sinks_receive_what_recovery_records_at_start(path: Path,
                                                           journals: list[Journal]) -> None:
    journal = reopen(path, journals)
    journal.record_intent(request("crashed"), identity="scripted-crashed", venue_order_id=None)
    out = path.parent / "events.jsonl"
    engine = make_engine(journal, ScriptedVenue(),
                         hub=SinkHub([JsonlSink(name="j", path=out)]))
    await engine.start()  # the crash left a PENDING order: it becomes UNKNOWN
    await engine.aclose()
    sank = [json.loads(line)["kind"] for line in out.read_text().splitlines()]
    assert sank == ["order.unknown"]


# ---------------------------------------------------------------- issue 13.10: containment

class BrokenLookupVenue(ScriptedVenue):
    answer: Any = None

    async def lookup_order(self, identity: str) -> OrderState | None:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[no-any-return]

    async def fetch_open_orders(self, market: str | None = None) -> list[OrderState]:
        raise KeyError("orders")

    async def fetch_balance(self) -> Balance:
        raise ValueError("odd balance body")


@pytest.mark.parametrize("answer", [RuntimeError("plugin bug"), {"orders": "xyz"}, "xyz"])
async def test_a_plugin_failing_in_lookup_is_contained_to_its_order(
    path: Path, journals: list[Journal], answer: Any
) -> None:
    venue = BrokenLookupVenue()
    venue.script("M", LOSE_ORDER)
    engine = make_engine(reopen(path, journals), venue)
    await engine.start()
    await engine.submit(request("u"))
    await engine.aclose()
    venue.answer = answer
    journal = reopen(path, journals)
    later = now_utc() + timedelta(seconds=120)
    engine = make_engine(journal, venue, clock=lambda: later)
    await engine.start()
    report = await full_report(engine)  # what `arbexec reconcile` does after start
    ok = await engine.submit(request("next"))  # the venue still trades
    await engine.aclose()
    assert report[0]["now"] == "UNKNOWN" and "lookup failed" in report[0]["note"]
    assert journal.get("u").status is OrderStatus.UNKNOWN  # type: ignore[union-attr]
    assert "could not list open orders" in report[1]["note"]
    assert "could not read balance or positions" in report[2]["note"]
    assert ok.status is OrderStatus.FILLED


async def test_background_resolution_waits_out_the_grace_before_never_received(
    path: Path, journals: list[Journal]
) -> None:
    venue = ScriptedVenue()
    venue.script("M", LOSE_ORDER)
    journal = reopen(path, journals)
    engine = make_engine(journal, venue, background_tracking=True, poll_max_interval=0.02)
    await engine.start()
    assert (await engine.submit(request("bg"))).status is OrderStatus.UNKNOWN
    for _ in range(20):  # many lookups answer "no such order" within the grace
        await asyncio.sleep(0.01)
    assert journal.get("bg").status is OrderStatus.UNKNOWN  # type: ignore[union-attr]
    prepared = await venue.prepare_order(request("bg"))
    venue.orders[prepared.identity] = venue._state(prepared, "fill")  # the slow venue
    for _ in range(200):
        await asyncio.sleep(0.01)
        if journal.get("bg").status is OrderStatus.FILLED:  # type: ignore[union-attr]
            break
    await engine.aclose()
    assert journal.get("bg").status is OrderStatus.FILLED  # type: ignore[union-attr]


# ---------------------------------------------------------------- complete protocols

class ProtocolOnlyLedger:
    """Exactly the ``ExposureLedger`` protocol and nothing else (as a Redis ledger would
    offer): the engine must never need more."""

    __slots__ = ("_inner",)

    def __init__(self) -> None:
        self._inner = InMemoryLedger()

    def exposure_now(self, key: str) -> Decimal:
        return self._inner.exposure_now(key)

    async def exposure(self, key: str) -> Decimal:
        return await self._inner.exposure(key)

    async def try_reserve(self, holder: str, claims: Any) -> Any:
        return await self._inner.try_reserve(holder, claims)

    async def try_earmark(self, groups: Any) -> Any:
        return await self._inner.try_earmark(groups)

    async def release_earmark(self, holder: str) -> None:
        await self._inner.release_earmark(holder)

    async def settle(self, holder: str, amount: Decimal, keys: Any) -> None:
        await self._inner.settle(holder, amount, keys)

    async def release(self, holder: str) -> None:
        await self._inner.release(holder)

    async def adjust(self, keys: Any, amount: Decimal) -> None:
        await self._inner.adjust(keys, amount)

    async def restore(self, holder: str, keys: Any, amount: Decimal) -> None:
        await self._inner.restore(holder, keys, amount)


class ProtocolOnlyPolicy:
    """Exactly the ``PolicyLike`` protocol around a real policy."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @property
    def needs(self) -> Any:
        return self._inner.needs

    @property
    def observers(self) -> Any:
        return self._inner.observers

    def evaluate(self, request: OrderRequest, ctx: Any) -> Any:
        return self._inner.evaluate(request, ctx)

    def explain(self, request: OrderRequest, ctx: Any) -> Any:
        return self._inner.explain(request, ctx)

    def release(self, request: OrderRequest) -> None:
        self._inner.release(request)

    def drain_events(self) -> Any:
        return self._inner.drain_events()

    def restore(self, read: Any) -> None:
        self._inner.restore(read)


async def test_the_engine_needs_nothing_beyond_the_policy_and_ledger_protocols(
    path: Path, journals: list[Journal]
) -> None:
    assert isinstance(ProtocolOnlyLedger(), ExposureLedger)
    assert isinstance(ProtocolOnlyPolicy(exposure_limit("8")), PolicyLike)
    venue = ScriptedVenue()
    venue.script("M", REST, PARTIAL, "reject")

    def engine_on(journal: Journal) -> Engine:
        policy = ProtocolOnlyPolicy(load_policy(
            [{"rule": "max_exposure", "max_total": "8"},
             {"rule": "circuit_breaker", "consecutive_failures": 3, "cooldown_seconds": 30}],
            available=builtin_specs(), source="test"))
        return make_engine(journal, venue, policy=policy, ledger=ProtocolOnlyLedger())

    engine = engine_on(reopen(path, journals))
    await engine.start()
    assert (await engine.submit(request("rest"))).status is OrderStatus.OPEN  # 5 held
    assert (await engine.submit(request("over"))).reason_code == "exposure_total"
    assert (await engine.explain(request("probe"))).allowed is False
    await engine.cancel("rest")
    partial = await engine.submit(request("half"))
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    assert (await engine.submit(request("no", quantity="1"))).status is OrderStatus.REJECTED
    await engine.aclose()
    engine = engine_on(reopen(path, journals))
    await engine.start()
    await engine.reconcile()
    assert await engine.ledger.exposure("total") == Decimal(5)  # the half order, held
    await engine.aclose()


class OddCancelVenue(ScriptedVenue):
    async def cancel_order(self, venue_order_id: str) -> OrderState:
        return "ok"  # type: ignore[return-value]


async def test_an_odd_cancel_answer_is_a_clear_error_and_changes_nothing(
    path: Path, journals: list[Journal]
) -> None:
    journal = reopen(path, journals)
    engine = make_engine(journal, OddCancelVenue(default=REST))
    await engine.start()
    await engine.submit(request("c"))
    with pytest.raises(UserError, match="answered the cancel"):
        await engine.cancel("c")
    await engine.aclose()
    assert journal.get("c").status is OrderStatus.OPEN  # type: ignore[union-attr]


# ---------------------------------------------------------------- admission's answers in words


async def test_an_unknown_venue_is_denied_naming_the_venues_configured(
        path: Path, journals: list[Journal]) -> None:
    journal = reopen(path, journals)
    engine = Engine(journal=journal, venues={v.name: v for v in (
                        ScriptedVenue(), ScriptedVenue(name="other"))},
                    halt=JournalHaltFlag(journal), hub=SinkHub([]),
                    policy=exposure_limit("100"),
                    settings=EngineSettings(wait_budget=0.0, background_tracking=False))
    bare = Engine(journal=journal, venues={}, halt=JournalHaltFlag(journal), hub=SinkHub([]),
                  settings=EngineSettings(wait_budget=0.0, background_tracking=False))
    await engine.start()
    one = await engine.submit(request("u1", venue="nowhere"))
    await engine.aclose()
    await bare.start()
    none = await bare.submit(request("u2", venue="nowhere"))
    await bare.aclose()
    assert one.status is OrderStatus.DENIED and one.reason_code == "unknown_venue"
    assert one.reason == ("venue 'nowhere' is not configured; configured venues: other, "
                          "scripted")
    assert none.reason_code == "unknown_venue"
    assert none.reason == "venue 'nowhere' is not configured; configured venues: none"


@pytest.mark.parametrize(("why", "shown"), [("maintenance", "maintenance"),
                                            ("", "no reason given")])
async def test_a_halt_denies_new_risk_in_words_and_journals_what_it_let_pass(
        path: Path, journals: list[Journal], why: str, shown: str) -> None:
    journal = reopen(path, journals)
    venue = ScriptedVenue()
    engine = make_engine(journal, venue, policy=exposure_limit("100"))
    await engine.start()
    engine.halt.halt(why, by="test")
    plain = await engine.submit(request("h1"))
    reducing = await engine.submit(request("h2", tags={RISK_REDUCING_TAG: "unwind"}))
    await engine.aclose()
    assert plain.status is OrderStatus.DENIED and plain.reason_code == "halted"
    assert plain.reason == f"trading is halted ({shown}); lift it with `arbexec resume`"
    assert reducing.status is OrderStatus.FILLED
    [(_, passed)] = list(journal.events(kinds=[HALT_PASSED]))
    assert passed.request_id == "r-h2" and passed.data == {"reason": "unwind", "halt": why}


@pytest.mark.parametrize(("offered", "shown"), [
    (frozenset({TimeInForce.IOC, TimeInForce.FOK}), "FOK, IOC"), (frozenset(), "none")])
async def test_a_time_in_force_the_venue_lacks_is_denied_naming_what_it_offers(
        path: Path, journals: list[Journal], offered: frozenset[TimeInForce],
        shown: str) -> None:
    journal = reopen(path, journals)
    venue = ScriptedVenue(capabilities=Capabilities(time_in_force=offered))
    engine = make_engine(journal, venue)
    await engine.start()
    result = await engine.submit(request("t", time_in_force="GTC"))
    await engine.aclose()
    assert result.reason_code == "unsupported_time_in_force" and venue.sent == []
    assert result.reason == (f"venue 'scripted' does not support time in force GTC "
                             f"(it offers: {shown})")
    [(_, denied)] = list(journal.events(kinds=["order.denied"]))
    assert denied.data["rule"] == "venue" and denied.data["code"] == result.reason_code


def breaker_of_one() -> Any:
    return load_policy([{"rule": "circuit_breaker", "consecutive_failures": 1}],
                       available=builtin_specs(), source="test")


async def test_an_order_waits_for_the_in_flight_slot_of_a_venue_of_unknown_health(
        path: Path, journals: list[Journal]) -> None:
    # nothing is known of the venue yet: one send at a time may be in flight to it; the
    # second order waits (up to in_flight_wait) for the first's outcome, a success, and
    # then goes out rather than being refused
    venue = ScriptedVenue(delay=0.2)
    engine = make_engine(reopen(path, journals), venue, policy=breaker_of_one(),
                         in_flight_wait=0.9)
    await engine.start()
    first, second = await asyncio.gather(engine.submit(request("w1")),
                                         engine.submit(request("w2")))
    await engine.aclose()
    assert (first.status, second.status) == (OrderStatus.FILLED, OrderStatus.FILLED), second
    assert len(venue.sent) == 2


async def test_an_order_still_without_a_slot_after_in_flight_wait_is_denied(
        path: Path, journals: list[Journal]) -> None:
    venue = ScriptedVenue(delay=1.0)
    engine = make_engine(reopen(path, journals), venue, policy=breaker_of_one(),
                         in_flight_wait=0.1)
    await engine.start()
    first, second = await asyncio.gather(engine.submit(request("w1")),
                                         engine.submit(request("w2")))
    await engine.aclose()
    assert first.status is OrderStatus.FILLED
    assert second.status is OrderStatus.DENIED and second.reason_code == "breaker_in_flight"
    assert len(venue.sent) == 1
