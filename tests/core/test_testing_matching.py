"""arbexec.testing.matching: the one matcher both venue stand-ins use."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbexec.model import Side, TimeInForce
from arbexec.testing.matching import Book, Fill, Taker

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def ladder() -> Book:
    """Asks 0.52 x 10 (a, then b behind it), 0.50 x 5, 0.55 x 20; bids 0.45 x 8, 0.48 x 4."""
    book = Book()
    book.rest("a", SELL, D("0.52"), D(4), "m")
    book.rest("lo", SELL, D("0.50"), D(5), "m")
    book.rest("b", SELL, D("0.52"), D(6), "m")
    book.rest("hi", SELL, D("0.55"), D(20), "m")
    book.rest("x", BUY, D("0.45"), D(8), "m")
    book.rest("y", BUY, D("0.48"), D(4), "m")
    return book


def test_a_buy_walks_the_asks_best_price_first_then_first_rested_at_the_maker_price() -> None:
    book = ladder()
    match = book.submit(Taker("t", BUY, D("0.52"), D(12)))
    assert match.fills == (
        Fill("lo", D("0.50"), D(5), D(0)),
        Fill("a", D("0.52"), D(4), D(0)),
        Fill("b", D("0.52"), D(3), D(0)),
    )
    assert (match.filled, match.remaining, match.rested) == (D(12), D(0), False)
    assert match.notional == D("2.50") + D("2.08") + D("1.56")
    assert book.levels(SELL) == [(D("0.52"), D(3)), (D("0.55"), D(20))]


def test_a_sell_walks_the_bids_down_and_stops_at_its_limit() -> None:
    book = ladder()
    match = book.submit(Taker("t", SELL, D("0.46"), D(10)))
    assert [(f.maker_id, f.quantity) for f in match.fills] == [("y", D(4))]
    assert match.remaining == D(6) and match.rested
    assert book.levels(SELL)[0] == (D("0.46"), D(6))  # the GTC remainder rests
    assert book.levels(BUY) == [(D("0.45"), D(8))]


def test_ioc_cancels_the_remainder_and_a_non_resting_gtc_stays_off_the_book() -> None:
    book = ladder()
    match = book.submit(Taker("t", BUY, D("0.50"), D(7), TimeInForce.IOC))
    assert (match.filled, match.remaining, match.rested) == (D(5), D(2), False)
    assert book.resting("t") is None
    kept_apart = book.submit(Taker("u", BUY, D("0.40"), D(3), rest=False))
    assert kept_apart.rested and book.resting("u") is None
    dated = book.submit(Taker("g", BUY, D("0.40"), D(2), TimeInForce.GTD))
    assert dated.rested and book.levels(BUY)[-1] == (D("0.40"), D(2))


def test_fill_or_kill_trades_all_or_nothing() -> None:
    book = ladder()
    killed = book.submit(Taker("t", BUY, D("0.52"), D(16), TimeInForce.FOK))
    assert killed.refused == "fill or kill" and not killed.fills and not killed.rested
    assert book.levels(SELL)[0] == (D("0.50"), D(5))  # nothing was taken
    exact = book.submit(Taker("u", BUY, D("0.52"), D(15), TimeInForce.FOK))
    assert exact.filled == D(15) and exact.refused is None


def test_post_only_is_refused_when_it_would_cross_and_rests_when_not() -> None:
    book = ladder()
    refused = book.submit(Taker("t", BUY, D("0.50"), D(1), post_only=True))
    assert refused.refused == "post only cross" and book.levels(SELL)[0] == (D("0.50"), D(5))
    rests = book.submit(Taker("u", BUY, D("0.49"), D(2), post_only=True))
    assert rests.rested and book.levels(BUY)[0] == (D("0.49"), D(2))


def test_an_owner_never_trades_with_itself() -> None:
    book = ladder()
    book.rest("own", SELL, D("0.49"), D(3), "me")
    match = book.submit(Taker("t", BUY, D("0.50"), D(4), owner="me"))
    assert [f.maker_id for f in match.fills] == ["lo"]
    anyone = book.submit(Taker("u", BUY, D("0.49"), D(1)))
    assert [f.maker_id for f in anyone.fills] == ["own"]


def test_fees_are_asked_per_fill() -> None:
    book = ladder()
    asked: list[tuple[Decimal, Decimal]] = []

    def fee(price: Decimal, quantity: Decimal) -> Decimal:
        asked.append((price, quantity))
        return price * quantity / 100

    match = book.submit(Taker("t", BUY, D("0.52"), D(6)), fee=fee)
    assert asked == [(D("0.50"), D(5)), (D("0.52"), D(1))]
    assert match.fees == D("0.0250") + D("0.0052")


def test_cancel_and_resize_keep_the_queue_in_order() -> None:
    book = ladder()
    assert book.cancel("a") == D(4) and book.cancel("a") == D(0)
    book.rest("c", SELL, D("0.52"), D(1), "m")
    book.resize("b", D(2))  # keeps its place ahead of c
    assert [o.order_id for o in book.queue(SELL)] == ["lo", "b", "c", "hi"]
    book.resize("b", D(0))
    assert book.resting("b") is None


def test_bad_quantities_and_duplicate_ids_are_refused() -> None:
    book = ladder()
    with pytest.raises(ValueError, match="already rests"):
        book.rest("a", SELL, D("0.60"), D(1))
    with pytest.raises(ValueError, match="positive"):
        book.rest("z", SELL, D("0.60"), D(0))
    with pytest.raises(ValueError, match="positive"):
        book.submit(Taker("t", BUY, D("0.60"), D(0)))
