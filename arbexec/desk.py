"""The operator's read side: status, realised P&L, open positions and pairs, from the journal.

Everything here reads the journal and changes nothing, so ``arbexec status`` can run next to
a live engine. Exposure and positions are rebuilt with the engine's own accounting
(``Accounting.restore`` / ``rebuild``), so the figures are the ones the risk rules see at
the engine's next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import frozen

from arbexec.engine.accounting import Accounting
from arbexec.journal import Journal
from arbexec.ledger import InMemoryLedger, scope_keys
from arbexec.model import ZERO, OrderStatus, now_utc
from arbexec.positions import PositionBook

#: Statuses of an order that may still rest on its venue, or whose send is unanswered.
IN_FLIGHT = (OrderStatus.PENDING, OrderStatus.UNKNOWN)


@frozen(kw_only=True)
class ExposureLimit:
    """One configured exposure limit and what is held against it now."""

    scope: str  # total, venue, event or market
    key: str  # the ledger key, e.g. market:paper:PAPER-FED-CUT
    held: Decimal
    limit: Decimal | None

    @property
    def headroom(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.held


def rebuild_accounting(journal: Journal, market_events: Mapping[str, str],
                       today: date | None = None) -> tuple[InMemoryLedger, PositionBook]:
    """The ledger and positions an engine starting on this journal would hold: open
    orders' reservations and the running summaries (``Recovery.recover``'s own steps)."""
    ledger, book = InMemoryLedger(), PositionBook()
    accounting = Accounting(ledger, book, market_events)
    for (venue, market), name in journal.market_events().items():
        if accounting.event_of(venue, market) is None:
            accounting.learn_event(venue, market, name)

    async def go() -> None:
        for row in journal.non_final():
            await accounting.restore(row, journal.fills(row.idempotency_key))
        await accounting.restore_standing(journal, today or now_utc().date())

    asyncio.run(go())
    return ledger, book


def configured_limits(policy: Iterable[Any]) -> dict[str, Decimal]:
    """``{scope: limit}`` of every ``max_exposure`` rule in the policy (the tightest wins)."""
    limits: dict[str, Decimal] = {}
    for rule in policy:
        if getattr(rule, "name", None) != "max_exposure":
            continue
        params = rule.params
        for scope, value in (("total", params.max_total), ("venue", params.max_per_venue),
                             ("event", params.max_per_event),
                             ("market", params.max_per_market)):
            if value is not None:
                limits[scope] = min(value, limits.get(scope, value))
    return limits


def exposure_by_scope(journal: Journal, ledger: InMemoryLedger, limits: Mapping[str, Decimal],
                      market_events: Mapping[str, str]) -> list[ExposureLimit]:
    """Exposure under every scope the journal's orders touch, against its limit if any."""
    keys: dict[str, str] = {"total": "total"}
    learned = journal.market_events()
    markets = [(row.venue, row.market) for row in journal.non_final()]
    markets += sorted(journal.market_exposure())
    for venue, market in markets:
        event = market_events.get(f"{venue}:{market}") or learned.get((venue, market))
        for scope, key in zip(("total", "venue", "event", "market"),
                              scope_keys(venue, market, event), strict=True):
            keys.setdefault(key, scope)
    return [ExposureLimit(scope=scope, key=key, held=ledger.exposure_now(key),
                          limit=limits.get(scope))
            for key, scope in keys.items()]


def breaker_states(journal: Journal) -> dict[str, dict[str, Any]]:
    """The last circuit-breaker move per venue (``risk.breaker`` events), if any."""
    states: dict[str, dict[str, Any]] = {}
    for _seq, event in journal.events(kinds=("risk.breaker",)):
        venue = str(event.data.get("venue", "?"))
        states[venue] = {"state": event.data.get("to"), "reason": event.data.get("reason"),
                         "since": event.at.isoformat()}
    return states


