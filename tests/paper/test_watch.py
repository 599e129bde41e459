"""watch_orders streams order changes: fills of resting orders, expiries, cancels."""

from __future__ import annotations

import asyncio
from datetime import UTC
from decimal import Decimal

from arbexec.model import Liquidity, OrderStatus


async def test_resting_fills_and_cancels_are_streamed(make_venue, request_for, submit):
    venue = make_venue(replenish="1")
    stream = venue.watch_orders()
    assert stream is not None
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # let the watcher subscribe

    state = await submit(venue, request_for(quantity=150, price="0.51"))
    created = await asyncio.wait_for(first, 1)
    assert created.status is OrderStatus.PARTIALLY_FILLED

    await venue.advance(1)
    filled = await asyncio.wait_for(anext(stream), 1)
    assert filled.venue_order_id == state.venue_order_id
    assert filled.status is OrderStatus.FILLED
    assert filled.fills[-1].liquidity is Liquidity.MAKER

    other = await submit(venue, request_for(quantity=5, price="0.30"))
    assert (await asyncio.wait_for(anext(stream), 1)).status is OrderStatus.OPEN
    await venue.cancel_order(other.venue_order_id)
    cancelled = await asyncio.wait_for(anext(stream), 1)
    assert (cancelled.venue_order_id, cancelled.status) == (
        other.venue_order_id, OrderStatus.CANCELLED)
    await stream.aclose()


async def test_the_stream_drives_expiry_by_itself(make_venue, request_for, submit):
    # A real clock here: the stream sleeps until the order's expiry and reports it.
    from datetime import datetime, timedelta

    from arbexec_paper.exchange import PaperExchange

    from arbexec.exchange import ExchangeSettings

    venue = PaperExchange(ExchangeSettings(name="paper", options={"step_seconds": 0}))
    stream = venue.watch_orders()
    expires = datetime.now(UTC) + timedelta(milliseconds=50)
    order = request_for(market="PAPER-ELECTION", quantity=5, price="0.30",
                        time_in_force="GTD", expires_at=expires)
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    await submit(venue, order)
    assert (await asyncio.wait_for(waiting, 1)).status is OrderStatus.OPEN
    expired = await asyncio.wait_for(anext(stream), 2)
    assert expired.status is OrderStatus.EXPIRED
    assert (await venue.fetch_balance()).reserved == Decimal(0)
    await stream.aclose()
    await venue.aclose()
