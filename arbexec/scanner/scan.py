"""One scan: fresh books for every accepted pair, both directions' ladders, the
opportunities above the minimum spread, and (when executing) each handed to the arbitrage
executor under its own pair key. Every pair direction's outcome goes to the scan journal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from attrs import frozen

from arbexec.arbitrage.executor import PairExecutor
from arbexec.arbitrage.model import Leg, PairRequest, PairResult, PairState
from arbexec.catalog.pairfile import MatchedPair
from arbexec.model import Outcome, now_utc
from arbexec.scanner.edge import DIRECTIONS, DirectionLadder, LegBook, SizeLevel, pair_ladders
from arbexec.scanner.feed import BookFeed, FreshBook, Market, Unavailable
from arbexec.scanner.settings import ScanSettings
from arbexec.scanner.store import Observation, ScanStore

#: pair states in which the opportunity was taken
TAKEN = (PairState.HEDGED, PairState.UNWOUND)


@frozen(kw_only=True)
class Row:
    """One pair direction in one scan: its ladder's figures and what became of it."""

    pair: MatchedPair
    direction: str
    outcome_a: Outcome
    outcome_b: Outcome
    observation: Observation
    top: SizeLevel | None = None  # best edge per contract, cleared or not
    opportunity: SizeLevel | None = None  # the size executed (or to execute)
    book_age: float | None = None  # seconds, the older of the two books
    result: PairResult | None = None


@frozen(kw_only=True)
class ScanReport:
    session_id: str
    scan_id: str
    at: str
    min_spread: Decimal
    rows: tuple[Row, ...]

    @property
    def opportunities(self) -> list[Row]:
        return [row for row in self.rows if row.opportunity is not None]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _money(value: Decimal) -> str:
    """A figure for the journal and tables: exact to 1e-8 dollars, no trailing zeros."""
    return format(value.quantize(Decimal("1e-8")).normalize(), "f")


