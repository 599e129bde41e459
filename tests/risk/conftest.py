"""Builders for requests and risk contexts: rules are tested on values, not on an engine."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from arbexec.exchange import MarketRules
from arbexec.model import Balance, OrderBook, OrderRequest
from arbexec.risk.base import RiskContext

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday
_ids = itertools.count()


def build_request(**overrides: Any) -> OrderRequest:
    n = next(_ids)
    values: dict[str, Any] = {
        "request_id": f"r{n}",
        "idempotency_key": f"k{n}",
        "venue": "paper",
        "market": "M1",
        "outcome": "YES",
        "side": "BUY",
        "quantity": "10",
        "limit_price": "0.50",
        "requested_at": NOW,
    }
    values.update(overrides)
    return OrderRequest(**values)


def build_book(bids: list[tuple[str, str]], asks: list[tuple[str, str]], **kw: Any) -> OrderBook:
    return OrderBook(venue="paper", market="M1", bids=bids, asks=asks,
                     timestamp=kw.pop("timestamp", NOW), **kw)


def build_ctx(
    *, exposure: dict[str, Decimal] | None = None, **overrides: Any
) -> RiskContext:
    held = dict(exposure or {})
    values: dict[str, Any] = {
        "now": NOW,
        "venue": "paper",
        "exposure": lambda key: held.get(key, Decimal(0)),
    }
    values.update(overrides)
    return RiskContext(**values)


@pytest.fixture
def req() -> Callable[..., OrderRequest]:
    return build_request


@pytest.fixture
def ctx() -> Callable[..., RiskContext]:
    return build_ctx


@pytest.fixture
def book() -> Callable[..., OrderBook]:
    return build_book


@pytest.fixture
def market_rules() -> Callable[..., MarketRules]:
    def make(**kw: Any) -> MarketRules:
        return MarketRules(market=kw.pop("market", "M1"), tick_size=kw.pop("tick_size", "0.01"),
                           **kw)
    return make


@pytest.fixture
def balance() -> Callable[..., Balance]:
    def make(total: str, available: str) -> Balance:
        return Balance(venue="paper", total=total, available=available)
    return make


@pytest.fixture
def now() -> datetime:
    return NOW
