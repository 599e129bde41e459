from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arbexec.model import (
    OrderBook,
    OrderRequest,
    OrderStatus,
    Outcome,
    RequestError,
    Side,
    TimeInForce,
    to_decimal,
)


def make(**overrides: object) -> OrderRequest:
    values: dict[str, object] = dict(request_id="r1", idempotency_key="k1", venue="paper",
                                     market="M", outcome="YES", side="BUY", quantity="40",
                                     limit_price="0.55")
    values.update(overrides)
    return OrderRequest(**values)  # type: ignore[arg-type]


def test_money_is_decimal_and_floats_keep_their_written_value() -> None:
    request = make(limit_price=0.57, quantity=10.13)
    assert request.limit_price == Decimal("0.57")
    assert request.quantity == Decimal("10.13")
    assert request.notional == Decimal("5.7741")
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")


@pytest.mark.parametrize("price", ["0", "1", "1.5", "-0.2"])
def test_price_outside_the_open_unit_interval_is_refused(price: str) -> None:
    with pytest.raises(RequestError) as info:
        make(limit_price=price)
    assert info.value.field == "limit_price"


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_non_positive_quantity_is_refused(quantity: str) -> None:
    with pytest.raises(RequestError) as info:
        make(quantity=quantity)
    assert info.value.field == "quantity"


def test_gtd_needs_an_expiry_and_only_gtd_takes_one() -> None:
    with pytest.raises(RequestError, match="expiry"):
        make(time_in_force="GTD")
    with pytest.raises(RequestError, match="only GTD"):
        make(expires_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert make(time_in_force="GTD", expires_at="2030-01-01T00:00:00Z").expires_at is not None


def test_post_only_cannot_be_immediate() -> None:
    with pytest.raises(RequestError, match="post-only"):
        make(post_only=True, time_in_force=TimeInForce.IOC)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        make(time_in_force="GTD", expires_at=datetime(2030, 1, 1))


def test_buying_no_is_selling_yes_at_the_complement() -> None:
    request = make(outcome="NO", side="BUY", limit_price="0.30")
    assert request.yes_side is Side.SELL
    assert request.yes_price == Decimal("0.70")


def test_book_mirrors_no_prices_from_the_yes_book() -> None:
    book = OrderBook(venue="v", market="M", bids=[("0.48", 10), ("0.47", 5)],
                     asks=[("0.52", 7)])
    assert book.best_price(Outcome.YES, Side.BUY) == Decimal("0.52")
    assert book.best_price(Outcome.NO, Side.BUY) == Decimal("0.52")  # 1 - 0.48
    assert [lv.price for lv in book.levels_to_take(Outcome.NO, Side.BUY)] == [
        Decimal("0.52"), Decimal("0.53")]
    assert book.best_price(Outcome.NO, Side.SELL) == Decimal("0.48")  # 1 - 0.52
    assert book.mid() == Decimal("0.50")


def test_book_levels_must_be_sorted_best_first() -> None:
    with pytest.raises(ValueError, match="descending"):
        OrderBook(venue="v", market="M", bids=[("0.40", 1), ("0.45", 1)], asks=[])


def test_final_statuses() -> None:
    assert OrderStatus.FILLED.is_final and OrderStatus.CANCELLED.is_final
    assert not OrderStatus.UNKNOWN.is_final and not OrderStatus.OPEN.is_final
    assert OrderStatus.PARTIALLY_FILLED.is_live


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("quantity", "1e400", "not a plausible order"),
        ("quantity", "1000000000000", "not a plausible order"),
        ("quantity", "1.0000000000000000001", "decimal places"),
        ("limit_price", "0.5000000000000000001", "decimal places"),
    ],
)
def test_implausible_numbers_are_refused(field: str, value: str, words: str) -> None:
    with pytest.raises(RequestError, match=words) as info:
        make(**{field: value})
    assert info.value.field == field
