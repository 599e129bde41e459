"""Rules that judge a request against market data: slippage and stale quotes."""

from datetime import timedelta

import pytest

from arbexec.risk.base import Need
from arbexec.risk.rules import MaxSlippage, StaleQuote


def slippage(**params):
    return MaxSlippage.from_params(params)


@pytest.mark.parametrize(
    ("limit", "allowed"), [("0.51", True), ("0.52", True), ("0.53", False)]
)
def test_buy_slippage_against_the_reference(req, ctx, limit, allowed):
    # 4% of the reference 0.50 is 0.02
    verdict = slippage(max_percent=4).check(req(limit_price=limit, reference_price="0.50"), ctx())
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "slippage_reference"
        assert verdict.figures == {"limit": "4", "actual": "6.00", "reference": "0.50"}


@pytest.mark.parametrize(
    ("limit", "allowed"), [("0.49", True), ("0.48", True), ("0.47", False)]
)
def test_sell_slippage_is_below_the_reference(req, ctx, limit, allowed):
    verdict = slippage(max_percent=4).check(
        req(side="SELL", limit_price=limit, reference_price="0.50"), ctx()
    )
    assert verdict.allowed is allowed


def test_a_limit_better_than_the_reference_never_slips(req, ctx):
    verdict = slippage(max_percent=0).check(req(limit_price="0.40", reference_price="0.50"), ctx())
    assert verdict.allowed


def test_missing_reference_passes_unless_required(req, ctx):
    assert slippage(max_percent=1).check(req(), ctx()).allowed
    strict = slippage(max_percent=1, require_reference=True)
    assert strict.check(req(), ctx()).code == "no_reference_price"


@pytest.mark.parametrize(
    ("limit", "allowed"), [("0.41", True), ("0.42", True), ("0.43", False)]
)
def test_buy_slippage_against_the_best_ask(req, ctx, book, limit, allowed):
    the_book = book(bids=[("0.38", "5")], asks=[("0.40", "5"), ("0.45", "5")])
    r = slippage(max_book_percent=5)  # 5% of 0.40 = 0.02
    assert r.needs == {Need.BOOK}
    verdict = r.check(req(limit_price=limit), ctx(book=the_book))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "slippage_book"
        assert verdict.figures["best"] == "0.40"


def test_no_buy_slippage_uses_the_mirrored_bid(req, ctx, book):
    # buying NO takes YES bids: best NO price = 1 - 0.60 = 0.40
    the_book = book(bids=[("0.60", "5")], asks=[("0.62", "5")])
    r = slippage(max_book_percent=5)
    assert r.check(req(outcome="NO", limit_price="0.42"), ctx(book=the_book)).allowed
    assert not r.check(req(outcome="NO", limit_price="0.43"), ctx(book=the_book)).allowed


def test_nothing_to_take_means_nothing_slips(req, ctx, book):
    the_book = book(bids=[("0.30", "5")], asks=[])
    assert slippage(max_book_percent=1).check(req(limit_price="0.90"), ctx(book=the_book)).allowed


def test_book_check_without_a_book_fails_closed(req, ctx):
    assert slippage(max_book_percent=1).check(req(), ctx()).code == "book_unavailable"


@pytest.mark.parametrize(("age", "allowed"), [(1.5, True), (2.0, True), (2.001, False)])
def test_stale_quote_below_at_above(req, ctx, book, now, age, allowed):
    the_book = book(bids=[], asks=[], timestamp=now - timedelta(seconds=age))
    r = StaleQuote.from_params({"max_age_seconds": 2})
    assert r.needs == {Need.BOOK}
    verdict = r.check(req(), ctx(book=the_book))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "stale_book"
        assert verdict.figures["limit"] == "2.0"


def test_stale_quote_without_a_book_fails_closed(req, ctx):
    assert StaleQuote.from_params({}).check(req(), ctx()).code == "book_unavailable"
