from decimal import Decimal

import pytest

from arbexec.risk.base import Need
from arbexec.risk.rules import PriceSanity


def rule(**params):
    return PriceSanity.from_params(params)


def test_needs_follow_parameters():
    assert rule().needs == {Need.MARKET_RULES}
    assert rule(check_grid=False, band="0.1").needs == {Need.BOOK}
    assert rule(check_grid=False).needs == frozenset()


@pytest.mark.parametrize(("price", "allowed"), [("0.04", False), ("0.05", True), ("0.06", True)])
def test_min_price_below_at_above(req, ctx, price, allowed):
    verdict = rule(check_grid=False, min_price="0.05").check(req(limit_price=price), ctx())
    assert verdict.allowed is allowed
    assert verdict.code == (None if allowed else "price_out_of_range")


@pytest.mark.parametrize(("price", "allowed"), [("0.94", True), ("0.95", True), ("0.96", False)])
def test_max_price_below_at_above(req, ctx, price, allowed):
    verdict = rule(check_grid=False, max_price="0.95").check(req(limit_price=price), ctx())
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.figures["limit_high"] == "0.95"
        assert verdict.figures["actual"] == "0.96"


@pytest.mark.parametrize(
    ("price", "allowed"), [("0.50", True), ("0.505", False), ("0.51", True)]
)
def test_tick_grid(req, ctx, market_rules, price, allowed):
    verdict = rule().check(req(limit_price=price), ctx(market_rules=market_rules()))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "off_grid"
        assert verdict.figures["tick_size"] == "0.01"


def test_quantity_off_the_step_is_off_grid(req, ctx, market_rules):
    rules = market_rules(quantity_step="5", min_quantity="5")
    assert rule().check(req(quantity="7"), ctx(market_rules=rules)).code == "off_grid"
    assert rule().check(req(quantity="10"), ctx(market_rules=rules)).allowed


def test_grid_check_without_market_rules_fails_closed(req, ctx):
    assert rule().check(req(), ctx()).code == "market_rules_unavailable"


@pytest.mark.parametrize(
    ("price", "allowed"), [("0.59", True), ("0.60", True), ("0.61", False), ("0.39", False)]
)
def test_band_around_the_mid(req, ctx, book, price, allowed):
    # mid = (0.48 + 0.52) / 2 = 0.50, band 0.10
    the_book = book(bids=[("0.48", "10")], asks=[("0.52", "10")])
    verdict = rule(check_grid=False, band="0.10").check(req(limit_price=price), ctx(book=the_book))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.code == "price_outside_band"
        assert verdict.figures["reference"] == "0.50"
        assert verdict.figures["limit"] == "0.10"


def test_band_for_no_uses_the_mirrored_mid(req, ctx, book):
    the_book = book(bids=[("0.18", "10")], asks=[("0.22", "10")])  # YES mid 0.20 -> NO 0.80
    r = rule(check_grid=False, band="0.05")
    assert r.check(req(outcome="NO", limit_price="0.82"), ctx(book=the_book)).allowed
    denied = r.check(req(outcome="NO", limit_price="0.70"), ctx(book=the_book))
    assert denied.code == "price_outside_band"
    assert Decimal(denied.figures["reference"]) == Decimal("0.80")


def test_one_sided_book_uses_its_best_price(req, ctx, book):
    the_book = book(bids=[], asks=[("0.30", "10")])
    r = rule(check_grid=False, band="0.05")
    assert r.check(req(limit_price="0.34"), ctx(book=the_book)).allowed
    assert not r.check(req(limit_price="0.40"), ctx(book=the_book)).allowed


def test_empty_book_passes_unless_a_book_is_required(req, ctx, book):
    empty = book(bids=[], asks=[])
    assert rule(check_grid=False, band="0.05").check(req(), ctx(book=empty)).allowed
    strict = rule(check_grid=False, band="0.05", require_book=True)
    assert strict.check(req(), ctx(book=empty)).code == "book_empty"
    assert strict.check(req(), ctx()).code == "book_unavailable"
