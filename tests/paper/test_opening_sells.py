"""``sells_beyond_position = "open_opposite"``: a sell beyond the contracts held opens the
other outcome at 1 - p, as an ask on Kalshi's single YES book does (the default refuses it).

The book (conftest): bids 0.49/0.48/0.47, asks 0.51/0.52/0.53, 100/200/300 a level.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbexec.errors import InsufficientFunds
from arbexec.model import OrderStatus, Outcome

D = Decimal
OPENS = {"sells_beyond_position": "open_opposite"}
#: moves a tick a step (seeded), so a resting order fills after some steps
MOVING = {"M": {"mid": "0.50", "spread_ticks": 2, "depth": [100, 200, 300], "volatility": 1.0}}


def held(positions, outcome):
    return {p.outcome: (p.quantity, p.average_price) for p in positions}.get(outcome)


async def test_the_default_still_refuses_a_sell_beyond_the_position(make_venue, request_for,
                                                                    submit):
    venue = make_venue()
    with pytest.raises(InsufficientFunds, match="does not sell short"):
        await submit(venue, request_for(side="SELL", quantity=1, price="0.49"))


async def test_a_sell_closes_what_is_held_then_opens_the_other_outcome(make_venue,
                                                                      request_for, submit):
    venue = make_venue(fees="kalshi", **OPENS)
    bought = await submit(venue, request_for(quantity=10, price="0.51"))
    sold = await submit(venue, request_for(side="SELL", quantity=30, price="0.49",
                                           time_in_force="IOC"))
    assert sold.status is OrderStatus.FILLED and sold.average_price == D("0.49")
    positions = await venue.fetch_positions()
    assert held(positions, Outcome.YES) == (0, None)
    assert held(positions, Outcome.NO) == (20, D("0.51"))  # 20 opened at 1 - 0.49
    [yes] = [p for p in positions if p.outcome is Outcome.YES]
    assert yes.realised_pnl == D("-0.20")  # 10 closed at 0.49 against 0.51
    # one fee for the fill, by the venue's model: ceil(0.07 x 30 x 0.49 x 0.51) = 0.5248
    assert sold.fees == D("0.5248")
    total = (await venue.fetch_balance()).total
    assert total == D(10_000) - D("5.10") - bought.fees + D("4.90") - D("10.20") - D("0.5248")


async def test_a_no_sell_beyond_the_position_opens_yes(make_venue, request_for, submit):
    venue = make_venue(**OPENS)
    sold = await submit(venue, request_for(side="SELL", outcome="NO", quantity=10,
                                           price="0.45", time_in_force="IOC"))
    assert sold.filled_quantity == 10 and sold.average_price == D("0.49")  # YES ask 0.51
    assert held(await venue.fetch_positions(), Outcome.YES) == (10, D("0.51"))
    assert (await venue.fetch_balance()).total == D(10_000) - D("5.10")


async def test_the_opening_part_needs_its_cash_fee_included(make_venue, request_for, submit):
    venue = make_venue(cash="4", fees="kalshi", **OPENS)
    # opening 10 NO at 0.40 costs 4 plus the worst-case fee: refused, nothing recorded
    request = request_for(side="SELL", quantity=10, price="0.60")
    prepared = await venue.prepare_order(request)
    with pytest.raises(InsufficientFunds, match=r"opens NO: buying 10 NO at 0.40 needs \$4"):
        await venue.create_order(prepared)
    assert await venue.lookup_order(prepared.identity) is None
    assert (await venue.fetch_balance()).available == 4


async def test_a_reduce_only_sell_never_opens(make_venue, request_for, submit):
    venue = make_venue(**OPENS)
    with pytest.raises(InsufficientFunds, match="reduce_only sell never opens"):
        await submit(venue, request_for(side="SELL", quantity=1, price="0.49",
                                        tags={"reduce_only": True}))


async def test_a_resting_opening_sell_holds_cash_and_a_cancel_gives_it_back(
        make_venue, request_for, submit):
    venue = make_venue(fees="kalshi", **OPENS)
    await submit(venue, request_for(quantity=5, price="0.51"))
    before = await venue.fetch_balance()
    resting = await submit(venue, request_for(side="SELL", quantity=15, price="0.60"))
    assert resting.status is OrderStatus.OPEN
    balance = await venue.fetch_balance()
    # the 10 beyond the 5 held: 10 x 0.40 plus the worst maker fee (0 on Kalshi's default)
    assert before.available - balance.available == D(4)
    assert venue.ledger.sellable("M", Outcome.YES) == 0  # the 5 held are promised
    await venue.cancel_order(resting.venue_order_id)
    assert await venue.fetch_balance() == before
    assert venue.ledger.sellable("M", Outcome.YES) == 5


async def test_a_partly_filled_opening_sell_rests_on_its_opening_part(make_venue, request_for,
                                                                      submit):
    venue = make_venue(replenish="0.5", **OPENS)
    await submit(venue, request_for(quantity=5, price="0.51"))
    sold = await submit(venue, request_for(side="SELL", quantity=150, price="0.49"))
    # 100 taken at 0.49 (5 closing, 95 opening NO at 0.51); 50 rest, all opening
    assert sold.status is OrderStatus.PARTIALLY_FILLED and sold.filled_quantity == 100
    balance = await venue.fetch_balance()
    assert balance.total - balance.available == D(50) * D("0.51")
    await venue.advance(1)  # half the taken bids come back: the resting 50 fill as maker
    state = await venue.fetch_order(sold.venue_order_id)
    assert state.status is OrderStatus.FILLED
    assert held(await venue.fetch_positions(), Outcome.NO) == (145, D("0.51"))
    balance = await venue.fetch_balance()
    assert balance.total == balance.available


async def test_a_restart_restores_the_opening_sells_cash_and_its_closing_part(
        make_venue, request_for, submit, tmp_path):
    first = make_venue(state_dir=str(tmp_path), markets=MOVING, seed=5, **OPENS)
    await submit(first, request_for(quantity=5, price="0.51"))
    resting = await submit(first, request_for(side="SELL", quantity=15, price="0.52"))
    assert resting.status is OrderStatus.OPEN
    before = await first.fetch_balance()
    assert before.total - before.available == D(10) * D("0.48")
    await first.aclose()

    second = make_venue(state_dir=str(tmp_path), markets=MOVING, seed=5, **OPENS)
    assert await second.fetch_balance() == before
    assert second.ledger.sellable("M", Outcome.YES) == 0
    for _ in range(200):  # the book walks until it trades through 0.52
        await second.advance(1)
        state = await second.fetch_order(resting.venue_order_id)
        if state.status is OrderStatus.FILLED:
            break
    assert state.status is OrderStatus.FILLED
    positions = await second.fetch_positions()
    # the 5 held closed first, the 10 beyond them opened NO at 1 - 0.52
    assert held(positions, Outcome.YES) == (0, None)
    assert held(positions, Outcome.NO) == (10, D("0.48"))
    balance = await second.fetch_balance()
    assert balance.total == balance.available == (
        D(10_000) - D("2.55") + D("2.60") - D("4.80"))