def status_report(journal: Journal, *, venues: Sequence[str], policy: Iterable[Any],
                  market_events: Mapping[str, str]) -> dict[str, Any]:
    """Everything ``arbexec status`` shows, JSON-ready (money as exact strings)."""
    halt = journal.halt_state()
    ledger, book = rebuild_accounting(journal, market_events)
    per_venue: dict[str, dict[str, int]] = {
        v: {"open": 0, "in_flight": 0} for v in venues}
    for row in journal.non_final():
        counts = per_venue.setdefault(row.venue, {"open": 0, "in_flight": 0})
        counts["in_flight" if row.status in IN_FLIGHT else "open"] += 1
    breakers = breaker_states(journal)
    path = journal.path
    limits = configured_limits(policy)
    return {
        "halt": {"halted": halt.halted, "reason": halt.reason, "by": halt.by,
                 "at": None if halt.at is None else halt.at.isoformat()},
        "venues": [{"venue": name, **counts,
                    "breaker": breakers.get(name, {}).get("state") or "closed",
                    "breaker_reason": breakers.get(name, {}).get("reason")}
                   for name, counts in per_venue.items()],
        "exposure": [{"scope": e.scope, "key": e.key, "held": plain(e.held),
                      "limit": None if e.limit is None else plain(e.limit),
                      "headroom": None if e.headroom is None else plain(e.headroom)}
                     for e in exposure_by_scope(journal, ledger, limits, market_events)],
        "realised_pnl_today": plain(book.today_pnl()),
        "journal": {"path": str(path), "bytes": journal_size(path)},
    }


def journal_size(path: Path) -> int:
    """Bytes on disk, the write-ahead log included."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            total += part.stat().st_size
    return total


# ---------------------------------------------------------------------------- P&L


def pnl_report(journal: Journal) -> dict[str, Any]:
    """Realised P&L (net of fees) by UTC day, venue and market; open positions at cost.

    Both come from the journal's running summaries, kept by the engine's booking rules as
    each fill is journaled (positions at average cost); a fill's P&L falls on the UTC day
    the journal booked it. ``arbexec journal verify`` checks them against a rebuild."""
    realised = journal.daily_pnl()
    days = [{"day": d, "venue": v, "market": m, "realised": plain(amount),
             "fees": plain(fees)} for (d, v, m), (amount, fees) in realised.items()]
    open_positions = [
        {"venue": v, "market": m, "outcome": o, "quantity": plain(quantity),
         "cost_basis": plain(cost), "average_price": plain(cost / quantity)}
        for (v, m, o), (quantity, cost) in sorted(journal.positions().items())
        if quantity > 0]
    return {"realised": days,
            "total_realised": plain(sum((r for r, _ in realised.values()), ZERO)),
            "open_positions": open_positions}


# ---------------------------------------------------------------------------- pairs


def pairs_report(journal: Journal) -> list[dict[str, Any]]:
    """Every pair in the journal: state, step, legs (with their orders' states), and the
    realised edge and unwind loss of its last journaled result (None while unfinished)."""
    results: dict[str, Mapping[str, Any]] = {}
    for _seq, event in journal.events(kinds=("pair.result",)):
        result = event.data.get("result")
        if isinstance(result, Mapping) and result.get("pair_id"):
            results[str(result["pair_id"])] = result
    out = []
    for pair in journal.pairs():
        request = pair["request"]
        pair_id = pair["pair_id"]
        legs = []
        for name, leg in zip(("a", "b"), request.get("legs") or ({}, {}), strict=False):
            row = journal.get(f"{pair_id}:{name}")
            legs.append({
                "leg": name, "venue": leg.get("venue"), "market": leg.get("market"),
                "outcome": leg.get("outcome"), "side": leg.get("side", "BUY"),
                "limit_price": leg.get("limit_price"),
                "status": None if row is None else row.status.value,
                "filled_quantity": None if row is None else plain(row.filled_quantity),
                "average_price": (None if row is None or row.average_price is None
                                  else plain(row.average_price)),
            })
        result = results.get(pair_id, {})
        out.append({
            "pair_id": pair_id, "state": pair["state"], "step": pair["step"],
            "quantity": request.get("quantity"), "legs": legs,
            "realised_edge": result.get("realised_edge"),
            "unwind_loss": result.get("unwind_loss"),
            "exposed_quantity": result.get("exposed_quantity"),
            "reason": pair["detail"].get("reason"), "updated_at": pair["updated_at"],
        })
    return out


def plain(value: Decimal) -> str:
    """Exact, without trailing zeros or exponent: 472.63000 -> 472.63, 0E-8 -> 0."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text