class Scanner:
    def __init__(self, pairs: Sequence[MatchedPair], feed: BookFeed, settings: ScanSettings,
                 *, store: ScanStore | None = None, executor: PairExecutor | None = None,
                 session_id: str | None = None) -> None:
        self.pairs = list(pairs)
        self.feed = feed
        self.settings = settings
        self.store = store
        self.executor = executor
        self.session_id = session_id or f"s-{uuid.uuid4().hex[:12]}"

    @property
    def markets(self) -> list[Market]:
        return list(dict.fromkeys(m for p in self.pairs for m in (
            (p.a.venue, p.a.market), (p.b.venue, p.b.market))))

    async def scan_once(self) -> ScanReport:
        scan_id = f"{self.session_id}-{uuid.uuid4().hex[:8]}"
        at = now_utc().isoformat()
        await self.feed.refresh(self.markets)
        rows: list[Row] = []
        for pair in self.pairs:
            rows.extend(await self._pair(pair, scan_id, at))
        return ScanReport(session_id=self.session_id, scan_id=scan_id, at=at,
                          min_spread=self.settings.min_spread, rows=tuple(rows))

    async def _pair(self, pair: MatchedPair, scan_id: str, at: str) -> list[Row]:
        base: dict[str, Any] = {"session_id": self.session_id, "scan_id": scan_id, "at": at,
                "pair_id": pair.id, "title": pair.a.title or pair.b.title,
                "min_spread": _text(self.settings.min_spread) or "0"}
        fresh_a = self.feed.view((pair.a.venue, pair.a.market))
        fresh_b = self.feed.view((pair.b.venue, pair.b.market))
        if not isinstance(fresh_a, FreshBook) or not isinstance(fresh_b, FreshBook):
            missing = fresh_a if isinstance(fresh_a, Unavailable) else fresh_b
            assert isinstance(missing, Unavailable)
            rows = []
            for name, outcome_a in DIRECTIONS.items():
                self._close(pair, name)
                rows.append(self._row(pair, name, outcome_a, Observation(
                    **base, direction=name, status="unavailable", reason_code=missing.code,
                    reason=missing.message)))
            return rows
        age = max(self.feed.age((pair.a.venue, pair.a.market)) or 0.0,
                  self.feed.age((pair.b.venue, pair.b.market)) or 0.0)
        ladders = pair_ladders(pair, self._leg(pair.a.venue, pair.a.market, fresh_a),
                               self._leg(pair.b.venue, pair.b.market, fresh_b),
                               max_quantity=self.settings.max_quantity)
        return [await self._direction(pair, ladder, base, age) for ladder in ladders]

    def _leg(self, venue: str, market: str, fresh: FreshBook) -> LegBook:
        return LegBook(venue=venue, market=market, book=fresh.book,
                       fee=self.feed.venues[venue].fee,
                       quantity_step=fresh.rules.quantity_step,
                       min_quantity=fresh.rules.min_quantity,
                       tick_size=fresh.rules.tick_size)

    def _row(self, pair: MatchedPair, name: str, outcome_a: Outcome,
             observation: Observation, **extra: Any) -> Row:
        row = Row(pair=pair, direction=name, outcome_a=outcome_a,
                  outcome_b=Outcome(pair.hedge_outcome(outcome_a.value)),
                  observation=observation, **extra)
        if self.store is not None:
            self.store.record(observation)
        return row

    def _close(self, pair: MatchedPair, direction: str) -> None:
        if self.store is not None:
            self.store.close_opportunity(pair.id, direction)

    async def _direction(self, pair: MatchedPair, ladder: DirectionLadder,
                         base: dict[str, Any], age: float) -> Row:
        top = ladder.top()
        best = ladder.best(self.settings.min_spread)
        level = best or top
        figures: dict[str, Any] = {} if level is None else {
            "quantity": _text(level.quantity), "edge": _money(level.edge),
            "edge_per_contract": _money(level.edge_per_contract),
            "limit_edge_per_contract": _money(level.locked_edge_per_contract),
            "limit_a": _text(level.limit_a), "limit_b": _text(level.limit_b),
            "fees": _money(level.fees)}
        extra: dict[str, Any] = {"top": top, "opportunity": best, "book_age": age}
        if best is None:
            self._close(pair, ladder.direction)
            why = ("no depth on one of the books" if top is None else
                   f"best edge {_money(top.executable_edge_per_contract)} per contract is "
                   f"below the minimum spread of {self.settings.min_spread}")
            return self._row(pair, ladder.direction, ladder.outcome_a, Observation(
                **base, direction=ladder.direction, status="below_min", reason_code=(
                    "no_depth" if top is None else "below_min"), reason=why, **figures),
                **extra)
        if self.executor is None:
            return self._row(pair, ladder.direction, ladder.outcome_a, Observation(
                **base, direction=ladder.direction, status="seen", reason_code="not_executing",
                reason="scanning without --execute", **figures), **extra)
        return await self._execute(pair, ladder, best, base, figures, extra)

    async def _execute(self, pair: MatchedPair, ladder: DirectionLadder, level: SizeLevel,
                       base: dict[str, Any], figures: dict[str, Any],
                       extra: dict[str, Any]) -> Row:
        assert self.executor is not None
        signature = (f"{ladder.outcome_a.value}@{level.limit_a}|{ladder.outcome_b.value}@"
                     f"{level.limit_b}|{level.quantity}")
        key = (self.store.key_for(pair.id, ladder.direction, signature)
               if self.store is not None else f"scan-{uuid.uuid4().hex}")
        observation = Observation(**base, direction=ladder.direction, status="seen",
                                  reason_code="executing", reason="handed to the executor",
                                  pair_key=key, **figures)
        # written before the pair is handed over: the key survives a crash in between
        row_id = self.store.record(observation) if self.store is not None else None
        request = self.request(pair, ladder.direction, level, key)
        result = await self.executor.execute(request)
        if not result.duplicate:  # the trade moved both books: later pairs on them read anew
            await self.feed.refresh([(pair.a.venue, pair.a.market),
                                     (pair.b.venue, pair.b.market)], force=True)
        if result.duplicate:
            status, code = "seen", "handled_before"
            reason = (f"pair key {key} was handed over in an earlier scan and is "
                      f"{result.state.value}; nothing was sent again")
        elif result.state in TAKEN:
            status, code, reason = "executed", result.state.value.lower(), None
        else:
            status = "missed"
            code = result.reason_code or result.state.value.lower()
            reason = result.reason or result.state.value
        done = {"status": status, "reason_code": code, "reason": reason,
                "state": result.state.value, "realised_edge": _money(result.realised_edge),
                "realised_edge_per_contract": _text(result.realised_edge_per_contract)}
        if self.store is not None and row_id is not None:
            self.store.update(row_id, **done)
        final = Observation(**{**observation.as_dict(), **done})
        return Row(pair=pair, direction=ladder.direction, outcome_a=ladder.outcome_a,
                   outcome_b=ladder.outcome_b, observation=final, result=result,
                   **extra)

    def request(self, pair: MatchedPair, direction: str, level: SizeLevel,
                key: str) -> PairRequest:
        """The pair the executor gets: the level's size at the level's worst prices, with
        the minimum spread as its ``min_edge`` so the executor checks the same edge again
        on the books it reads just before sending."""
        outcome_a = DIRECTIONS[direction]
        outcome_b = Outcome(pair.hedge_outcome(outcome_a.value))
        return PairRequest(
            pair_id=key, request_id=key, quantity=level.quantity,
            a=Leg(venue=pair.a.venue, market=pair.a.market, outcome=outcome_a,
                  limit_price=level.limit_a),
            b=Leg(venue=pair.b.venue, market=pair.b.market, outcome=outcome_b,
                  limit_price=level.limit_b),
            min_edge=self.settings.min_spread, max_unwind_loss=self.settings.max_unwind_loss,
            inverted=pair.inverted,
            tags={"scan_pair": pair.id, "scan_direction": direction,
                  "predicted_edge": _money(level.edge)})


__all__ = ["Row", "ScanReport", "Scanner"]
