"""The same seed and the same requests give the same fills; the process steps on demand."""

from __future__ import annotations

from arbexec.model import OrderRequest

WALK = {"mid": "0.50", "depth": [50, 80, 120], "volatility": 0.8}
MARKETS = {"A": dict(WALK), "B": dict(WALK, mid="0.30")}


def script() -> list[tuple[int, OrderRequest]]:
    """Steps to take before each request, and the request (fixed ids, so fixed identities)."""
    plan = []
    for i in range(40):
        plan.append((i % 3, OrderRequest(
            request_id=f"r{i}", idempotency_key=f"det-{i}", venue="paper",
            market="A" if i % 2 else "B", outcome="NO" if i % 5 == 0 else "YES",
            side="BUY", quantity=30 + i, limit_price="0.55" if i % 2 else "0.35",
            time_in_force="IOC" if i % 4 else "GTC")))
    return plan


async def run(venue) -> list[tuple]:
    trail = []
    for steps, request in script():
        await venue.advance(steps)
        state = await venue.create_order(await venue.prepare_order(request))
        trail.append((state.status, tuple((f.trade_id, f.price, f.quantity) for f in state.fills)))
    await venue.advance(5)
    for state in await venue.fetch_open_orders():
        trail.append((state.venue_order_id, state.filled_quantity))
    trail.append(await venue.fetch_balance())
    return trail


async def test_same_seed_same_fills(make_venue):
    first = await run(make_venue(seed=42, markets=MARKETS))
    second = await run(make_venue(seed=42, markets=MARKETS))
    assert first == second
    fills = [fill for entry in first[:40] for fill in entry[1]]
    assert len(fills) > 10  # the script really trades
    assert len({price for _, price, _ in fills}) > 3  # at prices the walk moved to


async def test_another_seed_takes_another_path(make_venue):
    a = make_venue(name="a", seed=1, markets=MARKETS)
    b = make_venue(name="b", seed=2, markets=MARKETS)
    await a.advance(200)
    await b.advance(200)
    mids_a = [(await a.fetch_order_book(m)).mid() for m in ("A", "B")]
    mids_b = [(await b.fetch_order_book(m)).mid() for m in ("A", "B")]
    assert mids_a != mids_b


async def test_a_market_path_does_not_depend_on_other_markets(make_venue):
    alone = make_venue(name="alone", seed=9, markets={"A": dict(WALK)})
    together = make_venue(name="together", seed=9, markets=MARKETS)
    await alone.advance(50)
    await together.advance(50)
    assert (await alone.fetch_order_book("A")).bids == (
        await together.fetch_order_book("A")).bids


async def test_time_steps_equal_explicit_steps(make_venue, clock):
    timed = make_venue(name="timed", seed=5, markets=MARKETS, step_seconds=0.5)
    stepped = make_venue(name="stepped", seed=5, markets=MARKETS)
    clock.advance(10)  # 20 steps of 0.5 s
    await stepped.advance(20)
    for market in ("A", "B"):
        assert (await timed.fetch_order_book(market)).bids == (
            await stepped.fetch_order_book(market)).bids


async def test_steps_per_order_moves_the_traded_market(make_venue, request_for, submit):
    venue = make_venue(seed=5, markets=MARKETS, steps_per_order=3)
    reference = make_venue(name="ref", seed=5, markets=MARKETS)
    await submit(venue, request_for(market="A", price="0.10"))
    await reference.advance(3, market="A")
    assert (await venue.fetch_order_book("A")).bids == (
        await reference.fetch_order_book("A")).bids
    assert (await venue.fetch_order_book("B")).bids == (
        await reference.fetch_order_book("B")).bids


async def test_the_walk_stays_inside_the_unit_interval(make_venue):
    venue = make_venue(seed=11, markets={"E": {"mid": "0.03", "volatility": 1.0}})
    for _ in range(50):
        await venue.advance(20)
        book = await venue.fetch_order_book("E")
        assert book.bids and book.asks
        assert all(0 < lv.price < 1 for lv in (*book.bids, *book.asks))
