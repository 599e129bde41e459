"""Fills: unique per order and trade id. A fill's finality only rises (a venue may report
a provisional fill and confirm it later; a late provisional report never undoes that); its
quantity, price and fee are those first reported."""

from __future__ import annotations

import sqlite3

from attrs import define

from arbexec.journal.unit_of_work import Statement, UnitOfWork
from arbexec.model import Fill

_INSERT = """INSERT OR IGNORE INTO fills(idempotency_key, trade_id, venue, quantity, price,
        fee, liquidity, final, at, booked_on) VALUES(?,?,?,?,?,?,?,?,?,?)"""

#: A trade reported again: only its finality may rise. Its quantity, price and fee stay as
#: first reported, the figures the engine and the running summaries booked it at.
REFRESH = "UPDATE fills SET final=MAX(final, ?) WHERE idempotency_key=? AND trade_id=?"


def fill_statement(key: str, venue: str, fill: Fill, day: str) -> Statement:
    """The insert of one new fill (nothing when the trade is known: see ``REFRESH``);
    ``day`` (UTC, the journal's clock) is when it is booked, the day its P&L falls on."""
    return (_INSERT, (key, fill.trade_id, venue or "?", str(fill.quantity), str(fill.price),
                      str(fill.fee), fill.liquidity.value, int(fill.final),
                      fill.timestamp.isoformat(), day))


@define
class FillStore:
    work: UnitOfWork

    def of_order(self, key: str) -> list[Fill]:
        """The order's fills, oldest first."""
        self.work.flush()
        rows = self.work.db.execute(
            "SELECT * FROM fills WHERE idempotency_key=? ORDER BY at, trade_id", (key,))
        return [_fill(r) for r in rows]

    def by_order(self) -> dict[str, list[Fill]]:
        """Every journaled fill, per idempotency key: positions and exposure are rebuilt
        from these (never from a stored average)."""
        self.work.flush()
        out: dict[str, list[Fill]] = {}
        for r in self.work.db.execute("SELECT * FROM fills ORDER BY at, trade_id"):
            out.setdefault(r["idempotency_key"], []).append(_fill(r))
        return out


def _fill(r: sqlite3.Row) -> Fill:
    return Fill(trade_id=r["trade_id"], quantity=r["quantity"], price=r["price"], fee=r["fee"],
                liquidity=r["liquidity"], final=bool(r["final"]), timestamp=r["at"])
