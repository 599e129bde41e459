"""Fees per model, cash and reservations, insufficient funds, P&L, settlement."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arbexec_paper.fees import KalshiFees, NoFees, PolymarketFees

from arbexec.errors import InsufficientFunds, MarketClosed
from arbexec.model import Liquidity, OrderStatus, Outcome

D = Decimal
TAKER, MAKER = Liquidity.TAKER, Liquidity.MAKER

# Kalshi's published schedule, each trade fee rounded up to $0.0001 (protocol notes §12,
# the last two observed on fills in the demo environment).
KALSHI_VECTORS = [
    ("0.07", "1", "0.50", "0.0175"),
    ("0.07", "1", "0.52", "0.0175"),
    ("0.07", "1", "0.99", "0.0007"),
    ("0.07", "100", "0.25", "1.3125"),
    ("0.07", "7", "0.33", "0.1084"),
    ("0.07", "250", "0.62", "4.1230"),
    ("0.0175", "100", "0.05", "0.0832"),
    ("0.0175", "12", "0.55", "0.0520"),
]


@pytest.mark.parametrize(("rate", "contracts", "price", "expected"), KALSHI_VECTORS)
def test_kalshi_fee_vectors(rate, contracts, price, expected):
    model = KalshiFees(taker_rate=D(rate), maker_rate=D(rate))
    assert model.fee(D(price), D(contracts), TAKER) == D(expected)
    assert model.fee(D(price), D(contracts), MAKER) == D(expected)


def test_kalshi_makers_pay_nothing_unless_the_series_charges_them():
    assert KalshiFees().fee(D("0.5"), D(100), MAKER) == 0
    assert KalshiFees(maker_rate=D("0.0175")).fee(D("0.5"), D(100), MAKER) == D("0.4375")


def test_polymarket_fee_formula():
    model = PolymarketFees(rate=D("0.02"), exponent=D(1))
    assert model.fee(D("0.5"), D(100), TAKER) == D("0.50000")
    assert model.fee(D("0.33"), D(1), TAKER) == D("0.00442")  # 0.004422 to 5 decimals
    assert model.fee(D("0.5"), D(100), MAKER) == 0  # taker-only market
    squared = PolymarketFees(rate=D("0.25"), exponent=D(2))
    assert squared.fee(D("0.5"), D(100), TAKER) == D("1.56250")  # 100 x 0.25 x 0.25^2
    assert PolymarketFees(rate=D("0.00001")).fee(D("0.5"), D(1), TAKER) == 0  # below 0.00001
    both = PolymarketFees(rate=D("0.02"), taker_only=False)
    assert both.fee(D("0.5"), D(100), MAKER) == D("0.50000")


def test_no_fees():
    assert NoFees().fee(D("0.5"), D(100), TAKER) == 0


async def test_kalshi_fees_are_charged_per_fill_and_paid_from_cash(
    make_venue, request_for, submit
):
    venue = make_venue(fees="kalshi")
    state = await submit(venue, request_for(quantity=250, price="0.53"))
    # 100 @ 0.51: 0.07 x 100 x 0.51 x 0.49 = 1.7493; 150 @ 0.52: 2.6208
    assert [f.fee for f in state.fills] == [D("1.7493"), D("2.6208")]
    assert state.fees == D("4.3701")
    assert venue.fee("M", D("0.52"), D(150), TAKER) == D("2.6208")
    balance = await venue.fetch_balance()
    assert balance.total == D(10_000) - D("129.00") - D("4.3701")


async def test_polymarket_fees_from_config(make_venue, request_for, submit):
    venue = make_venue(fees={"model": "polymarket", "rate": "0.02", "exponent": "1"})
    state = await submit(venue, request_for(quantity=100, price="0.51"))
    assert state.fees == D("0.49980")  # 100 x 0.02 x 0.51 x 0.49
    assert (await venue.fetch_balance()).total == D(10_000) - D(51) - D("0.49980")


async def test_maker_fills_pay_the_maker_rate(make_venue, request_for, submit):
    venue = make_venue(fees={"model": "kalshi", "maker_fees": True}, replenish="1")
    state = await submit(venue, request_for(quantity=150, price="0.51"))
    await venue.advance(1)
    filled = await venue.fetch_order(state.venue_order_id)
    maker = filled.fills[-1]
    assert maker.liquidity is MAKER
    assert maker.fee == D("0.2187")  # ceil(0.0175 x 50 x 0.51 x 0.49) = ceil(0.21866...)


async def test_buy_beyond_the_available_cash_is_refused(make_venue, request_for, submit):
    venue = make_venue(cash="50")
    request = request_for(quantity=100, price="0.51")
    prepared = await venue.prepare_order(request)
    with pytest.raises(InsufficientFunds, match=r"needs \$51"):
        await venue.create_order(prepared)
    assert await venue.lookup_order(prepared.identity) is None
    assert (await venue.fetch_balance()).total == 50


async def test_fees_count_towards_the_cash_needed(make_venue, request_for, submit):
    venue = make_venue(cash="51", fees="kalshi")
    with pytest.raises(InsufficientFunds):
        await submit(venue, request_for(quantity=100, price="0.51"))


async def test_resting_buys_reserve_cash(make_venue, request_for, submit):
    venue = make_venue(cash="100")
    await submit(venue, request_for(quantity=150, price="0.40"))  # rests: reserves 60
    balance = await venue.fetch_balance()
    assert (balance.total, balance.available) == (100, 40)
    with pytest.raises(InsufficientFunds):
        await submit(venue, request_for(quantity=100, price="0.45"))
    await submit(venue, request_for(quantity=100, price="0.40"))  # exactly the 40 left


async def test_selling_what_is_not_held_is_refused(make_venue, request_for, submit):
    venue = make_venue()
    with pytest.raises(InsufficientFunds, match="does not sell short"):
        await submit(venue, request_for(side="SELL", quantity=10, price="0.49"))
    await submit(venue, request_for(quantity=10, price="0.51"))
    await submit(venue, request_for(side="SELL", quantity=10, price="0.60"))  # rests, holds 10
    with pytest.raises(InsufficientFunds, match="only 0 are held and not already offered"):
        await submit(venue, request_for(side="SELL", quantity=1, price="0.60"))


async def test_selling_realises_pnl_against_average_cost(make_venue, request_for, submit):
    venue = make_venue()
    await submit(venue, request_for(quantity=100, price="0.51"))
    sold = await submit(venue, request_for(side="SELL", quantity=60, price="0.49"))
    assert sold.status is OrderStatus.FILLED and sold.average_price == D("0.49")
    [position] = await venue.fetch_positions()
    assert position.quantity == 40 and position.average_price == D("0.51")
    assert position.realised_pnl == D("-1.20")  # 60 x (0.49 - 0.51)
    assert (await venue.fetch_balance()).total == D(10_000) - D(51) + D("29.40")


async def test_resolution_pays_winners_and_cancels_orders(make_venue, request_for, submit):
    venue = make_venue()
    await submit(venue, request_for(quantity=100, price="0.51"))  # 100 YES for $51
    await submit(venue, request_for(outcome="NO", quantity=50, price="0.51"))  # 50 NO, $25.50
    resting = await submit(venue, request_for(quantity=10, price="0.40"))

    payout = await venue.resolve("M", "YES")

    assert payout == 100
    assert (await venue.fetch_order(resting.venue_order_id)).status is OrderStatus.CANCELLED
    balance = await venue.fetch_balance()
    assert balance.total == D(10_000) - D(51) - D("25.50") + D(100)
    assert balance.available == balance.total
    pnl = {p.outcome: p for p in await venue.fetch_positions()}
    assert pnl[Outcome.YES].quantity == 0 and pnl[Outcome.YES].realised_pnl == 49
    assert pnl[Outcome.NO].realised_pnl == D("-25.50")
    with pytest.raises(MarketClosed):
        await submit(venue, request_for(quantity=1, price="0.51"))
    with pytest.raises(MarketClosed):
        await venue.resolve("M", "NO")
    book = await venue.fetch_order_book("M")
    assert book.bids == () and book.asks == ()
