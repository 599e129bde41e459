"""Reconciliation beyond orders: the venues' positions and balances against the journal.

The journal knows only what this deployment traded, so the first report records a
baseline per venue (its balance, its positions, and the journal's totals at that moment,
as a ``reconcile.baseline`` event). Every later report expects

* each position to equal its baseline plus the net fills the journal recorded since, and
* each balance to equal its baseline plus the journal's cash flow since (sells minus buys
  minus fees),

and reports every difference (beyond ``TOLERANCE``, the venues' sub-cent rounding) as a
mismatch, never correcting anything. Deposits, withdrawals, settlements and trades made
outside arbexec show up here by design; ``rebaseline=True`` accepts the venues' figures as
the new baseline once they are explained.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal
from typing import Any

from arbexec.engine import Engine
from arbexec.errors import ExchangeError
from arbexec.events import Event
from arbexec.journal import Journal
from arbexec.model import ZERO, Side

log = logging.getLogger("arbexec.reconcile")

TOLERANCE = Decimal("0.01")
BASELINE = "reconcile.baseline"


def journal_view(journal: Journal) -> dict[str, dict[str, Any]]:
    """Per venue: net contracts per "market:outcome", cash flow, and cash held by live buys."""
    view: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "positions": defaultdict(Decimal), "flow": ZERO, "reserved": ZERO})
    for row in journal.query():
        entry = view[row.venue]
        filled = row.filled_quantity
        value = filled * (row.average_price or ZERO)
        if row.side == Side.BUY.value:
            entry["positions"][f"{row.market}:{row.outcome}"] += filled
            entry["flow"] -= value
            if row.status.is_live:
                entry["reserved"] += (row.quantity - filled) * row.limit_price
        else:
            entry["positions"][f"{row.market}:{row.outcome}"] -= filled
            entry["flow"] += value
        entry["flow"] -= row.fees
    return view


def _baselines(journal: Journal) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for _, event in journal.events(kinds=[BASELINE]):
        found[str(event.data["venue"])] = dict(event.data)
    return found


async def compare_holdings(engine: Engine, *, rebaseline: bool = False) -> list[dict[str, Any]]:
    """One line per mismatch (or per venue that could not be read, or baselined now)."""
    journal = engine.journal
    view = journal_view(journal)
    baselines = {} if rebaseline else _baselines(journal)
    report: list[dict[str, Any]] = []
    recorded: list[Event] = []
    for name, exchange in engine.venues.items():
        try:
            balance = await exchange.fetch_balance()
            held = {f"{p.market}:{p.outcome.value}": p.quantity
                    for p in await exchange.fetch_positions() if p.quantity}
        except Exception as exc:  # an outage or a plugin fault: this venue only
            if not isinstance(exc, ExchangeError):
                log.warning("the %s plugin failed reading balance or positions: %s: %s",
                            name, type(exc).__name__, exc)
            report.append({"venue": name, "check": "holdings",
                           "note": f"could not read balance or positions: {exc}"})
            continue
        ours = view.get(name) or {"positions": {}, "flow": ZERO, "reserved": ZERO}
        base = baselines.get(name)
        if base is None:
            recorded.append(Event(kind=BASELINE, data={
                "venue": name, "total": str(balance.total),
                "positions": {k: str(v) for k, v in held.items()},
                "journal_flow": str(ours["flow"]),
                "journal_positions": {k: str(v) for k, v in ours["positions"].items() if v},
            }))
            report.append({"venue": name, "check": "baseline",
                           "note": f"baseline recorded: balance {balance.total}, "
                                   f"{len(held)} positions"})
            continue
        report.extend(_position_mismatches(name, base, ours, held))
        expected = Decimal(base["total"]) + ours["flow"] - Decimal(base["journal_flow"])
        if abs(balance.total - expected) > TOLERANCE:
            report.append({"venue": name, "check": "balance", "journal": str(expected),
                           "venue_figure": str(balance.total),
                           "note": "balance differs from the baseline plus the journal's "
                                   "cash flow"})
        if balance.reserved + TOLERANCE < ours["reserved"]:
            report.append({"venue": name, "check": "reserved",
                           "journal": str(ours["reserved"]),
                           "venue_figure": str(balance.reserved),
                           "note": "the venue holds less cash for open buys than the "
                                   "journal's live orders need"})
    engine.record_events(recorded)  # journaled and sent to the sinks
    return report


def _position_mismatches(name: str, base: dict[str, Any], ours: dict[str, Any],
                         held: dict[str, Decimal]) -> list[dict[str, Any]]:
    start = {k: Decimal(v) for k, v in base.get("positions", {}).items()}
    then = {k: Decimal(v) for k, v in base.get("journal_positions", {}).items()}
    out = []
    for key in sorted(set(start) | set(ours["positions"]) | set(held) | set(then)):
        expected = start.get(key, ZERO) + ours["positions"].get(key, ZERO) - then.get(key, ZERO)
        actual = held.get(key, ZERO)
        if abs(actual - expected) > TOLERANCE:
            market, _, outcome = key.rpartition(":")
            out.append({"venue": name, "check": "position", "market": market,
                        "outcome": outcome, "journal": str(expected),
                        "venue_figure": str(actual),
                        "note": "position differs from the baseline plus the journal's fills"})
    return out


async def full_report(engine: Engine, *, rebaseline: bool = False) -> list[dict[str, Any]]:
    """What ``arbexec reconcile`` prints: orders taken from the venues, venue orders the
    journal does not know, and position and balance mismatches."""
    report = await engine.reconcile()
    report.extend(await engine.compare_venues())
    report.extend(await compare_holdings(engine, rebaseline=rebaseline))
    return report
