"""Whatever the order flow, the account adds up: a property test over random scripts."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from arbexec_paper.clock import ManualClock
from arbexec_paper.exchange import PaperExchange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbexec.errors import ExchangeError
from arbexec.exchange import ExchangeSettings
from arbexec.model import OrderRequest, OrderStatus, Outcome, Side

ACTIONS = st.one_of(
    st.tuples(
        st.just("order"),
        st.sampled_from(["A", "B"]),
        st.sampled_from(["YES", "NO"]),
        st.sampled_from(["BUY", "BUY", "SELL"]),
        st.integers(1, 400),
        st.integers(30, 70),
        st.sampled_from(["GTC", "IOC", "FOK", "GTD"]),
    ),
    st.tuples(st.just("step"), st.integers(1, 5)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("time"), st.integers(1, 20)),
)


async def play(script: list[tuple]) -> None:
    clock = ManualClock()
    venue = PaperExchange(
        ExchangeSettings(name="paper", options={
            "cash": "2000", "fees": "kalshi", "seed": 4, "step_seconds": 0,
            "markets": {"A": {"mid": "0.5", "volatility": 0.9, "depth": [50, 100]},
                        "B": {"mid": "0.3", "volatility": 0.9, "depth": [80, 80, 80]}}}),
        clock=clock)
    ids: list[str] = []
    for n, action in enumerate(script):
        if action[0] == "order":
            _, market, outcome, side, quantity, cents, tif = action
            extra = {"expires_at": clock.now + 10} if tif == "GTD" else {}
            request = OrderRequest(request_id=str(n), idempotency_key=str(n), venue="paper",
                                   market=market, outcome=outcome, side=side,
                                   quantity=quantity, limit_price=Decimal(cents) / 100,
                                   time_in_force=tif, **extra)
            try:
                state = await venue.create_order(await venue.prepare_order(request))
            except ExchangeError:
                continue
            ids.append(state.venue_order_id)
        elif action[0] == "step":
            await venue.advance(action[1])
        elif action[0] == "cancel" and ids:
            await venue.cancel_order(ids[action[1] % len(ids)])
        elif action[0] == "time":
            clock.advance(action[1])
        await check(venue, ids)


async def check(venue: PaperExchange, ids: list[str]) -> None:
    cash = Decimal(2000)
    held: dict[tuple[str, Outcome], Decimal] = {}
    reserved = Decimal(0)
    for order_id in ids:
        state = await venue.fetch_order(order_id)
        assert state.filled_quantity == sum(f.quantity for f in state.fills)
        assert state.filled_quantity <= state.quantity
        assert state.fees == sum(f.fee for f in state.fills)
        assert (state.status is OrderStatus.FILLED) == (state.filled_quantity == state.quantity)
        for fill in state.fills:
            key = (state.market, state.outcome)
            if state.side is Side.BUY:
                assert fill.price <= state.limit_price
                cash -= fill.quantity * fill.price + fill.fee
                held[key] = held.get(key, Decimal(0)) + fill.quantity
            else:
                assert fill.price >= state.limit_price
                cash += fill.quantity * fill.price - fill.fee
                held[key] = held.get(key, Decimal(0)) - fill.quantity
        if state.status.is_live and state.side is Side.BUY:
            reserved += state.remaining * state.limit_price
    balance = await venue.fetch_balance()
    assert balance.total == cash
    assert balance.total >= 0 and balance.available >= 0
    assert balance.reserved >= reserved  # limit cost plus the fee bound
    positions = {(p.market, p.outcome): p.quantity for p in await venue.fetch_positions()}
    assert {k: v for k, v in held.items() if v} == {k: v for k, v in positions.items() if v}
    assert all(v >= 0 for v in positions.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=1, max_size=40))
def test_the_account_always_adds_up(script):
    asyncio.run(play(script))
