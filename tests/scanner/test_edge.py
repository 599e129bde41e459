"""The scanner's edge arithmetic against hand-computed cases: both venues' fee rules
(Kalshi ``ceil_0.0001(0.07 C P (1-P))``, Polymarket ``floor_0.00001(C r (p(1-p))^e)``),
depth beyond the first level, each venue's rounding, inverted pairs and quantity grids."""

from __future__ import annotations

from decimal import Decimal as D

from arbexec_kalshi.fees import FeeSchedule
from hypothesis import given, settings
from hypothesis import strategies as st

from arbexec.catalog.pairfile import MarketRef, MatchedPair, PairStatus
from arbexec.fees import polymarket_fee
from arbexec.model import Liquidity, OrderBook, Outcome
from arbexec.scanner.edge import LegBook, common_step, ladder, pair_ladders

KALSHI = FeeSchedule(fee_type="quadratic", taker_rate=D("0.07"))


def kalshi_fee(market: str, price: D, quantity: D, liquidity: Liquidity) -> D:
    return KALSHI.fee(price, quantity, liquidity)


def polymarket_fee_of(market: str, price: D, quantity: D, liquidity: Liquidity) -> D:
    # a Polymarket schedule with rate 0.25 and exponent 2 (its short crypto markets)
    return polymarket_fee(quantity, price, D("0.25"), D(2))


# a (Kalshi): YES asks 0.41 x100, 0.42 x200; bids 0.39 x100
BOOK_A = OrderBook(venue="kalshi", market="KX", bids=[(D("0.39"), D(100))],
                   asks=[(D("0.41"), D(100)), (D("0.42"), D(200))])
# b (Polymarket): YES bids 0.54 x50, 0.53 x200 (NO asks 0.46 x50, 0.47 x200); asks 0.56 x100
BOOK_B = OrderBook(venue="polymarket", market="PM", bids=[(D("0.54"), D(50)), (D("0.53"), D(200))],
                   asks=[(D("0.56"), D(100))])


def legs(book_b: OrderBook = BOOK_B, **b_grid: D) -> tuple[LegBook, LegBook]:
    return (LegBook(venue="kalshi", market="KX", book=BOOK_A, fee=kalshi_fee),
            LegBook(venue="polymarket", market="PM", book=book_b, fee=polymarket_fee_of,
                    **b_grid))


def pair(inverted: bool = False) -> MatchedPair:
    return MatchedPair(a=MarketRef(venue="kalshi", market="KX"),
                       b=MarketRef(venue="polymarket", market="PM"),
                       status=PairStatus.ACCEPTED, inverted=inverted)


def test_yes_on_a_and_no_on_b_level_by_level_through_the_depth() -> None:
    a, b = legs()
    levels = ladder(a, b, Outcome.YES, Outcome.NO)
    # breakpoints: a at 100 and 300, b at 50 and 250; both books offer 250 at most
    assert [lv.quantity for lv in levels] == [50, 100, 250]
    q50, q100, q250 = levels

    # 50: 50@0.41 on a, 50@0.46 on b
    # kalshi 0.07 x 50 x 0.41 x 0.59 = 0.84665 -> up to 0.8467 (half-even would give 0.8466)
    # polymarket 50 x 0.25 x (0.46 x 0.54)^2 = 12.5 x 0.06170256 = 0.771282 -> 0.77128
    assert (q50.limit_a, q50.limit_b) == (D("0.41"), D("0.46"))
    assert (q50.fees_a, q50.fees_b) == (D("0.8467"), D("0.77128"))
    assert q50.edge == D("4.88202")  # 50 - 20.50 - 23.00 - 1.61798
    assert q50.edge_per_contract == D("0.0976404")
    assert q50.locked_edge_per_contract == D("0.0976404")  # one level: the same figure

    # 100: 100@0.41 on a; 50@0.46 + 50@0.47 on b
    # kalshi 0.07 x 100 x 0.2419 = 1.6933; polymarket 0.77128 + floor(12.5 x 0.2491^2 =
    # 0.775635125) = 0.77128 + 0.77563 (rounded half-up it would be 0.77564)
    assert (q100.limit_a, q100.limit_b) == (D("0.41"), D("0.47"))
    assert (q100.notional_a, q100.notional_b) == (D("41.00"), D("46.50"))
    assert (q100.fees_a, q100.fees_b) == (D("1.6933"), D("1.54691"))
    assert q100.edge == D("9.25979")  # 100 - 41 - 46.50 - 3.24021
    # at the limits 0.41 + 0.47: fees 1.6933 + floor(25 x 0.06205081 = 1.55127025) = 3.24457
    assert q100.limit_fees == D("3.24457")
    assert q100.locked_edge_per_contract == D("0.0875543")  # (12 - 3.24457) / 100
    assert q100.executable_edge_per_contract == D("0.0875543")

    # 250: 100@0.41 + 150@0.42 on a; 50@0.46 + 200@0.47 on b
    # kalshi 1.6933 + ceil(0.07 x 150 x 0.2436 = 2.5578); polymarket 0.77128 +
    # floor(50 x 0.06205081 = 3.1025405) = 3.10254
    assert (q250.notional_a, q250.notional_b) == (D("104.00"), D("117.00"))
    assert (q250.fees_a, q250.fees_b) == (D("4.2511"), D("3.87382"))
    assert q250.edge == D("20.87508")  # 250 - 104 - 117 - 8.12492
    assert q250.edge_per_contract == D("0.08350032")
    # limits 0.42 + 0.47: 0.07 x 250 x 0.2436 = 4.263 and floor(62.5 x 0.06205081 =
    # 3.878175625) = 3.87817: (27.5 - 8.14117) / 250
    assert q250.locked_edge_per_contract == D("0.07743532")


