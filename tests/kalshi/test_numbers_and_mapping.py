"""Numbers, grids, the unified-to-YES-book mapping, fees and order books (vectors)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from arbexec_kalshi import mapping
from arbexec_kalshi.fees import FeeSchedule
from arbexec_kalshi.grid import PriceGrid, SizeGrid
from arbexec_kalshi.numbers import (
    cents_to_dollars,
    decimalize,
    format_count,
    format_price,
    parse_decimal,
)
from arbexec_kalshi.orderbook import parse_rest_orderbook, parse_ws_snapshot

from arbexec.errors import ExchangeError, OffGridOrder
from arbexec.model import Liquidity, OrderRequest, OrderStatus, Outcome, Side

D = Decimal


def test_fixed_point_strings_parse_exactly() -> None:
    assert parse_decimal("0.017500") == D("0.0175")
    assert parse_decimal("10.00") == D(10)
    with pytest.raises(ExchangeError):
        parse_decimal(0.5)
    with pytest.raises(ExchangeError):
        parse_decimal("abc")
    assert cents_to_dollars(9801) == D("98.01")
    assert format_price(D("0.7")) == "0.7000"
    assert format_count(D("10")) == "10.00"
    with pytest.raises(ValueError):
        format_price(D("0.12345"))


def test_decimalize_turns_every_dollars_and_fp_field() -> None:
    raw = {
        "yes_bid_dollars": "0.4200",
        "volume_fp": "12.00",
        "nested": [{"fee_cost": "0.0175", "price_dollars": "0.1"}],
        "orderbook_fp": {"yes_dollars": [["0.42", "13.00"]]},
        "title": "x",
        "empty_dollars": "",
    }
    out = decimalize(raw)
    assert out["yes_bid_dollars"] == D("0.42") and isinstance(out["volume_fp"], Decimal)
    assert out["nested"][0]["price_dollars"] == D("0.1")
    assert out["orderbook_fp"]["yes_dollars"] == [[D("0.42"), D(13)]]
    assert out["title"] == "x" and out["empty_dollars"] is None


def test_price_validity_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["price_validity_vectors"]:
        grid = PriceGrid.standard(case["price_level_structure"])
        assert grid.is_valid(D(case["price"])) is case["valid"], case


def test_price_ranges_from_market_include_subcent_tails() -> None:
    market = {
        "price_level_structure": "tapered_deci_cent",
        "price_ranges": [
            {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
            {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
            {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
        ],
    }
    grid = PriceGrid.from_market(market)
    assert grid.tick_size == D("0.001")
    assert grid.min_price == D("0.001") and grid.max_price == D("0.999")
    assert grid.is_valid(D("0.055")) and grid.is_valid(D("0.995"))
    assert not grid.is_valid(D("0")) and not grid.is_valid(D("1"))
    with pytest.raises(OffGridOrder, match=r"0\.155 .*nearest valid: 0\.15 or 0\.16"):
        grid.check(D("0.155"), market="KXT-1")


def test_size_grid_fractional_and_whole() -> None:
    SizeGrid(True).check(D("0.30"), market="M")
    with pytest.raises(OffGridOrder, match="hundredths"):
        SizeGrid(True).check(D("0.305"), market="M")
    with pytest.raises(OffGridOrder, match="whole contracts"):
        SizeGrid(False).check(D("1.5"), market="M")


def test_v2_order_mapping_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["v2_order_mapping_vectors"]:
        intent = case["intent"]
        side, outcome = Side(intent["action"].upper()), Outcome(intent["outcome"].upper())
        price = D(intent["limit_price_dollars_in_outcome_terms"])
        book = mapping.to_book(side, outcome, price)
        assert book.side == case["v2_request"]["side"], case
        assert format_price(book.price) == case["v2_request"]["price"], case
        resulting = "yes" if book.side == "bid" else "no"
        assert resulting == case["resulting_outcome_side"]
        assert mapping.from_book(book.side, book.price, outcome) == (side, price)


def _request(side: str, outcome: str, key: str = "k-1") -> OrderRequest:
    return OrderRequest(
        request_id="r",
        idempotency_key=key,
        venue="kalshi",
        market="KXT-26DEC31-T50",
        outcome=outcome,
        side=side,
        quantity=D(10),
        limit_price=D("0.30"),
    )


def test_identity_is_deterministic_and_carries_the_intent() -> None:
    for side in ("BUY", "SELL"):
        for outcome in ("YES", "NO"):
            request = _request(side, outcome)
            cid = mapping.identity(request)
            assert cid == mapping.identity(_request(side, outcome))
            assert len(cid) <= 64 and all(c.isalnum() or c in "_+=:/-" for c in cid)
            assert mapping.intent_of(cid) == (Side(side), Outcome(outcome))
    assert mapping.identity(_request("BUY", "YES", "a")) != mapping.identity(
        _request("BUY", "YES", "b")
    )
    assert mapping.identity(_request("BUY", "YES"), "acct-2") != mapping.identity(
        _request("BUY", "YES")
    )
    assert mapping.intent_of("someone-else") is None



def test_identity_fixes_the_terms_a_lookup_checks() -> None:
    from attrs import evolve

    request = _request("BUY", "NO")
    cid = mapping.identity(request)
    # BUY NO 10 @ 0.30 rests as an ask of 10 at YES 0.70
    record = {"ticker": "KXT-26DEC31-T50", "book_side": "ask", "yes_price_dollars": "0.7000",
              "initial_count_fp": "10.00"}
    assert mapping.terms_of(cid) == mapping.record_terms(record)
    for change in ({"quantity": D(1)}, {"limit_price": D("0.31")}, {"market": "KXT-OTHER"}):
        other = evolve(request, **change)
        assert mapping.terms_of(mapping.identity(other)) != mapping.terms_of(cid), change
    assert mapping.record_terms({**record, "book_side": "bid"}) != mapping.terms_of(cid)
    assert mapping.terms_of("ax-by-" + "0" * 32) is None  # identities made before terms


def test_parse_order_reports_in_the_requested_frame() -> None:
    request = _request("BUY", "NO")
    raw = {
        "order_id": "o-1",
        "client_order_id": mapping.identity(request),
        "ticker": "KXT-26DEC31-T50",
        "book_side": "ask",
        "outcome_side": "no",
        "status": "resting",
        "yes_price_dollars": "0.7000",
        "initial_count_fp": "10.00",
        "fill_count_fp": "4.00",
        "remaining_count_fp": "6.00",
        "taker_fill_cost_dollars": "1.2000",
        "taker_fees_dollars": "0.058800",
        "maker_fees_dollars": "0.000000",
        "last_update_time": "2026-11-22T00:00:00Z",
    }
    state = mapping.parse_order(raw)
    assert (state.side, state.outcome) == (Side.BUY, Outcome.NO)
    assert state.limit_price == D("0.30")
    assert state.status is OrderStatus.PARTIALLY_FILLED
    assert state.filled_quantity == D(4) and state.quantity == D(10)
    assert state.average_price == D("0.30") and state.fees == D("0.0588")
    foreign = mapping.parse_order({**raw, "client_order_id": "manual-1"})
    assert (foreign.side, foreign.outcome, foreign.limit_price) == (
        Side.SELL,
        Outcome.YES,
        D("0.7"),
    )
    assert mapping.parse_order({**raw, "status": "executed"}).status is OrderStatus.FILLED
    assert mapping.parse_order({**raw, "status": "canceled"}).status is OrderStatus.CANCELLED
    expired = {**raw, "status": "canceled", "expiration_time": "2026-11-21T00:00:00Z"}
    assert mapping.parse_order(expired).status is OrderStatus.EXPIRED


def test_fill_prices_follow_the_order_frame() -> None:
    raw = {
        "fill_id": "f-1",
        "order_id": "o-1",
        "count_fp": "2.00",
        "yes_price_dollars": "0.4500",
        "no_price_dollars": "0.5500",
        "is_taker": False,
        "fee_cost": "0.004400",
        "created_time": "2026-11-22T00:00:00Z",
    }
    assert mapping.parse_fill(raw, Outcome.YES).price == D("0.45")
    fill = mapping.parse_fill(raw, Outcome.NO)
    assert fill.price == D("0.55") and fill.liquidity is Liquidity.MAKER
    assert fill.fee == D("0.0044")


SCHEDULES = {
    "taker_general": (FeeSchedule("quadratic"), Liquidity.TAKER),
    "maker_quadratic_with_maker_fees": (
        FeeSchedule("quadratic_with_maker_fees"),
        Liquidity.MAKER,
    ),
    "taker_INX_NASDAQ100": (
        FeeSchedule.from_records({"ticker": "INXD", "fee_type": "quadratic"}),
        Liquidity.TAKER,
    ),
}


def test_fee_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["fee_vectors"]:
        schedule, liquidity = SCHEDULES[case["schedule"]]
        price, count = D(case["price_dollars"]), D(case["contracts"])
        assert schedule.rate(liquidity) == D(case["rate"])
        assert schedule.exact(price, count, liquidity) == D(case["exact_fee_dollars"])
        assert schedule.fee(price, count, liquidity) == D(
            case["trade_fee_dollars_ceil_to_centicent"]
        ), case
        cents = schedule.fee(price, count, liquidity, quantum=D("0.01"))
        assert cents == D(case["fee_cents_ceil_to_cent"]) / 100, case


def test_fee_schedule_types_multiplier_and_waiver() -> None:
    assert FeeSchedule("quadratic").fee(D("0.5"), D(100), Liquidity.MAKER) == 0
    combo = FeeSchedule("quadratic_with_combo_maker_fees")
    assert combo.rate(Liquidity.MAKER) == D("0.035")
    doubled = FeeSchedule.from_records(
        {"ticker": "KX", "fee_type": "quadratic", "fee_multiplier": "2"}
    )
    assert doubled.fee(D("0.5"), D(1), Liquidity.TAKER) == D("0.035")
    overridden = FeeSchedule.from_records(
        {"ticker": "KX", "fee_type": "quadratic", "fee_multiplier": "2"},
        {"fee_type_override": "quadratic_with_maker_fees", "fee_multiplier_override": "0"},
    )
    assert overridden.fee(D("0.5"), D(1), Liquidity.TAKER) == 0
    waived = FeeSchedule.from_records(
        {"ticker": "KX"}, None, {"fee_waiver_expiration_time": "2999-01-01T00:00:00Z"}
    )
    assert waived.fee(D("0.5"), D(10), Liquidity.TAKER) == 0


def _best(book: Any) -> dict[str, Any]:
    def price(levels: Any) -> Any:
        return levels[0].price if levels else None

    def size(levels: Any) -> Any:
        return levels[0].size if levels else None

    no_bid = book.levels_to_take(Outcome.NO, Side.SELL)
    no_ask = book.levels_to_take(Outcome.NO, Side.BUY)
    return {
        "yes_bid": price(book.bids),
        "yes_bid_size": size(book.bids),
        "yes_ask": price(book.asks),
        "yes_ask_size": size(book.asks),
        "no_bid": price(no_bid),
        "no_bid_size": size(no_bid),
        "no_ask": price(no_ask),
        "no_ask_size": size(no_ask),
        "yes_spread": price(book.asks) - price(book.bids) if book.bids and book.asks else None,
    }


def test_orderbook_vectors(vectors: dict[str, Any]) -> None:
    seen = 0
    for case in vectors["orderbook_vectors"]:
        data = case["input"]
        if case["id"].startswith("ws_"):
            book = parse_ws_snapshot(data["msg"], "M", use_yes_price=case["no_side_on_yes_scale"])
        else:
            book = parse_rest_orderbook(data, "M")
        expected = case["expected"]
        if "yes_bid_cents" in expected:  # legacy integer shape
            assert book.bids[0].price * 100 == expected["yes_bid_cents"]
            assert book.asks[0].price * 100 == expected["yes_ask_cents"]
            assert book.asks[0].size == expected["yes_ask_size"]
            assert (book.asks[0].price - book.bids[0].price) * 100 == expected["yes_spread_cents"]
            seen += 1
            continue
        best = _best(book)
        if case["id"].startswith("walk_"):
            want = D(case["order"]["contracts"])
            fills, taken = [], D(0)
            for level in book.levels_to_take(Outcome.YES, Side.BUY):
                take = min(level.size, want - taken)
                if take <= 0:
                    break
                fills.append({"yes_price": level.price, "contracts": take})
                taken += take
            exp = expected["fills"]
            assert [(f["yes_price"], f["contracts"]) for f in fills] == [
                (D(f["yes_price"]), D(f["contracts"])) for f in exp
            ]
            notional = sum((f["yes_price"] * f["contracts"] for f in fills), D(0))
            assert notional == D(expected["notional_dollars"])
            assert notional / taken == D(expected["vwap_yes_price"])
            ioc = expected["v2_ioc_limit_to_send"]
            assert format_price(fills[-1]["yes_price"]) == ioc["price"]
            seen += 1
            continue
        for key, value in expected.items():
            assert best[key] == (None if value is None else D(value)), (case["id"], key)
        seen += 1
    assert seen == len(vectors["orderbook_vectors"]) == 8
