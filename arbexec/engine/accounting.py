"""Accounting: positions, today's P&L and the exposure ledger, all from fills.

Money is always the sum of fill notionals (quantity x price per trade), never a filled
quantity times a reported average (a quotient with as many digits as Decimal keeps). The
same rules keep the journal's running summaries, which start-up restores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from attrs import define, field

from arbexec.engine.live import LiveOrder
from arbexec.journal import Journal, JournalRow
from arbexec.journal.summaries import JOURNAL_TRADE
from arbexec.ledger import ExposureLedger, scope_keys
from arbexec.model import ZERO, Fill, Side
from arbexec.positions import PositionBook
from arbexec.risk.base import Claim, ClaimKind


def fills_notional(fills: Sequence[Fill]) -> Decimal:
    return sum((fill.quantity * fill.price for fill in fills), ZERO)


@define
class Signal:
    """Wakes every waiter when something is given back (a reservation settled or released,
    an outcome observed): admission waiting for a breaker's in-flight slot retries then."""

    _waiters: list[asyncio.Future[None]] = field(factory=list)

    def wait(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        return future

    def fire(self) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)


@define
class Accounting:
    ledger: ExposureLedger
    positions: PositionBook
    market_events: Mapping[str, str]  # "venue:market" -> event, from config
    _learned_events: dict[tuple[str, str], str] = field(factory=dict)  # from market rules
    _keys: dict[tuple[str, str], list[str]] = field(factory=dict)  # scope keys, cached
    freed: Signal = field(factory=Signal)

    def event_of(self, venue: str, market: str) -> str | None:
        return self.market_events.get(f"{venue}:{market}") or self._learned_events.get(
            (venue, market))

    def learn_event(self, venue: str, market: str, event: str) -> None:
        self._learned_events[(venue, market)] = event
        self._keys.pop((venue, market), None)

    def keys(self, venue: str, market: str) -> list[str]:
        keys = self._keys.get((venue, market))
        if keys is None:
            keys = self._keys[(venue, market)] = scope_keys(
                venue, market, self.event_of(venue, market))
        return keys

    def today_pnl(self) -> Decimal:
        return self.positions.today_pnl()

    async def book(self, live: LiveOrder, fills: Sequence[Fill], *,
                   after_final: bool = False) -> None:
        """Book fills not booked yet (by trade id; a provisional fill that turns final is
        the same trade): positions and realised P&L (for the daily loss limit). The money at
        risk a sell closes (the cost basis of the contracts it sells) comes
        off the ledger at once; the money it opens (p per contract bought, 1 - p per one
        sold beyond the position) stands when the order settles, or at once for trades
        first reported after that (``after_final``).
        """
        booking = live.booking
        fresh = [f for f in fills if f.trade_id not in booking.trades]
        if not fresh:
            return
        booking.trades.update(f.trade_id for f in fresh)
        request = live.request
        realised, closed, opened = self.positions.book(
            request.venue, request.market, request.outcome.value, request.side, fresh,
            today=True)
        booking.realised += realised
        live.opened += opened
        keys = self.keys(request.venue, request.market)
        if closed:
            await self.ledger.adjust(keys, -closed)
        if after_final:
            await self.ledger.adjust(keys, opened)

    async def settle(self, live: LiveOrder) -> None:
        """The order is final: its reservation becomes the money its fills opened (a buy's
        notional; a sell's 1 - p per contract beyond the
        position). An order final with fills its venue never listed is booked as one fill
        at its average price, as the journal writes it (``summaries.JOURNAL_TRADE``)."""
        request = live.request
        if not live.booking.trades and live.filled > 0 and live.average_price is not None:
            try:
                unlisted = Fill(trade_id=JOURNAL_TRADE, quantity=live.filled,
                                price=live.average_price, fee=live.fees)
            except (TypeError, ValueError, ArithmeticError):
                pass  # not a fill the model accepts: the journal leaves it out too
            else:
                await self.book(live, [unlisted])
        await self.ledger.settle(live.key, live.opened,
                                 self.keys(request.venue, request.market))
        self.freed.fire()

    def booked(self, live: LiveOrder, fills: Sequence[Fill], *, opened: Decimal = ZERO) -> None:
        """Fills already booked from the journal at start (an order followed again), and
        the money they opened (``Journal.opened_by``), which stands when it settles."""
        live.booking.trades.update(fill.trade_id for fill in fills)
        live.opened = opened

    async def release(self, key: str) -> None:
        """Never sent: everything the order claimed is given back, its rate slots too."""
        await self.ledger.release(key)
        self.freed.fire()

    async def sent_and_refused(self, key: str) -> None:
        """Sent, and ended with nothing filled (the venue refused it, or never received
        it): its holds are given back, but its rate-window slots stay counted for their
        window, since the send itself went to the venue."""
        await self.ledger.settle(key, ZERO, ())
        self.freed.fire()

    # ------------------------------------------------------------------ at start

    async def restore_standing(self, journal: Journal, today: date) -> None:
        """Positions, standing exposure and today's realised P&L from the journal's running
        summaries (``arbexec.journal.summaries``, kept by the engine's own booking rules),
        so start-up does not read the journal's history. Call after ``restore``."""
        self.positions.restore(journal.positions(), day=today.isoformat(),
                               today=journal.realised_on(today))
        for (venue, market), amount in sorted(journal.market_exposure().items()):
            if amount:
                await self.ledger.adjust(self.keys(venue, market), amount)

    async def restore(self, row: JournalRow, fills: Sequence[Fill], *,
                      opening: Decimal = ZERO, opened: Decimal = ZERO) -> None:
        """A live order's reservation at start, as admission made it: a buy's exposure (the
        money its fills took plus its unfilled remainder at the limit price) and the cash
        promised to that remainder; a sell's contracts still promised and, for the
        ``opening`` contracts it was admitted to sell beyond the position, the (1 - p) x
        quantity of those not filled yet as exposure and cash, with the money its fills
        already ``opened`` (``Journal.opened_by``; it stands only when the order is final)
        as exposure too; the order's open-order slots. Limits were checked when it was
        admitted: nothing is refused."""
        filled = sum((fill.quantity for fill in fills), ZERO) if fills else row.filled_quantity
        remaining = max(row.quantity - filled, ZERO)
        claims: list[Claim] = [
            _restored(key, Decimal(1), ClaimKind.HOLD)
            for key in (f"open_orders:market:{row.venue}:{row.market}", "open_orders:total")]
        if row.side == Side.BUY.value:
            taken = fills_notional(fills) if fills else row.filled_quantity * (
                row.average_price or row.limit_price)
            amount = taken + remaining * row.limit_price
            claims += [_restored(key, amount, ClaimKind.EXPOSURE)
                       for key in self.keys(row.venue, row.market)]
            claims.append(_restored(f"cash:{row.venue}", remaining * row.limit_price,
                                    ClaimKind.HOLD))
        else:
            # fills close held contracts first: what is left to open is the lesser part
            opens = min(remaining, opening)
            claims.append(_restored(f"position:{row.venue}:{row.market}:{row.outcome}",
                                    remaining - opens, ClaimKind.HOLD))
            at_risk = opens * (Decimal(1) - row.limit_price)
            if at_risk + opened > 0:
                claims += [_restored(key, at_risk + opened, ClaimKind.EXPOSURE)
                           for key in self.keys(row.venue, row.market)]
            if opens > 0:
                claims.append(_restored(f"cash:{row.venue}", at_risk, ClaimKind.HOLD))
        await self.ledger.try_reserve(row.idempotency_key, claims)


def _restored(key: str, amount: Decimal, kind: ClaimKind) -> Claim:
    return Claim(key=key, amount=amount, limit=Decimal("Infinity"), rule="restart",
                 code="restored", kind=kind)