def test_the_opportunity_is_the_level_earning_most_that_clears_the_minimum() -> None:
    a, b = legs()
    yes, no = pair_ladders(pair(), a, b)
    assert (yes.outcome_a, yes.outcome_b) == (Outcome.YES, Outcome.NO)
    best = yes.best(D("0.05"))
    assert best is not None and best.quantity == 250 and best.edge == D("20.87508")
    # 0.085: 250 clears by its book edge (0.0835) but not by its limits (0.0774)
    best = yes.best(D("0.085"))
    assert best is not None and best.quantity == 100
    best = yes.best(D("0.0875543"))  # exactly the executable figure: still clears
    assert best is not None and best.quantity == 100
    best = yes.best(D("0.09"))
    assert best is not None and best.quantity == 50
    assert yes.best(D("0.0976405")) is None
    top = yes.top()
    assert top is not None and top.quantity == 50

    # NO on a (YES bid 0.39 -> NO at 0.61) and YES on b (ask 0.56): 1.17 before fees
    assert (no.outcome_a, no.outcome_b) == (Outcome.NO, Outcome.YES)
    assert no.best(D("0")) is None
    top = no.top()
    assert top is not None and top.quantity == 100
    # kalshi ceil(7 x 0.2379 = 1.6653); polymarket floor(25 x 0.2464^2 = 1.517824) = 1.51782
    assert top.fees == D("1.6653") + D("1.51782")
    assert top.edge == D(100) - D(61) - D(56) - D("3.18312")


def test_an_inverted_pair_hedges_with_the_same_outcome() -> None:
    # b lists the contract the other way round: its YES is a's NO; YES asks 0.46 x50
    flipped = OrderBook(venue="polymarket", market="PM", bids=[(D("0.44"), D(10))],
                        asks=[(D("0.46"), D(50)), (D("0.47"), D(200))])
    a, b = legs(flipped)
    yes, no = pair_ladders(pair(inverted=True), a, b)
    assert (yes.outcome_a, yes.outcome_b) == (Outcome.YES, Outcome.YES)
    assert (no.outcome_a, no.outcome_b) == (Outcome.NO, Outcome.NO)
    # the same prices as the straight case: the same figures at 50
    assert yes.levels[0].edge == D("4.88202")


def test_sizes_keep_to_both_venues_quantity_grids() -> None:
    assert common_step(D(1), D("0.25")) == 1
    assert common_step(D("0.5"), D("0.3")) == D("1.5")
    assert common_step(D(5), D(1)) == 5
    a, b = legs(quantity_step=D(40), min_quantity=D(80))
    levels = ladder(a, b, Outcome.YES, Outcome.NO)
    # 50 -> 40 (below the minimum of 80), 100 -> 80, 250 -> 240
    assert [lv.quantity for lv in levels] == [80, 240]
    assert ladder(a, b, Outcome.YES, Outcome.NO, max_quantity=D(200))[-1].quantity == 200


def test_an_empty_side_has_no_levels() -> None:
    empty = OrderBook(venue="polymarket", market="PM", bids=[], asks=[(D("0.56"), D(1))])
    a, b = legs(empty)
    assert ladder(a, b, Outcome.YES, Outcome.NO) == ()


def test_a_level_off_the_price_grid_ends_the_ladder() -> None:
    # b's grid is 0.02: NO at 0.46 is on it, 0.47 is not (a limit there would be refused)
    a, b = legs(tick_size=D("0.02"))
    assert [lv.quantity for lv in ladder(a, b, Outcome.YES, Outcome.NO)] == [50]
    a, b = legs(tick_size=D("0.01"))
    assert [lv.quantity for lv in ladder(a, b, Outcome.YES, Outcome.NO)] == [50, 100, 250]


def _ladder_side(draw_sizes: list[int], start: int) -> list[tuple[D, D]]:
    return [(D(start + i) / 100, D(size)) for i, size in enumerate(draw_sizes)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=8),
       st.lists(st.integers(1, 400), min_size=1, max_size=8),
       st.integers(20, 60), st.integers(20, 60))
def test_every_level_is_what_a_sweep_of_both_books_gives(
        sizes_a: list[int], sizes_b: list[int], ask_a: int, bid_b: int) -> None:
    """The ladder walks each book once; each level equals a sweep from the top (the
    executor's ``sweep`` and ``Sweep.fees``) at the level's size and limits."""
    from arbexec.arbitrage.books import sweep
    from arbexec.model import Side

    book_a = OrderBook(venue="kalshi", market="KX", bids=[],
                       asks=_ladder_side(sizes_a, ask_a))
    book_b = OrderBook(venue="polymarket", market="PM",
                       bids=[(D(bid_b - i) / 100, D(s)) for i, s in enumerate(sizes_b)
                             if bid_b - i > 0], asks=[])
    a = LegBook(venue="kalshi", market="KX", book=book_a, fee=kalshi_fee)
    b = LegBook(venue="polymarket", market="PM", book=book_b, fee=polymarket_fee_of)
    for level in ladder(a, b, Outcome.YES, Outcome.NO):
        fills_a = sweep(book_a, Outcome.YES, Side.BUY, level.quantity, level.limit_a)
        fills_b = sweep(book_b, Outcome.NO, Side.BUY, level.quantity, level.limit_b)
        assert fills_a.quantity == fills_b.quantity == level.quantity
        assert (fills_a.notional, fills_b.notional) == (level.notional_a, level.notional_b)
        assert fills_a.fees(kalshi_fee, "KX") == level.fees_a
        assert fills_b.fees(polymarket_fee_of, "PM") == level.fees_b
        assert level.limit_a == fills_a.fills[-1].price
        assert level.limit_b == fills_b.fills[-1].price
