"""An in-memory Kalshi speaking the documented Trade API v2 shapes, served as an httpx
transport handler.

It verifies request signatures with the account's public key and the timestamp window,
matches orders against resting liquidity on a single YES book, answers with the 2026
fixed-point strings and the venue's error bodies. Offline tests use it directly; the
cassettes under ``cassettes/kalshi/`` were recorded from it (see their README).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from attrs import define, field

from arbexec.api import Side, TimeInForce
from arbexec.testing.matching import Book, Taker
from arbexec.testing.standin import Route, StandInVenue, offset_page
from arbexec_kalshi.environment import API_PREFIX
from arbexec_kalshi.fees import CENTICENT, ceil_to

ONE = Decimal(1)
SKEW_MS = 10_000
#: the book's owner tags: the test account's own orders never trade with each other
ACCOUNT, MEMBERS = "account", "members"
_TIME_IN_FORCE = {"good_till_canceled": TimeInForce.GTC,
                  "immediate_or_cancel": TimeInForce.IOC,
                  "fill_or_kill": TimeInForce.FOK}


def _d4(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.0001")))


def _fp(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _error(status: int, code: str, message: str, details: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return httpx.Response(status, json={"error": body})


@define
class FakeOrder:
    order_id: str
    client_order_id: str
    ticker: str
    book_side: str
    yes_price: Decimal
    initial: Decimal
    filled: Decimal = Decimal(0)
    cancelled: bool = False
    fees: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    created_ms: int = 0
    updated_ms: int = 0
    expiration: int | None = None
    time_in_force: str = "good_till_canceled"
    exchange_index: int = 0
    #: contracts taken off by decreases (``initial_count_fp`` keeps the original size)
    reduced: Decimal = Decimal(0)

    @property
    def live_total(self) -> Decimal:
        return self.initial - self.reduced

    @property
    def remaining(self) -> Decimal:
        return Decimal(0) if self.cancelled else self.live_total - self.filled

    @property
    def status(self) -> str:
        if not self.cancelled and self.filled > 0 and self.filled == self.live_total:
            return "executed"
        return "canceled" if self.cancelled else "resting"

    def as_json(self) -> dict[str, Any]:
        outcome = "yes" if self.book_side == "bid" else "no"
        return {
            "order_id": self.order_id,
            "user_id": "user-0001",
            "client_order_id": self.client_order_id,
            "ticker": self.ticker,
            "outcome_side": outcome,
            "book_side": self.book_side,
            "side": outcome,
            "action": "buy",
            "type": "limit",
            "status": self.status,
            "yes_price_dollars": _d4(self.yes_price),
            "no_price_dollars": _d4(ONE - self.yes_price),
            "initial_count_fp": _fp(self.initial),
            "fill_count_fp": _fp(self.filled),
            "remaining_count_fp": _fp(self.remaining),
            "taker_fill_cost_dollars": _d4(self.cost),
            "maker_fill_cost_dollars": "0.0000",
            "taker_fees_dollars": f"{self.fees:.6f}",
            "maker_fees_dollars": "0.000000",
            "created_time": _iso(self.created_ms),
            "last_update_time": _iso(self.updated_ms),
            "expiration_time": _iso(self.expiration * 1000) if self.expiration else None,
            "self_trade_prevention_type": "taker_at_cross",
            "exchange_index": self.exchange_index,
        }


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


@define
class FakeKalshi(StandInVenue):
    """State of one fake account and its markets. Call it as an httpx transport handler;
    routes added with ``route`` (the shared stand-in base) answer before Kalshi's own."""

    public_key_pem: str | None = field(default=None, repr=False)
    key_id: str | None = None
    clock_ms: Callable[[], int] = field(default=lambda: time.time_ns() // 1_000_000)
    balance_cents: int = 100_000
    markets: dict[str, dict[str, Any]] = field(factory=dict)
    events: dict[str, dict[str, Any]] = field(factory=dict)
    series: dict[str, dict[str, Any]] = field(factory=dict)
    #: one YES book per market: other members' liquidity and the account's resting orders
    books: dict[str, Book] = field(factory=dict)
    orders: dict[str, FakeOrder] = field(factory=dict)
    fills: list[dict[str, Any]] = field(factory=list)
    positions: dict[str, Decimal] = field(factory=dict)
    settlements: list[dict[str, Any]] = field(factory=list)
    page_size: int = 100
    #: ``GET /exchange/status`` answers ``trading_active`` with this
    trading_active: bool = True
    #: exchange shards whose trading is paused (reported in ``exchange_index_statuses``)
    paused_shards: set[int] = field(factory=set)
    requests: list[httpx.Request] = field(factory=list, repr=False)
    routes: list[Route] = field(factory=list, repr=False)
    _ids: int = 0
    _verify: Any = field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        self._own_routes()
        if self.public_key_pem:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ed25519, padding

            key = serialization.load_pem_public_key(self.public_key_pem.encode())
            if isinstance(key, ed25519.Ed25519PublicKey):
                self._verify = lambda sig, msg: key.verify(sig, msg)
            else:
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
                self._verify = lambda sig, msg: key.verify(sig, msg, pss, hashes.SHA256())  # type: ignore

    # ------------------------------------------------------------------ setup

    def add_market(
        self,
        ticker: str,
        *,
        structure: str = "linear_cent",
        price_ranges: list[dict[str, str]] | None = None,
        fractional: bool = False,
        status: str = "active",
        fee_type: str = "quadratic_with_maker_fees",
        fee_multiplier: float = 1,
        yes_bids: dict[str, str] | None = None,
        no_bids: dict[str, str] | None = None,
        exchange_index: int = 0,
    ) -> None:
        """A market with its event and series, in the 3.34.0 response shapes (the series'
        ``fee_multiplier`` is a JSON number, as Kalshi sends it)."""
        series_ticker, event_ticker = ticker.split("-")[0], "-".join(ticker.split("-")[:2])
        ranges = (
            price_ranges
            or {
                "linear_cent": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
                "tapered_deci_cent": [
                    {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
                    {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
                    {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
                ],
                "deci_cent": [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}],
            }[structure]
        )
        self.markets[ticker] = {
            "ticker": ticker,
            "event_ticker": event_ticker,
            "market_type": "binary",
            "title": f"Stand-in market {ticker}",
            "yes_sub_title": "Yes",
            "no_sub_title": "No",
            "created_time": "2026-11-01T00:00:00Z",
            "updated_time": "2026-11-01T00:00:00Z",
            "open_time": "2026-11-01T00:00:00Z",
            "close_time": "2026-12-31T23:00:00Z",
            "latest_expiration_time": "2027-01-07T23:00:00Z",
            "settlement_timer_seconds": 300,
            "status": status,
            "yes_bid_dollars": "0.0000",
            "yes_bid_size_fp": "0.00",
            "yes_ask_dollars": "0.0000",
            "yes_ask_size_fp": "0.00",
            "no_bid_dollars": "0.0000",
            "no_ask_dollars": "1.0000",
            "last_price_dollars": "0.0000",
            "volume_fp": "0.00",
            "volume_24h_fp": "0.00",
            "result": "",
            "can_close_early": True,
            "open_interest_fp": "0.00",
            "notional_value_dollars": "1.0000",
            "previous_yes_bid_dollars": "0.0000",
            "previous_yes_ask_dollars": "0.0000",
            "previous_price_dollars": "0.0000",
            "settlement_bounds_type": "default",
            "expiration_value": "",
            "rules_primary": "Stand-in rules.",
            "rules_secondary": "",
            "price_level_structure": structure,
            "price_ranges": ranges,
            "fractional_trading_enabled": fractional,
            "exchange_index": exchange_index,
        }
        self.events[event_ticker] = {
            "event_ticker": event_ticker,
            "series_ticker": series_ticker,
            "title": f"Stand-in event {event_ticker}",
            "sub_title": "",
            "collateral_return_type": "",
            "mutually_exclusive": False,
            "settlement_sources": [],
            "exchange_index": exchange_index,
        }
        self.series[series_ticker] = {
            "ticker": series_ticker,
            "frequency": "daily",
            "title": f"Stand-in series {series_ticker}",
            "category": "Climate and Weather",
            "categories": ["Climate and Weather"],
            "tags": [],
            "settlement_sources": [],
            "contract_url": "https://kalshi.com/",
            "contract_terms_url": "https://kalshi.com/",
            "fee_type": fee_type,
            "fee_multiplier": fee_multiplier,
            "additional_prohibitions": [],
        }
        book = self.books[ticker] = Book()
        for price, size in (yes_bids or {}).items():  # a YES bid buys YES
            book.rest(f"yes@{price}", Side.BUY, Decimal(price), Decimal(size), MEMBERS)
        for price, size in (no_bids or {}).items():  # a NO bid at q sells YES at 1 - q
            book.rest(f"no@{price}", Side.SELL, ONE - Decimal(price), Decimal(size),
                      MEMBERS)

    def fill_resting(self, order_id: str, count: Decimal) -> None:
        """The market trades through a resting order: ``count`` more contracts fill at its
        own price as maker (maker fee 0 on a quadratic series), with a fill row."""
        order = self.orders[order_id]
        take = min(count, order.remaining)
        if take <= 0:
            return
        now = self.clock_ms()
        order.updated_ms = now
        self._trade(order, take, order.yes_price, Decimal(0), now, is_taker=False)
        self.books[order.ticker].resize(order_id, order.remaining)

    def _trade(self, order: FakeOrder, take: Decimal, yes_price: Decimal, fee: Decimal,
               now: int, *, is_taker: bool) -> None:
        """Book one fill of ``order``: its totals, a fill row, the position and the cash."""
        side = order.book_side
        paid = yes_price if side == "bid" else ONE - yes_price
        order.filled += take
        order.cost += paid * take
        order.fees += fee
        self.fills.append({
            "fill_id": self._next_id(),
            "trade_id": f"t-{len(self.fills) + 1}",
            "order_id": order.order_id,
            "ticker": order.ticker,
            "market_ticker": order.ticker,
            "exchange_index": order.exchange_index,
            "outcome_side": "yes" if side == "bid" else "no",
            "book_side": side,
            "count_fp": _fp(take),
            "yes_price_dollars": _d4(yes_price),
            "no_price_dollars": _d4(ONE - yes_price),
            "is_taker": is_taker,
            "fee_cost": f"{fee:.6f}",
            "created_time": _iso(now),
            "ts": now // 1000,
        })
        self.positions[order.ticker] = self.positions.get(order.ticker, Decimal(0)) + (
            take if side == "bid" else -take)
        self.balance_cents -= int((paid * take + fee) * 100)

    # ------------------------------------------------------------------ transport

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.log(request)
        path = request.url.path
        if not path.startswith(API_PREFIX):
            return httpx.Response(404, json={"msg": "not found"})
        route = path[len(API_PREFIX) :]
        if route.startswith("/portfolio"):
            denied = self._authenticate(request)
            if denied is not None:
                return denied
        try:
            answer = self.dispatch(request)
        except KeyError as exc:
            return _error(400, "missing_parameters", f"missing {exc}")
        if answer is not None:
            return answer
        if request.method == "GET":
            return _error(404, "not_found", "not found")
        return httpx.Response(404, json={"msg": f"no route {request.method} {route}"})

    def _authenticate(self, request: httpx.Request) -> httpx.Response | None:
        headers = request.headers
        signature = headers.get("KALSHI-ACCESS-SIGNATURE")
        if not signature:
            return _error(401, "signature_is_missing_from_headers", "signature missing")
        if self.key_id and headers.get("KALSHI-ACCESS-KEY") != self.key_id:
            return _error(401, "authentication_error", "authentication error", "NOT_FOUND")
        stamp = headers.get("KALSHI-ACCESS-TIMESTAMP", "")
        if not stamp.isdigit() or abs(int(stamp) - self.clock_ms()) > SKEW_MS:
            return _error(401, "header_timestamp_expired", "timestamp expired")
        if self._verify is not None:
            message = f"{stamp}{request.method}{request.url.path}".encode()
            try:
                self._verify(base64.b64decode(signature), message)
            except Exception:
                return _error(
                    401,
                    "authentication_error",
                    "authentication error",
                    "INCORRECT_API_KEY_SIGNATURE",
                )
        return None

    # ------------------------------------------------------------------ reads

    def _page(self, items: list[Any], key: str, query: dict[str, str]) -> httpx.Response:
        limit = int(query.get("limit", self.page_size))
        if limit > 1000:
            return httpx.Response(400, json={"msg": "Parameter validation failed: limit"})
        limit = min(limit, self.page_size)
        chunk, following = offset_page(items, int(query.get("cursor") or 0), limit)
        cursor = "" if following is None else str(following)
        return httpx.Response(200, json={key: chunk, "cursor": cursor})

    def _own_routes(self) -> None:
        """Kalshi's answers as base routes (a test's routes, added later, answer first);
        a handler gets the query, the JSON body and the path's captured names."""
        def add(method: str, path: str, answer: Callable[..., httpx.Response]) -> None:
            self.route(method, API_PREFIX + path)(
                lambda request, **names: answer(_query(request), _body(request), **names))

        def found(table: dict[str, Any], key: str, what: str, wrap: str) -> httpx.Response:
            if key not in table:
                return _error(404, "not_found", f"{what} not found")
            return httpx.Response(200, json={wrap: table[key]})

        add("GET", "/exchange/status", lambda _q, _b: self._exchange_status())
        add("GET", "/markets", lambda q, _b: self._page(
            [m for m in self.markets.values() if _matches(m, q)], "markets", q))
        add("GET", "/markets/{ticker}",
            lambda _q, _b, ticker: found(self.markets, ticker, "market", "market"))
        add("GET", "/markets/{ticker}/orderbook", lambda _q, _b, ticker: (
            httpx.Response(200, json={"orderbook_fp": self._book(ticker)})
            if ticker in self.markets else _error(404, "not_found", "market not found")))
        add("GET", "/events", lambda q, _b: self._page(list(self.events.values()), "events", q))
        add("GET", "/events/{event}", lambda q, _b, event: self._event(event, q))
        add("GET", "/series/{ticker}",
            lambda _q, _b, ticker: found(self.series, ticker, "series", "series"))
        add("GET", "/portfolio/balance", lambda _q, _b: httpx.Response(200, json={
            "balance": self.balance_cents,
            "balance_dollars": _d4(Decimal(self.balance_cents) / 100),
            "portfolio_value": 0,
            "updated_ts": self.clock_ms() // 1000,
        }))
        add("GET", "/portfolio/orders", lambda q, _b: self._page([o.as_json() for o in sorted(
            (o for o in self.orders.values() if _order_matches(o, q)),
            key=lambda o: o.created_ms, reverse=True)], "orders", q))
        add("GET", "/portfolio/orders/{order_id}", lambda _q, _b, order_id: (
            httpx.Response(200, json={"order": self.orders[order_id].as_json()})
            if order_id in self.orders else _error(404, "not_found", "order not found")))
        add("GET", "/portfolio/fills", lambda q, _b: self._page([
            f for f in self.fills
            if ("order_id" not in q or f["order_id"] == q["order_id"])
            and ("ticker" not in q or f["ticker"] == q["ticker"])], "fills", q))
        add("GET", "/portfolio/positions", lambda q, _b: self._positions(q))
        add("GET", "/portfolio/settlements",
            lambda q, _b: self._page(self.settlements, "settlements", q))
        add("POST", "/portfolio/orders", lambda _q, _b: _error(
            410, "deprecated_v1_order_endpoint",
            "This endpoint has been deprecated. Please use /portfolio/events/orders."))
        orders = "/portfolio/events/orders"
        add("POST", orders, lambda _q, body: self._create(body))
        add("DELETE", orders + "/{order_id}", lambda q, _b, order_id: self._cancel(
            order_id, q.get("exchange_index"), q.get("market_ticker")))
        add("POST", orders + "/batched", lambda _q, body: self._batch_create(body))
        add("DELETE", orders + "/batched", lambda _q, body: self._batch_cancel(body))
        add("POST", orders + "/{order_id}/amend",
            lambda _q, body, order_id: self._amend(order_id, body))
        add("POST", orders + "/{order_id}/decrease",
            lambda _q, body, order_id: self._decrease(order_id, body))

    def _exchange_status(self) -> httpx.Response:
        shards = sorted({int(m.get("exchange_index", 0)) for m in self.markets.values()})
        statuses = [
            {"exchange_index": i, "description": f"shard {i}", "exchange_active": True,
             "trading_active": self.trading_active and i not in self.paused_shards,
             "intra_exchange_transfers_active": True}
            for i in shards
        ]
        return httpx.Response(200, json={
            "exchange_active": True,
            "trading_active": self.trading_active and 0 not in self.paused_shards,
            "exchange_index_statuses": statuses,
        })

    def _event(self, event: str, query: dict[str, str]) -> httpx.Response:
        if event not in self.events:
            return _error(404, "not_found", "event not found")
        markets = [m for m in self.markets.values() if m["event_ticker"] == event]
        payload: dict[str, Any] = {"event": self.events[event], "markets": markets}
        if query.get("with_nested_markets") == "true":
            payload = {"event": {**self.events[event], "markets": markets}, "markets": []}
        return httpx.Response(200, json=payload)

    def _positions(self, query: dict[str, str]) -> httpx.Response:
        items = [
            {
                "ticker": t,
                "exchange_index": self._shard_of(t),
                "position_fp": _fp(q),
                "market_exposure_dollars": "0.0000",
                "total_traded_dollars": "0.0000",
                "realized_pnl_dollars": "0.0000",
                "fees_paid_dollars": "0.0000",
                "last_updated_ts": _iso(self.clock_ms()),
            }
            for t, q in self.positions.items()
            if "ticker" not in query or query["ticker"] == t
        ]
        data = json.loads(self._page(items, "market_positions", query).content)
        return httpx.Response(200, json={**data, "event_positions": []})

    def _book(self, ticker: str) -> dict[str, Any]:
        book = self.books[ticker]
        yes = sorted(book.levels(Side.BUY))
        no = sorted((ONE - p, size) for p, size in book.levels(Side.SELL))
        return {
            "yes_dollars": [[_d4(p), _fp(s)] for p, s in yes],
            "no_dollars": [[_d4(p), _fp(s)] for p, s in no],
        }

    # ------------------------------------------------------------------ writes

    def _shard_of(self, ticker: str) -> int:
        return int(self.markets.get(ticker, {}).get("exchange_index", 0))

    def _routed(self, order: FakeOrder, exchange_index: Any, market_ticker: Any) -> bool:
        """Whether a cancel/decrease reaches the order's shard: an explicit index other
        than -1 wins, else the market ticker auto-routes, else shard 0 (as the SDK says)."""
        if exchange_index not in (None, "", -1, "-1"):
            shard = int(exchange_index)
        elif market_ticker:
            shard = self._shard_of(str(market_ticker))
        else:
            shard = 0
        return shard == order.exchange_index

    def _next_id(self) -> str:
        self._ids += 1
        return str(uuid.UUID(int=0xA11CE << 64 | self._ids))

    def _validate(self, body: Any) -> tuple[dict[str, Any], httpx.Response | None]:
        for name in (
            "ticker",
            "side",
            "count",
            "price",
            "time_in_force",
            "self_trade_prevention_type",
        ):
            if name not in body:
                return body, _error(400, "invalid_order", f"missing {name}")
        for name in ("count", "price"):
            if not isinstance(body[name], str):
                return body, httpx.Response(
                    400,
                    json={
                        "code": "bad_request",
                        "message": "bad request",
                        "details": f"json: cannot unmarshal number into .{name} of type string",
                    },
                )
        market = self.markets.get(body["ticker"])
        if market is None:
            return body, _error(404, "market_not_found", "market not found")
        if market["status"] not in ("active", "open"):
            return body, _error(400, "market_closed", "market is closed")
        price = Decimal(body["price"])
        from arbexec_kalshi.grid import PriceGrid

        if not PriceGrid.from_market(market).is_valid(price):
            return body, _error(400, "invalid_price", "invalid price")
        if body.get("reduce_only") and body["time_in_force"] != "immediate_or_cancel":
            return body, _error(400, "invalid_order", "reduce_only requires immediate_or_cancel")
        return body, None

    def _create(self, body: Any) -> httpx.Response:
        body, problem = self._validate(body)
        if problem is not None:
            return problem
        cid = body.get("client_order_id") or ""
        if cid and any(o.client_order_id == cid for o in self.orders.values()):
            return _error(409, "order_already_exists", "order already exists")
        entry = self._enter(body)
        if isinstance(entry, httpx.Response):
            return entry
        return httpx.Response(201, json=entry)

    def _enter(self, body: dict[str, Any]) -> dict[str, Any] | httpx.Response:
        ticker, side = body["ticker"], body["side"]
        price, count = Decimal(body["price"]), Decimal(body["count"])
        own_price = price if side == "bid" else ONE - price
        if own_price * count * 100 > self.balance_cents:
            return _error(400, "insufficient_balance", "insufficient balance")
        now = self.clock_ms()
        order = FakeOrder(
            order_id=self._next_id(),
            client_order_id=body.get("client_order_id") or "",
            ticker=ticker,
            book_side=side,
            yes_price=price,
            initial=count,
            created_ms=now,
            updated_ms=now,
            expiration=body.get("expiration_time"),
            time_in_force=body["time_in_force"],
            exchange_index=self._shard_of(ticker),
        )
        if body.get("reduce_only"):  # capped by the position it reduces, never opening one
            held = self.positions.get(ticker, Decimal(0))
            closable = max(Decimal(0), -held if side == "bid" else held)
            order.initial = min(count, closable)
        taker = Taker(order.order_id, Side.BUY if side == "bid" else Side.SELL,
                      price, order.initial, _TIME_IN_FORCE[body["time_in_force"]],
                      post_only=bool(body.get("post_only")), owner=ACCOUNT)
        match = self.books[ticker].submit(taker, fee=_taker_fee) if order.initial > 0 else None
        if match is not None and match.refused == "post only cross":
            return _error(400, "invalid_order", "invalid order", "post only cross")
        for fill in match.fills if match is not None else ():
            self._trade(order, fill.quantity, fill.price, fill.fee, now, is_taker=True)
        if body["time_in_force"] in ("immediate_or_cancel", "fill_or_kill"):
            order.cancelled = order.remaining > 0 or order.filled == 0
        self.orders[order.order_id] = order
        answer: dict[str, Any] = {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "fill_count": _fp(order.filled),
            "remaining_count": _fp(order.remaining),
            "ts_ms": now,
        }
        if match is not None and order.filled > 0:
            answer["average_fill_price"] = _d4(match.notional / order.filled)
            answer["average_fee_paid"] = _d4(match.fees / order.filled)
        return answer

    def _batch_create(self, body: Any) -> httpx.Response:
        out = []
        for item in body.get("orders", []):
            item, problem = self._validate(item)
            if problem is None and any(
                o.client_order_id == item.get("client_order_id") for o in self.orders.values()
            ):
                problem = _error(409, "order_already_exists", "order already exists")
            entry = problem if problem is not None else self._enter(item)
            if isinstance(entry, httpx.Response):
                err = json.loads(entry.content).get("error", {})
                out.append({"client_order_id": item.get("client_order_id"), "error": err})
            else:
                out.append(entry)
        return httpx.Response(201, json={"orders": out})

    def _cancel(
        self, order_id: str, exchange_index: Any = None, market_ticker: Any = None
    ) -> httpx.Response:
        order = self.orders.get(order_id)
        if order is None or order.status != "resting":
            return _error(404, "not_found", "order not found")
        if not self._routed(order, exchange_index, market_ticker):
            return _error(404, "not_found", "order not found")  # asked on the wrong shard
        reduced = order.remaining
        order.cancelled = True
        self.books[order.ticker].cancel(order_id)
        order.updated_ms = self.clock_ms()
        return httpx.Response(
            200,
            json={
                "order_id": order_id,
                "client_order_id": order.client_order_id,
                "reduced_by": _fp(reduced),
                "ts_ms": order.updated_ms,
            },
        )

    def _batch_cancel(self, body: Any) -> httpx.Response:
        out = []
        for item in body.get("orders", []):
            answer = self._cancel(
                item["order_id"], item.get("exchange_index"), item.get("market_ticker")
            )
            data = json.loads(answer.content)
            if answer.status_code == 200:
                out.append(data)
            else:
                out.append(
                    {"order_id": item["order_id"], "reduced_by": "0.00", "error": data["error"]}
                )
        return httpx.Response(200, json={"orders": out})

    def _amend(self, order_id: str, body: Any) -> httpx.Response:
        order = self.orders.get(order_id)
        if order is None or order.status != "resting":
            return _error(404, "not_found", "order not found")
        _, problem = self._validate(
            {**body, "time_in_force": "good_till_canceled", "self_trade_prevention_type": "maker"}
        )
        if problem is not None:
            return problem
        total = Decimal(body["count"])
        if total < order.filled:
            return _error(400, "invalid_order", "count below the filled amount")
        order.yes_price = Decimal(body["price"])
        order.initial = max(order.initial, total)
        order.reduced = order.initial - total
        book = self.books[order.ticker]
        book.cancel(order_id)  # a new price or size loses the order's place in the queue
        if order.remaining > 0:
            book.rest(order_id, Side.BUY if order.book_side == "bid" else Side.SELL,
                      order.yes_price, order.remaining, ACCOUNT)
        if "expiration_time" in body:
            order.expiration = body["expiration_time"] or None
        return self._changed(order_id, order, with_fills=True)

    def _decrease(self, order_id: str, body: Any) -> httpx.Response:
        order = self.orders.get(order_id)
        if order is None or order.status != "resting":
            return _error(404, "not_found", "order not found")
        if ("reduce_by" in body) == ("reduce_to" in body):
            return _error(400, "invalid_parameters", "exactly one of reduce_by, reduce_to")
        if not self._routed(order, body.get("exchange_index"), body.get("market_ticker")):
            return _error(404, "not_found", "order not found")
        if "reduce_by" in body:
            order.reduced += min(Decimal(body["reduce_by"]), order.remaining)
        else:
            order.reduced += order.remaining - min(Decimal(body["reduce_to"]), order.remaining)
        if order.remaining == 0:
            order.cancelled = True
        self.books[order.ticker].resize(order_id, order.remaining)
        return self._changed(order_id, order, with_fills=False)

    def _changed(self, order_id: str, order: FakeOrder, *, with_fills: bool) -> httpx.Response:
        """The answer to an amend (which reports fills) or a decrease (which does not)."""
        order.updated_ms = self.clock_ms()
        answer: dict[str, Any] = {"order_id": order_id, "client_order_id": order.client_order_id,
                                  "remaining_count": _fp(order.remaining)}
        if with_fills:
            answer["fill_count"] = _fp(order.filled)
        answer["ts_ms"] = order.updated_ms
        return httpx.Response(200, json=answer)


def _query(request: httpx.Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def _taker_fee(yes_price: Decimal, count: Decimal) -> Decimal:
    """The quadratic taker fee, rounded up to the centicent as Kalshi charges it."""
    return ceil_to(Decimal("0.07") * count * yes_price * (ONE - yes_price), CENTICENT)


def _matches(market: dict[str, Any], query: dict[str, str]) -> bool:
    if "event_ticker" in query and market["event_ticker"] != query["event_ticker"]:
        return False
    if "tickers" in query and market["ticker"] not in query["tickers"].split(","):
        return False
    return not ("status" in query and query["status"] == "open" and market["status"] != "active")


def _order_matches(order: FakeOrder, query: dict[str, str]) -> bool:
    if "ticker" in query and order.ticker != query["ticker"]:
        return False
    if "status" in query and order.status != query["status"]:
        return False
    return not ("min_ts" in query and order.created_ms // 1000 < int(query["min_ts"]))
