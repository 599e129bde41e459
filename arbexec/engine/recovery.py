"""Recovery: what a crash left, reconciliation with the venues, and venue comparison.

At start, PENDING orders (maybe sent) become UNKNOWN, every live order's reservation comes
back (its fills plus its unfilled remainder) and positions, standing exposure and today's
P&L come from the journal's running summaries (never from every fill ever journaled).
Reconciliation takes each venue's word for an order, with two rules: an
order the venue acknowledged is never concluded "never received" (a lookup that cannot
find it is a loudly reported mismatch; the order keeps its exposure and stays followed),
and for one it never acknowledged a miss proves nothing until the grace period has passed
in wall-clock time since the send. A plugin failing a lookup affects that order only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import define

from arbexec.engine.accounting import Accounting
from arbexec.engine.dispatch import as_state
from arbexec.engine.follow import Follow
from arbexec.engine.live import LiveOrder, LiveOrders
from arbexec.engine.outcomes import Outcomes
from arbexec.engine.recorder import Recorder
from arbexec.errors import ExchangeError
from arbexec.events import Event
from arbexec.exchange import Exchange
from arbexec.journal import Journal, JournalRow
from arbexec.model import OrderState, OrderStatus

log = logging.getLogger("arbexec.engine")

MISMATCH = ("mismatch: the venue acknowledged this order but its lookup finds nothing; "
            "exposure kept, still followed")


@define
class Recovery:
    journal: Journal
    venues: Mapping[str, Exchange]
    live: LiveOrders
    outcomes: Outcomes
    follow: Follow
    accounting: Accounting
    recorder: Recorder
    clock: Callable[[], datetime]

    def learn_events(self) -> None:
        """Each order's event as admission knew it (from the venue's market rules, which a
        new process has not fetched yet) comes back from the journal's summary of its
        ``order.sent`` records, so per-event exposure is restored under the same scope."""
        for (venue, market), name in self.journal.market_events().items():
            if self.accounting.event_of(venue, market) is None:
                self.accounting.learn_event(venue, market, name)

    async def recover(self) -> None:
        """Turn what a crash left into visible state: PENDING orders may have been sent, so
        they become UNKNOWN; every non-final order holds its exposure again."""
        self.learn_events()
        for row in self.journal.non_final():
            if row.status is OrderStatus.PENDING:
                event = Event(kind="order.unknown", request_id=row.request_id, data={
                    "venue": row.venue, "identity": row.identity,
                    "reason": "the engine stopped while the order was being sent",
                })
                self.recorder.state(
                    row.idempotency_key, status=OrderStatus.UNKNOWN,
                    reason_code="engine_restart",
                    reason="the engine stopped while the order was being sent; "
                           "resolved by looking it up on the venue",
                    events=[event],
                )
            await self.accounting.restore(row, self.journal.fills(row.idempotency_key),
                                          opening=self.opening_of(row),
                                          opened=self.journal.opened_by(row.idempotency_key))
        await self.accounting.restore_standing(self.journal, self.clock().date())

    def opening_of(self, row: JournalRow) -> Decimal:
        """The contracts a live sell opens beyond the position (``allow_open``), as its
        ``order.sent`` record says admission judged it."""
        if row.side != "SELL":
            return Decimal(0)
        for _, event in self.journal.events(kinds=("order.sent",), key=row.idempotency_key):
            return Decimal(str(event.data.get("opening", "0")))
        return Decimal(0)

    def live_from_row(self, row: JournalRow) -> LiveOrder:
        """Follow a journal order this engine was not following (after a restart): the
        fills the journal holds are known and already booked (from the journal, at start)."""
        live = LiveOrder(key=row.idempotency_key, request=row.to_request(),
                         identity=row.identity or "", venue_order_id=row.venue_order_id,
                         status=row.status, started=time.perf_counter(),
                         sent_at=self.journal.sent_at(row.idempotency_key) or row.updated_at,
                         acknowledged_at=row.acknowledged_at,
                         filled=row.filled_quantity, average_price=row.average_price,
                         fees=row.fees)
        fills = self.journal.fills(row.idempotency_key)
        self.live.seen(live, fills)
        self.accounting.booked(live, fills, opened=self.journal.opened_by(row.idempotency_key))
        return live

    async def reconcile(self) -> list[dict[str, Any]]:
        """Look every non-final journal order up on its venue and take the venue's word.
        Returns one report line per order."""
        report: list[dict[str, Any]] = []
        for row in self.journal.non_final():
            report.append(await self.reconcile_row(row))
        if report:
            self.recorder.events([Event(kind="reconcile", data={"orders": len(report)})])
        return report

    async def reconcile_order(self, key: str) -> dict[str, Any] | None:
        """Reconcile one non-final order this engine is not following (a pair leg left
        UNKNOWN, for one). None when there is nothing to do."""
        if key in self.live:
            return None
        row = self.journal.get(key)
        if row is None or row.status.is_final:
            return None
        return await self.reconcile_row(row)

    async def reconcile_row(self, row: JournalRow) -> dict[str, Any]:
        exchange = self.venues.get(row.venue)
        entry: dict[str, Any] = {"idempotency_key": row.idempotency_key,
                                 "venue": row.venue, "was": row.status.value}
        if exchange is None:
            entry.update(now=row.status.value, note="venue not configured; left as is")
            return entry
        followed = self.live.get(row.idempotency_key)
        if followed is not None and self.follow.settings.background_tracking:
            entry.update(now=followed.status.value, note="followed by this engine")
            return entry
        try:
            found = as_state(await exchange.lookup_order(row.identity or ""))
        except Exception as exc:  # an outage or a plugin fault: this order only
            if not isinstance(exc, ExchangeError):
                log.warning("the %s plugin failed looking up %s: %s: %s", row.venue,
                            row.idempotency_key, type(exc).__name__, exc)
            entry.update(now=row.status.value, note=f"lookup failed: {exc}")
            return entry
        if row.status is OrderStatus.PENDING:
            row = self.journal.get(row.idempotency_key) or row
        live = followed or self.live_from_row(row)  # followed: tracked, nobody polls it
        if found is None:
            if live.seen_by_venue:
                self.outcomes.mismatch(live, MISMATCH)
                self.live.track(live)
                self.follow.in_background(live, exchange)
                entry.update(now=row.status.value, note=MISMATCH)
            elif self.follow.grace_over(live):
                await self.outcomes.never_received(row.idempotency_key)
                entry.update(now=OrderStatus.REJECTED.value, note="never received by the venue")
            else:
                if self.follow.resolve_in_background(live, exchange):
                    self.live.track(live)
                entry.update(now=row.status.value,
                             note="not found on the venue yet (within the grace period)")
            return entry
        self.live.track(live)
        if found.is_final:
            await self.outcomes.finish(live, found)
        else:
            await self.outcomes.progress(live, found)
            self.follow.in_background(live, exchange)
        entry.update(now=found.status.value, filled=str(found.filled_quantity))
        return entry

    async def compare_venues(self) -> list[dict[str, Any]]:
        """Venue orders the journal does not know, reported (never adopted silently)."""
        report: list[dict[str, Any]] = []
        for name, exchange in self.venues.items():
            try:
                open_orders = list(await exchange.fetch_open_orders())
            except Exception as exc:  # an outage or a plugin fault: this venue only
                if not isinstance(exc, ExchangeError):
                    log.warning("the %s plugin failed listing open orders: %s: %s", name,
                                type(exc).__name__, exc)
                report.append({"venue": name, "note": f"could not list open orders: {exc}"})
                continue
            for state in open_orders:
                if not isinstance(state, OrderState):
                    continue
                if self.journal.find_by_venue_order_id(name, state.venue_order_id) is None:
                    report.append({
                        "venue": name, "venue_order_id": state.venue_order_id,
                        "market": state.market, "status": state.status.value,
                        "note": "open on the venue but not in the journal (not adopted)",
                    })
        return report
