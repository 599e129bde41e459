"""A denied key may be retried; when the retry is denied too, the row describes the retry
(its columns and its request agree), never the first attempt's terms under the second's
request."""

from __future__ import annotations

from decimal import Decimal

from arbexec.journal import Journal
from arbexec.model import OrderRequest, Outcome, Side


def _request(side: Side, quantity: str, price: str, market: str) -> OrderRequest:
    return OrderRequest(request_id="r-2" if side is Side.BUY else "r-1", idempotency_key="k",
                        venue="paper", market=market, outcome=Outcome.YES, side=side,
                        quantity=Decimal(quantity), limit_price=Decimal(price))


def test_a_second_denial_of_a_key_rewrites_the_whole_row(journal: Journal) -> None:
    journal.record_denial(_request(Side.SELL, "1", "0.10", "PAPER-ELECTION"),
                          code="sell_exceeds_position", reason="no position")
    retry = _request(Side.BUY, "3", "0.20", "PAPER-FED-CUT")
    journal.record_denial(retry, code="halted", reason="trading is halted")
    row = journal.get("k")
    assert row is not None
    assert (row.request_id, row.market, row.side, row.quantity, row.limit_price) == (
        "r-2", "PAPER-FED-CUT", "BUY", Decimal("3"), Decimal("0.20"))
    assert row.to_request() == retry
    assert row.reason_code == "halted"
