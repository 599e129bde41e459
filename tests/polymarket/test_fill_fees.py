"""Fills carry the fee of the market's schedule: the venue applies fees at match time and its
trade reports carry no amount, so each fill is priced as the venue prices it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbexec_polymarket import parsing
from arbexec_polymarket.markets import ExchangeKind, FeeSchedule, MarketInfo

from arbexec.model import Liquidity, Outcome

ORDER = "0xabc"


def schedule(rate: str, exponent: str) -> parsing.FeeOf:
    """The plugin's own fee function for a market with this (taker-only) schedule."""
    from arbexec_polymarket.config import PolymarketConfig
    from arbexec_polymarket.credentials import Credentials
    from arbexec_polymarket.exchange import PolymarketExchange

    venue = PolymarketExchange(PolymarketConfig(), Credentials())
    venue.markets._store(MarketInfo(
        market="m", condition_id="0x" + "1" * 64, yes_token="1", no_token="2",
        outcomes=("Yes", "No"), neg_risk=False, exchange=ExchangeKind.STANDARD,
        tick_size=Decimal("0.01"), min_size=Decimal("5"),
        fees=FeeSchedule(rate=Decimal(rate), exponent=Decimal(exponent))))
    return venue._fee_for("m")


TRADES = [
    {"id": "t1", "status": "CONFIRMED", "taker_order_id": ORDER, "size": "100", "price": "0.5",
     "match_time": "1760000000"},
    {"id": "t2", "status": "MATCHED", "taker_order_id": "0xother", "price": "0.4",
     "match_time": "1760000001",
     "maker_orders": [{"order_id": ORDER, "matched_amount": "10", "price": "0.4"}]},
]


def test_taker_fills_carry_the_schedule_fee_and_maker_fills_none() -> None:
    fills = parsing.fills_for(ORDER, TRADES, fee=schedule("0.02", "1"))
    by_id = {f.trade_id: f for f in fills}
    assert by_id["t1"].fee == Decimal("0.50000")  # 100 x 0.02 x 0.25
    assert by_id["t1"].liquidity is Liquidity.TAKER and by_id["t1"].final
    assert by_id["t2"].fee == 0 and by_id["t2"].liquidity is Liquidity.MAKER
    assert not by_id["t2"].final  # MATCHED: provisional


def test_the_order_state_adds_up_its_fills_fees() -> None:
    fills = parsing.fills_for(ORDER, TRADES[:1], fee=schedule("0.02", "1"))
    raw = {"id": ORDER, "status": "MATCHED", "original_size": "100", "size_matched": "100",
           "price": "0.5", "side": "BUY", "order_type": "GTC"}
    state = parsing.order_state(raw, market="m", outcome=Outcome.YES, fills=fills)
    assert state.fees == Decimal("0.50000") and state.filled_quantity == 100


def test_the_venue_fee_keeps_fractional_exponents_in_decimal(make_venue: Any) -> None:
    venue = make_venue()
    info = MarketInfo(market="m", condition_id="0x" + "1" * 64, yes_token="1", no_token="2",
                      outcomes=("Yes", "No"), neg_risk=False, exchange=ExchangeKind.STANDARD,
                      tick_size=Decimal("0.01"), min_size=Decimal("5"),
                      fees=FeeSchedule(rate=Decimal("0.0625"), exponent=Decimal("0.5")))
    venue.markets._by_market["m"] = info
    fee = venue.fee("m", Decimal("0.5"), Decimal("10"), Liquidity.TAKER)
    assert fee == Decimal("0.31250")  # 10 x 0.0625 x sqrt(0.25), exactly
    assert venue.fee("m", Decimal("0.5"), Decimal("10"), Liquidity.MAKER) == 0
