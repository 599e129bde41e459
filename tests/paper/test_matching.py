"""Book walking, time in force, post-only, expiry, NO/YES mirroring, liquidity consumption."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from arbexec.errors import NoLiquidity, PostOnlyWouldCross
from arbexec.model import Liquidity, OrderStatus

D = Decimal


async def test_marketable_buy_walks_levels_at_each_level_price(make_venue, request_for, submit):
    venue = make_venue()
    state = await submit(venue, request_for(quantity=250, price="0.53"))

    assert state.status is OrderStatus.FILLED
    assert [(f.price, f.quantity) for f in state.fills] == [(D("0.51"), 100), (D("0.52"), 150)]
    assert state.average_price == D("0.516")  # (100 x 0.51 + 150 x 0.52) / 250
    assert all(f.liquidity is Liquidity.TAKER for f in state.fills)
    assert len({f.trade_id for f in state.fills}) == 2
    book = await venue.fetch_order_book("M")
    assert [(lv.price, lv.size) for lv in book.asks] == [(D("0.52"), 50), (D("0.53"), 300)]


async def test_walk_stops_at_the_limit(make_venue, request_for, submit):
    venue = make_venue()
    state = await submit(venue, request_for(quantity=1000, price="0.52", time_in_force="IOC"))
    assert state.filled_quantity == 300
    assert max(f.price for f in state.fills) == D("0.52")


async def test_partial_fill_then_rest_then_fill_when_liquidity_returns(
    make_venue, request_for, submit
):
    venue = make_venue(replenish="0.5")
    state = await submit(venue, request_for(quantity=150, price="0.51"))

    assert state.status is OrderStatus.PARTIALLY_FILLED
    assert state.filled_quantity == 100 and state.remaining == 50
    assert [o.venue_order_id for o in await venue.fetch_open_orders()] == [state.venue_order_id]
    balance = await venue.fetch_balance()
    assert balance.total == D(10_000) - D("51.00")
    assert balance.reserved == D("25.50")  # 50 x 0.51 set aside for the resting remainder

    await venue.advance(1)  # half of the 100 taken at 0.51 comes back and meets our bid
    later = await venue.fetch_order(state.venue_order_id)
    assert later.status is OrderStatus.FILLED
    assert later.fills[-1].liquidity is Liquidity.MAKER
    assert later.fills[-1].price == D("0.51") and later.fills[-1].quantity == 50
    balance = await venue.fetch_balance()
    assert balance.reserved == 0
    assert balance.total == D(10_000) - D("76.50")


async def test_resting_order_fills_when_the_market_trades_through(
    make_venue, request_for, submit, tmp_path
):
    snapshot = tmp_path / "book.json"
    snapshot.write_text(json.dumps({"markets": {"S": {"tick_size": "0.01", "frames": [
        {"bids": [["0.50", "100"]], "asks": [["0.55", "100"]]},
        {"bids": [["0.45", "100"]], "asks": [["0.48", "40"], ["0.50", "100"]]},
    ]}}}))
    venue = make_venue(snapshot=str(snapshot))
    state = await submit(venue, request_for(market="S", quantity=60, price="0.52"))
    assert state.status is OrderStatus.OPEN

    await venue.advance(1)  # the offer drops to 0.48: sellers trade through our 0.52 bid
    filled = await venue.fetch_order(state.venue_order_id)
    assert filled.status is OrderStatus.FILLED
    assert [(f.price, f.quantity, f.liquidity) for f in filled.fills] == [
        (D("0.52"), 60, Liquidity.MAKER)
    ]


async def test_ioc_cancels_the_remainder(make_venue, request_for, submit):
    venue = make_venue()
    state = await submit(venue, request_for(quantity=150, price="0.51", time_in_force="IOC"))
    assert state.status is OrderStatus.CANCELLED
    assert state.filled_quantity == 100 and state.average_price == D("0.51")
    assert "immediate-or-cancel" in state.reason
    assert await venue.fetch_open_orders() == []
    assert (await venue.fetch_balance()).reserved == 0


async def test_ioc_with_nothing_to_match_is_cancelled_unfilled(make_venue, request_for, submit):
    venue = make_venue()
    state = await submit(venue, request_for(quantity=10, price="0.50", time_in_force="IOC"))
    assert state.status is OrderStatus.CANCELLED and state.filled_quantity == 0
    assert state.fills == ()


async def test_fok_fills_entirely(make_venue, request_for, submit):
    venue = make_venue()
    state = await submit(venue, request_for(quantity=300, price="0.52", time_in_force="FOK"))
    assert state.status is OrderStatus.FILLED and state.filled_quantity == 300


async def test_fok_that_cannot_fill_entirely_takes_nothing(make_venue, request_for, submit):
    venue = make_venue()
    request = request_for(quantity=301, price="0.52", time_in_force="FOK")
    prepared = await venue.prepare_order(request)
    with pytest.raises(NoLiquidity, match="only 300 of 301"):
        await venue.create_order(prepared)
    assert await venue.lookup_order(prepared.identity) is None
    book = await venue.fetch_order_book("M")
    assert book.asks[0].size == 100  # nothing consumed
    assert (await venue.fetch_balance()).total == D(10_000)


async def test_post_only_is_refused_when_it_would_cross(make_venue, request_for, submit):
    venue = make_venue()
    with pytest.raises(PostOnlyWouldCross):
        await submit(venue, request_for(price="0.51", post_only=True))
    with pytest.raises(PostOnlyWouldCross):  # NO buy at 0.51 = YES sell at 0.49: hits the bid
        await submit(venue, request_for(outcome="NO", price="0.51", post_only=True))
    resting = await submit(venue, request_for(price="0.50", post_only=True))
    assert resting.status is OrderStatus.OPEN and resting.filled_quantity == 0


async def test_gtd_expires_at_its_time(make_venue, request_for, submit, clock, later):
    venue = make_venue()
    state = await submit(venue, request_for(quantity=150, price="0.51", time_in_force="GTD",
                                            expires_at=later(30)))
    assert state.status is OrderStatus.PARTIALLY_FILLED

    clock.advance(29)
    assert (await venue.fetch_order(state.venue_order_id)).status is (
        OrderStatus.PARTIALLY_FILLED)
    clock.advance(1)
    expired = await venue.fetch_order(state.venue_order_id)
    assert expired.status is OrderStatus.EXPIRED
    assert expired.filled_quantity == 100  # expiry keeps the fills
    assert expired.updated_at == later(0)
    assert (await venue.fetch_balance()).reserved == 0
    assert await venue.fetch_open_orders() == []


async def test_gtd_in_the_past_is_refused(make_venue, request_for, submit, later):
    from arbexec.errors import InvalidOrder

    venue = make_venue()
    with pytest.raises(InvalidOrder, match="in the past"):
        await submit(venue, request_for(time_in_force="GTD", expires_at=later(-1)))


async def test_cancel_keeps_fills(make_venue, request_for, submit):
    venue = make_venue()
    state = await submit(venue, request_for(quantity=150, price="0.51"))
    cancelled = await venue.cancel_order(state.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.filled_quantity == 100 and len(cancelled.fills) == 1
    assert (await venue.fetch_balance()).reserved == 0
    again = await venue.cancel_order(state.venue_order_id)  # final: answered, not re-cancelled
    assert again == cancelled


async def test_cancel_all_by_market(make_venue, request_for, submit):
    venue = make_venue(markets={"M": {"mid": "0.5", "volatility": 0.0},
                                "N": {"mid": "0.3", "volatility": 0.0}})
    await submit(venue, request_for(market="M", price="0.40"))
    await submit(venue, request_for(market="M", price="0.41"))
    await submit(venue, request_for(market="N", price="0.20"))
    assert await venue.cancel_all_orders("M") == 2
    assert [o.market for o in await venue.fetch_open_orders()] == ["N"]
    assert await venue.cancel_all_orders() == 1


async def test_buying_no_takes_the_yes_bids_at_mirrored_prices(make_venue, request_for, submit):
    venue = make_venue()
    state = await submit(venue, request_for(outcome="NO", quantity=150, price="0.52"))
    assert [(f.price, f.quantity) for f in state.fills] == [(D("0.51"), 100), (D("0.52"), 50)]
    book = await venue.fetch_order_book("M")
    assert [(lv.price, lv.size) for lv in book.bids] == [(D("0.48"), 150), (D("0.47"), 300)]
    [position] = await venue.fetch_positions()
    assert position.outcome.value == "NO" and position.quantity == 150


async def test_buy_no_at_q_matches_sell_yes_at_one_minus_q(make_venue, request_for, submit):
    no_buyer = make_venue(name="a")
    yes_seller = make_venue(name="b")
    # Give the seller YES contracts bought off the ask, then sell them into the bid.
    await submit(yes_seller, request_for(quantity=150, price="0.52"))
    await yes_seller.advance(1)

    bought_no = await submit(no_buyer, request_for(outcome="NO", quantity=150, price="0.52"))
    sold_yes = await submit(yes_seller, request_for(side="SELL", quantity=150, price="0.48"))

    assert [(1 - f.price, f.quantity) for f in bought_no.fills] == [
        (f.price, f.quantity) for f in sold_yes.fills
    ]
    assert (await no_buyer.fetch_order_book("M")).bids == (
        await yes_seller.fetch_order_book("M")).bids


async def test_consumed_liquidity_comes_back_as_the_process_steps(
    make_venue, request_for, submit
):
    venue = make_venue(replenish="1")
    await submit(venue, request_for(quantity=100, price="0.51"))
    assert (await venue.fetch_order_book("M")).asks[0].price == D("0.52")
    await venue.advance(1)
    assert (await venue.fetch_order_book("M")).asks[0].price == D("0.51")


async def test_a_duplicate_identity_is_refused(make_venue, request_for):
    from arbexec.errors import DuplicateOrder

    venue = make_venue()
    prepared = await venue.prepare_order(request_for(price="0.40"))
    await venue.create_order(prepared)
    with pytest.raises(DuplicateOrder):
        await venue.create_order(prepared)
    assert len(await venue.fetch_open_orders()) == 1


async def test_off_grid_and_unknown_markets_are_refused(make_venue, request_for):
    from arbexec.errors import InvalidOrder, OffGridOrder

    venue = make_venue()
    with pytest.raises(OffGridOrder):
        await venue.prepare_order(request_for(price="0.505"))
    with pytest.raises(InvalidOrder, match="unknown market"):
        await venue.prepare_order(request_for(market="NOPE"))
