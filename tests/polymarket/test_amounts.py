"""Exact amounts under every tick size; off-grid prices and sizes refused with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from arbexec_polymarket.amounts import (
    limit_amounts,
    market_amounts,
    request_amounts,
    tick_rules,
)
from hypothesis import given
from hypothesis import strategies as st

from arbexec.errors import OffGridOrder
from arbexec.model import Side

D = Decimal


@pytest.mark.parametrize(
    ("tick", "price", "size", "maker", "taker"),
    [
        ("0.1", "0.3", "7", 2_100_000, 7_000_000),
        ("0.01", "0.57", "10.13", 5_774_100, 10_130_000),
        ("0.001", "0.057", "33.33", 1_899_810, 33_330_000),
        ("0.0001", "0.1234", "100.5", 12_401_700, 100_500_000),
        ("0.0001", "0.9999", "0.01", 9_999, 10_000),
    ],
)
def test_buy_amounts_are_exact(tick: str, price: str, size: str, maker: int, taker: int) -> None:
    assert limit_amounts(Side.BUY, D(price), D(size), D(tick)) == (maker, taker)
    assert limit_amounts(Side.SELL, D(price), D(size), D(tick)) == (taker, maker)


@pytest.mark.parametrize(
    ("tick", "price"),
    [("0.1", "0.35"), ("0.01", "0.575"), ("0.001", "0.0575"), ("0.0001", "0.12345")],
)
def test_off_tick_price_is_refused_with_neighbours(tick: str, price: str) -> None:
    with pytest.raises(OffGridOrder, match="not a multiple of the tick size") as caught:
        limit_amounts(Side.BUY, D(price), D("10"), D(tick))
    assert "use " in str(caught.value)


@pytest.mark.parametrize(("tick", "price"), [("0.01", "0.995"), ("0.1", "0.95"), ("0.01", "1")])
def test_price_outside_tick_band_is_refused(tick: str, price: str) -> None:
    with pytest.raises(OffGridOrder):
        limit_amounts(Side.SELL, D(price), D("10"), D(tick))


def test_unknown_tick_size_is_refused() -> None:
    with pytest.raises(OffGridOrder, match="not one Polymarket uses"):
        tick_rules("0.02")


def test_size_with_three_decimals_is_refused() -> None:
    with pytest.raises(OffGridOrder, match=r"use 10\.12"):
        limit_amounts(Side.BUY, D("0.5"), D("10.125"), D("0.01"))


def test_market_buy_spends_collateral_and_floors_shares_to_four_decimals() -> None:
    assert market_amounts(Side.BUY, D("0.55"), D("20"), D("0.01")) == (20_000_000, 36_363_600)


def test_market_sell_gives_shares_and_floors_proceeds() -> None:
    assert market_amounts(Side.SELL, D("0.057"), D("33.33"), D("0.001")) == (33_330_000, 1_899_800)


def test_market_amount_with_three_decimals_is_refused() -> None:
    with pytest.raises(OffGridOrder, match="more than 2 decimals"):
        market_amounts(Side.BUY, D("0.5"), D("10.005"), D("0.01"))


def test_request_ioc_buy_needs_whole_cent_cost() -> None:
    assert request_amounts(Side.BUY, D("0.57"), D("10"), D("0.01"), market=True) == (
        5_700_000,
        10_000_000,
    )
    with pytest.raises(OffGridOrder, match="whole cents"):
        request_amounts(Side.BUY, D("0.57"), D("10.13"), D("0.01"), market=True)


def test_request_ioc_sell_uses_the_quantity_as_amount() -> None:
    assert request_amounts(Side.SELL, D("0.57"), D("10.13"), D("0.01"), market=True) == (
        10_130_000,
        5_774_100,
    )


@given(
    tick=st.sampled_from(["0.1", "0.01", "0.001", "0.0001"]),
    steps=st.integers(min_value=1, max_value=9999),
    cents=st.integers(min_value=1, max_value=10_000_000),
    side=st.sampled_from([Side.BUY, Side.SELL]),
)
def test_limit_amounts_imply_exactly_the_price(
    tick: str, steps: int, cents: int, side: Side
) -> None:
    t = D(tick)
    price = t * (steps % int(1 / t) or 1)
    size = D(cents) / 100
    maker, taker = limit_amounts(side, price, size, t)
    shares, collateral = (taker, maker) if side is Side.BUY else (maker, taker)
    assert D(shares) / 10**6 == size
    assert D(collateral) / D(shares) == price
