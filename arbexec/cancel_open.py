"""Cancel every resting order: ``arbexec cancel-all`` and ``arbexec halt --cancel-open``.

Per venue, the venue's own cancel-all is used where its ``Capabilities`` say it has one (it
also reaches orders the journal does not know, placed by hand or by another tool); then each
journal order still open there is cancelled by id, which records its final state (after a
venue-wide cancel the venue answers with the state it already has). Where the venue has no
cancel-all, or it fails, each open order is cancelled by id. Nothing is retried blindly:
every order that could not be cancelled is reported with the reason.

When another engine holds the journal, the orders are cancelled on the venues without
writing to the journal: the running engine follows its orders and records the cancels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import define, field

from arbexec.engine import Engine
from arbexec.errors import ArbexecError
from arbexec.exchange import Exchange
from arbexec.journal import JournalRow


@define
class CancelReport:
    venues: list[dict[str, Any]] = field(factory=list)
    cancelled: list[dict[str, Any]] = field(factory=list)
    failed: list[dict[str, Any]] = field(factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {"venues": self.venues, "cancelled": self.cancelled, "failed": self.failed}


def _order(row: JournalRow, **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": row.idempotency_key, "request_id": row.request_id,
            "venue": row.venue, "market": row.market, "side": row.side,
            "outcome": row.outcome, "quantity": str(row.quantity),
            "limit_price": str(row.limit_price), **extra}


async def cancel_open_orders(engine: Engine, venues: Mapping[str, Exchange], *,
                             market: str | None = None, journaled: bool = True
                             ) -> CancelReport:
    """Cancel every open order on ``venues`` (of one market, if given); see the module."""
    report = CancelReport()
    for name, exchange in venues.items():
        rows = [r for r in engine.journal.non_final(name)
                if market is None or r.market == market]
        entry: dict[str, Any] = {"venue": name, "method": "each order", "swept": None,
                                 "error": None}
        if exchange.capabilities.cancel_all:
            entry["method"] = "venue cancel-all"
            try:
                entry["swept"] = await exchange.cancel_all_orders(market)
            except ArbexecError as exc:
                entry["error"] = str(exc)
                entry["method"] = "each order (the venue's cancel-all failed)"
        report.venues.append(entry)
        for row in rows:
            await _cancel_one(engine, exchange, row, report, journaled=journaled)
    return report


async def _cancel_one(engine: Engine, exchange: Exchange, row: JournalRow,
                      report: CancelReport, *, journaled: bool) -> None:
    if row.venue_order_id is None:
        report.failed.append(_order(row, status=row.status.value, reason=(
            f"no venue order id yet ({row.status.value}); `arbexec reconcile` looks it up "
            "and a venue-wide cancel-all, where the venue has one, already covered it")))
        return
    try:
        if journaled:
            result = await engine.cancel(row.idempotency_key)
            status = result.status
        else:
            state = await exchange.cancel_order(row.venue_order_id)
            status = state.status
    except ArbexecError as exc:
        report.failed.append(_order(row, status=row.status.value, reason=str(exc)))
        return
    if status.is_final:
        report.cancelled.append(_order(row, status=status.value))
    else:
        report.failed.append(_order(row, status=status.value,
                                    reason=f"still {status.value} after the cancel"))
