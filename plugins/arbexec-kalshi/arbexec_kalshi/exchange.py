"""The Kalshi venue: the arbexec ``Exchange`` contract over Trade API v2.

Orders go to the V2 event-order endpoints (``/portfolio/events/orders``) on the single
YES book; reads stay on ``/portfolio/orders``. Every venue number is parsed as Decimal at
this edge and every venue refusal is raised as an arbexec error keeping Kalshi's code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx
from attrs import evolve

from arbexec import errors as ax
from arbexec.exchange import Capabilities, ExchangeSettings, MarketRules, PreparedOrder
from arbexec.model import (
    ONE,
    ZERO,
    Balance,
    Fill,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderState,
    OrderStatus,
    Outcome,
    Position,
    TimeInForce,
    now_utc,
    optional_datetime,
)
from arbexec_kalshi import mapping
from arbexec_kalshi.config import KalshiConfig
from arbexec_kalshi.credentials import load_credentials
from arbexec_kalshi.errors import VenueError, to_exception
from arbexec_kalshi.fees import CENTICENT, FeeSchedule
from arbexec_kalshi.http import KalshiHttp, make_client
from arbexec_kalshi.markets import MarketInfo, market_info, series_of
from arbexec_kalshi.numbers import (
    cents_to_dollars,
    decimalize,
    field_decimal,
    format_count,
    format_price,
)
from arbexec_kalshi.orderbook import parse_rest_orderbook
from arbexec_kalshi.ratelimit import CANCEL_COST, GET_ORDER_COST, buckets_for
from arbexec_kalshi.records import BatchItem, Settlement, VenueFill
from arbexec_kalshi.signing import Signer

log = logging.getLogger("arbexec.kalshi")

ORDERS = "/portfolio/events/orders"
MARKET_CACHE_SECONDS = 60.0
BATCH_LIMIT = 20
PAGE_LIMIT = 200
#: Reads after a cancel that may still show the order resting (the venue's read lags).
CANCEL_CONFIRM_READS = 4


class KalshiExchange:
    """A Kalshi account on production or demo. Build with ``from_settings``."""

    name: str
    fee_rounding = CENTICENT  # each trade fee is rounded up to $0.0001
    capabilities = Capabilities(
        time_in_force=frozenset(TimeInForce),
        post_only=True,
        batch_orders=True,
        cancel_all=True,
        order_stream=True,
        amend=True,
        market_orders=False,
    )

    def __init__(
        self,
        *,
        name: str = "kalshi",
        config: KalshiConfig | None = None,
        signer: Signer | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        ws_connect: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.config = config or KalshiConfig()
        self._signer = signer
        read, write = buckets_for(self.config.tier, self.config.read_rate, self.config.write_rate)
        self.http = KalshiHttp(
            base_url=self.config.rest_url,
            client=client
            or make_client(
                proxy=self.config.proxy, timeout=self.config.timeout, transport=transport
            ),
            signer=signer,
            read_bucket=read,
            write_bucket=write,
            sleep=sleep,
        )
        self._sleep = sleep
        self._ws_connect = ws_connect
        self._markets: dict[str, tuple[float, MarketInfo]] = {}
        self._market_locks: dict[str, asyncio.Lock] = {}
        self._intents: dict[str, OrderRequest] = {}

    def __repr__(self) -> str:
        return f"KalshiExchange(name={self.name!r}, environment={self.config.environment!r})"

    @classmethod
    def from_settings(cls, settings: ExchangeSettings, **kwargs: Any) -> KalshiExchange:
        """The ``ExchangeSpec`` factory: options first, environment variables as fallback."""
        options = dict(settings.options)
        config = KalshiConfig.from_options(options)
        credentials = load_credentials(options)
        signer = credentials.signer() if credentials is not None else None
        return cls(name=settings.name, config=config, signer=signer, **kwargs)

    @property
    def signer(self) -> Signer | None:
        return self._signer

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> KalshiExchange:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ markets

    async def market_info(self, market: str, *, refresh: bool = False) -> MarketInfo:
        """Grid, status and fee schedule of a market (cached for a minute)."""
        cached = self._markets.get(market)
        if cached and not refresh and time.monotonic() - cached[0] < MARKET_CACHE_SECONDS:
            return cached[1]
        lock = self._market_locks.setdefault(market, asyncio.Lock())
        async with lock:
            cached = self._markets.get(market)
            if cached and not refresh and time.monotonic() - cached[0] < MARKET_CACHE_SECONDS:
                return cached[1]
            raw = await self._get_market_raw(market)
            event = None
            if raw.get("event_ticker"):
                event = (await self.http.get(f"/events/{raw['event_ticker']}", auth=False)).get(
                    "event"
                )
            series_ticker = (event or {}).get("series_ticker") or series_of(market)
            try:
                series = (await self.http.get(f"/series/{series_ticker}", auth=False)).get("series")
            except ax.OrderNotFound:
                series = None
            info = market_info(raw, event, series)
            self._markets[market] = (time.monotonic(), info)
            return info

    async def _get_market_raw(self, market: str) -> dict[str, Any]:
        try:
            payload = await self.http.get(f"/markets/{market}", auth=False, operation="get market")
        except ax.OrderNotFound:
            raise ax.InvalidOrder(
                f"Kalshi has no market {market!r} (market is the ticker, e.g. "
                "KXHIGHNY-26NOV22-B57.5)",
                venue="kalshi",
            ) from None
        return dict(payload["market"])

    async def market_rules(self, market: str) -> MarketRules:
        return (await self.market_info(market)).rules

    async def fetch_order_book(self, market: str, depth: int | None = None) -> OrderBook:
        payload = await self.http.get(
            f"/markets/{market}/orderbook", {"depth": depth}, auth=False, operation="order book"
        )
        info = self._markets.get(market)
        return parse_rest_orderbook(
            payload, market, tick_size=info[1].price_grid.tick_size if info else None
        )

    async def fetch_market(self, market: str) -> dict[str, Any]:
        return decimalize(await self._get_market_raw(market))

    async def fetch_markets(self, **filters: Any) -> list[dict[str, Any]]:
        """``GET /markets`` with its filters (``event_ticker``, ``series_ticker``, ``status``,
        ``tickers`` ...), every page."""
        return await self._collect("/markets", "markets", filters, auth=False)

    async def fetch_event(self, event: str, *, with_markets: bool = False) -> dict[str, Any]:
        payload = await self.http.get(
            f"/events/{event}", {"with_nested_markets": with_markets or None}, auth=False
        )
        return decimalize(payload)

    async def fetch_events(self, **filters: Any) -> list[dict[str, Any]]:
        return await self._collect("/events", "events", filters, auth=False)

    async def fetch_series(self, series: str) -> dict[str, Any]:
        return decimalize((await self.http.get(f"/series/{series}", auth=False))["series"])

    async def exchange_status(self) -> dict[str, Any]:
        """``{exchange_active, trading_active, ...}``: check before trading."""
        return dict(await self.http.get("/exchange/status", auth=False))

    async def _collect(
        self,
        path: str,
        key: str,
        params: Mapping[str, Any],
        *,
        auth: bool = True,
        max_pages: int = 50,
        cost: float = 10,
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query = dict(params)
        for _ in range(max_pages):
            payload = await self.http.get(path, query, auth=auth, cost=cost)
            items.extend(decimalize(item) for item in payload.get(key) or ())
            cursor = payload.get("cursor") or ""
            if not cursor:
                break
            query["cursor"] = cursor
        return items

    # ------------------------------------------------------------------ fees

    def fee(self, market: str, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
        """Fee of one fill at ``price`` (either outcome's price: P(1-P) is symmetric),
        rounded up to $0.0001. Unknown markets use the maker-fee schedule (an upper bound)."""
        cached = self._markets.get(market)
        schedule = cached[1].fees if cached else FeeSchedule()
        return schedule.fee(Decimal(price), Decimal(quantity), Liquidity(liquidity))

    # ------------------------------------------------------------------ orders

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        info = await self.market_info(request.market)
        if not info.tradable:
            raise ax.MarketClosed(
                f"{request.market} is {info.status!r} on Kalshi, not open for trading",
                venue="kalshi",
            )
        book = mapping.to_book(request.side, request.outcome, request.limit_price)
        what = (
            "YES price"
            if request.outcome is Outcome.YES
            else f"NO price {request.limit_price}, i.e. YES price"
        )
        info.price_grid.check(book.price, market=request.market, what=what)
        info.size_grid.check(request.quantity, market=request.market)
        tags = request.tags
        reduce_only = bool(tags.get("reduce_only", False))
        if reduce_only and request.time_in_force is not TimeInForce.IOC:
            raise ax.InvalidOrder("Kalshi accepts reduce_only only on IOC orders", venue="kalshi")
        client_order_id = mapping.identity(request, self.config.client_order_id_namespace)
        body: dict[str, Any] = {
            "ticker": request.market,
            "side": book.side,
            "count": format_count(request.quantity),
            "price": format_price(book.price),
            "time_in_force": mapping.TIME_IN_FORCE[request.time_in_force],
            "self_trade_prevention_type": str(
                tags.get("self_trade_prevention") or self.config.self_trade_prevention
            ),
            "client_order_id": client_order_id,
        }
        if request.post_only:
            body["post_only"] = True
        if reduce_only:
            body["reduce_only"] = True
        if request.expires_at is not None:
            seconds = request.expires_at.timestamp()
            if seconds != int(seconds):
                raise ax.InvalidOrder(
                    f"Kalshi expiries are whole seconds; {request.expires_at.isoformat()} "
                    "has a fraction",
                    venue="kalshi",
                )
            if request.expires_at <= now_utc():
                raise ax.InvalidOrder(
                    f"expiry {request.expires_at.isoformat()} is in the past", venue="kalshi"
                )
            body["expiration_time"] = int(seconds)
        group = tags.get("order_group_id") or self.config.order_group_id
        if group:
            body["order_group_id"] = str(group)
        if self.config.cancel_order_on_pause or tags.get("cancel_order_on_pause"):
            body["cancel_order_on_pause"] = True
        if self.config.subaccount is not None:
            body["subaccount"] = self.config.subaccount
        self._intents[client_order_id] = request
        return PreparedOrder(request=request, identity=client_order_id, payload=body)

    async def create_order(self, order: PreparedOrder) -> OrderState:
        body = order.payload or (await self.prepare_order(order.request)).payload
        try:
            answer = await self.http.request(
                "POST",
                ORDERS,
                json=body,
                operation="create order",
                order_post=True,
                order_request=True,
            )
        except ax.DuplicateOrder as exc:
            # the identity is already on the venue: an earlier send of this request landed
            found = await self.lookup_order(order.identity)
            if found is None:  # it exists but cannot be read back (yet): unknown, not rejected
                raise ax.AmbiguousSubmission(
                    f"Kalshi reports {order.identity} as a duplicate but the order could not "
                    "be found; resolve it by looking the identity up later",
                    venue="kalshi",
                    venue_code=exc.venue_code,
                    venue_message=exc.venue_message,
                    http_status=exc.http_status,
                ) from None
            log.info("kalshi: %s already existed; resolved by lookup", order.identity)
            return found
        return self._state_from_entry(order.request, order.identity, answer)

    def _state_from_entry(
        self, request: OrderRequest, client_order_id: str, answer: Mapping[str, Any]
    ) -> OrderState:
        filled = field_decimal(answer, "fill_count", ZERO)
        remaining = field_decimal(answer, "remaining_count", ZERO)
        if remaining > 0:
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
        elif filled > 0:
            status = OrderStatus.FILLED if filled >= request.quantity else OrderStatus.CANCELLED
        else:
            status = OrderStatus.CANCELLED
        yes_average = field_decimal(answer, "average_fill_price")
        average = None
        if yes_average is not None and filled > 0:
            average = yes_average if request.outcome is Outcome.YES else ONE - yes_average
        fee_each = field_decimal(answer, "average_fee_paid", ZERO)
        reason = None
        if status is OrderStatus.CANCELLED:
            reason = (
                "nothing could be matched at entry (IOC/FOK without liquidity, or "
                "self-trade prevention)"
                if filled == 0
                else "the unfilled rest was cancelled at entry"
            )
        ts = answer.get("ts_ms")
        return OrderState(
            venue=mapping.VENUE,
            venue_order_id=str(answer["order_id"]),
            market=request.market,
            outcome=request.outcome,
            side=request.side,
            status=status,
            quantity=request.quantity,
            limit_price=request.limit_price,
            filled_quantity=filled,
            average_price=average,
            fees=fee_each * filled,
            client_order_id=str(answer.get("client_order_id") or client_order_id),
            reason=reason,
            updated_at=optional_datetime(Decimal(ts) / 1000 if ts else None) or now_utc(),
        )

    async def lookup_order(self, identity: str) -> OrderState | None:
        """Find the order whose ``client_order_id`` is ``identity``: resting orders first,
        then the order history, newest first (of its market when this process prepared
        the order). Orders past the venue's historical cutoff are not searched."""
        request = self._intents.get(identity)
        ticker = request.market if request else None
        queries: list[dict[str, Any]] = [
            {"status": "resting", "ticker": ticker},
            {"ticker": ticker},
        ]
        for query in queries:
            cursor = ""
            for _ in range(50):
                payload = await self.http.get(
                    "/portfolio/orders",
                    {**self._account(), **query, "limit": PAGE_LIMIT, "cursor": cursor or None},
                    operation="look up order",
                )
                for raw in payload.get("orders") or ():
                    if raw.get("client_order_id") == identity:
                        return await self._with_fills(raw)
                cursor = payload.get("cursor") or ""
                if not cursor:
                    break
        return None

    async def fetch_order(self, venue_order_id: str) -> OrderState:
        payload = await self.http.get(
            f"/portfolio/orders/{venue_order_id}", cost=GET_ORDER_COST, operation="fetch order"
        )
        return await self._with_fills(payload["order"])

    async def _with_fills(self, raw: Mapping[str, Any]) -> OrderState:
        filled = field_decimal(raw, "fill_count_fp", ZERO)
        fills: Sequence[Fill] = ()
        if filled > 0:
            frame = mapping.frame_of(raw.get("client_order_id"), str(raw.get("book_side")))
            venue_fills = await self.fetch_fills(order_id=str(raw["order_id"]), outcome=frame)
            fills = [vf.fill for vf in venue_fills]
        return mapping.parse_order(raw, fills)

    async def fetch_open_orders(self, market: str | None = None) -> list[OrderState]:
        return await self.list_orders(ticker=market, status="resting")

    async def list_orders(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int = PAGE_LIMIT,
        max_pages: int = 50,
    ) -> list[OrderState]:
        """``GET /portfolio/orders`` with its filters, following the cursor."""
        query = {
            **self._account(),
            "ticker": ticker,
            "event_ticker": event_ticker,
            "status": status,
            "min_ts": min_ts,
            "max_ts": max_ts,
            "limit": limit,
        }
        raws = await self._collect_raw("/portfolio/orders", "orders", query, max_pages=max_pages)
        return [mapping.parse_order(raw) for raw in raws]

    async def _collect_raw(
        self, path: str, key: str, query: Mapping[str, Any], *, max_pages: int = 50
    ) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        params = dict(query)
        for _ in range(max_pages):
            payload = await self.http.get(path, params)
            items.extend(payload.get(key) or ())
            cursor = payload.get("cursor") or ""
            if not cursor:
                break
            params["cursor"] = cursor
        return items

    async def fetch_fills(
        self,
        *,
        order_id: str | None = None,
        ticker: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        outcome: Outcome | None = None,
    ) -> list[VenueFill]:
        """Fills with their order ids; prices in ``outcome`` terms (YES if not given)."""
        query = {
            **self._account(),
            "order_id": order_id,
            "ticker": ticker,
            "min_ts": min_ts,
            "max_ts": max_ts,
            "limit": PAGE_LIMIT,
        }
        out = []
        for raw in await self._collect_raw("/portfolio/fills", "fills", query):
            yes_price = field_decimal(raw, "yes_price_dollars")
            if yes_price is None:
                yes_price = ONE - field_decimal(raw, "no_price_dollars")
            out.append(
                VenueFill(
                    order_id=str(raw["order_id"]),
                    market=str(raw.get("ticker") or raw.get("market_ticker")),
                    book_side=str(raw.get("book_side") or ""),
                    yes_price=yes_price,
                    fill=mapping.parse_fill(raw, outcome or Outcome.YES),
                )
            )
        return out

    async def cancel_order(self, venue_order_id: str) -> OrderState:
        """Cancel, then read until the venue's record agrees (reads can lag a cancel)."""
        try:
            await self.http.request(
                "DELETE",
                f"{ORDERS}/{venue_order_id}",
                params=self._account(),
                cost=CANCEL_COST,
                operation="cancel order",
            )
        except ax.OrderNotFound:
            # not live (a 404 on cancel proves it): final already, or unknown (fetch raises)
            return await self._confirm_cancel(venue_order_id)
        return await self._confirm_cancel(venue_order_id)

    async def _confirm_cancel(self, venue_order_id: str) -> OrderState:
        state = await self.fetch_order(venue_order_id)
        for attempt in range(CANCEL_CONFIRM_READS):
            if state.is_final:
                return state
            await self._sleep(0.2 * (2**attempt))
            state = await self.fetch_order(venue_order_id)
        if state.is_final:
            return state
        # the cancel was acknowledged; the read has not caught up yet
        return evolve(
            state,
            status=OrderStatus.CANCELLED,
            reason="cancel acknowledged by Kalshi; its order read still lagged",
        )

    async def cancel_orders(self, venue_order_ids: Iterable[str]) -> list[BatchItem]:
        """Batch cancel (``DELETE /portfolio/events/orders/batched``), 20 per call."""
        ids = list(venue_order_ids)
        results: list[BatchItem] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            entries = [{"order_id": oid, **self._account()} for oid in chunk]
            answer = await self.http.request(
                "DELETE",
                f"{ORDERS}/batched",
                json={"orders": entries},
                cost=CANCEL_COST * len(chunk),
                operation="batch cancel",
            )
            for item in answer.get("orders") or ():
                results.append(self._batch_item(item, "batch cancel"))
        return results

    async def cancel_all_orders(self, market: str | None = None) -> int:
        """Cancel the resting orders (of one market) by id, so orders placed meanwhile are
        not swept up as the venue's cancel-all would; returns how many were cancelled."""
        open_orders = await self.fetch_open_orders(market)
        results = await self.cancel_orders(o.venue_order_id for o in open_orders)
        return sum(1 for r in results if r.error is None)

    def _batch_item(self, item: Mapping[str, Any], operation: str) -> BatchItem:
        error = item.get("error")
        identity = item.get("client_order_id") or item.get("order_id")
        if error:
            if isinstance(error, Mapping):
                venue_error = VenueError(
                    int(error.get("status") or 400),
                    error.get("code"),
                    error.get("message"),
                    error.get("details"),
                )
            else:
                venue_error = VenueError(400, None, str(error), None)
            return BatchItem(
                identity=identity, error=to_exception(venue_error, operation=operation)
            )
        return BatchItem(identity=identity)

    async def create_orders(self, orders: Sequence[PreparedOrder]) -> list[BatchItem]:
        """Batch create (``POST /portfolio/events/orders/batched``). A transport failure of
        the whole batch raises ``AmbiguousSubmission``: look each identity up."""
        results: list[BatchItem] = []
        for start in range(0, len(orders), BATCH_LIMIT):
            chunk = orders[start : start + BATCH_LIMIT]
            answer = await self.http.request(
                "POST",
                f"{ORDERS}/batched",
                json={"orders": [o.payload for o in chunk]},
                cost=10 * len(chunk),
                operation="batch create",
                order_post=True,
                order_request=True,
            )
            by_identity = {o.identity: o for o in chunk}
            for position, item in enumerate(answer.get("orders") or ()):
                identity = item.get("client_order_id") or chunk[position].identity
                prepared = by_identity.get(identity, chunk[position])
                if item.get("error"):
                    failed = self._batch_item(item, "batch create")
                    results.append(evolve(failed, identity=prepared.identity))
                else:
                    state = self._state_from_entry(prepared.request, prepared.identity, item)
                    results.append(BatchItem(identity=prepared.identity, state=state))
        return results

    async def amend_order(
        self,
        venue_order_id: str,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
        expires_at: Any = None,
    ) -> OrderState:
        """Change price and/or total size (filled + remaining) of a resting order, in the
        order's own outcome terms; re-checked against the market grid first."""
        current = await self.fetch_order(venue_order_id)
        if not current.status.is_live:
            raise ax.OrderNotFound(
                f"order {venue_order_id} is {current.status.value}; only live orders amend",
                venue="kalshi",
            )
        info = await self.market_info(current.market)
        new_price = current.limit_price if price is None else Decimal(price)
        new_total = current.quantity if quantity is None else Decimal(quantity)
        book = mapping.to_book(current.side, current.outcome, new_price)
        info.price_grid.check(book.price, market=current.market)
        info.size_grid.check(new_total, market=current.market)
        body: dict[str, Any] = {
            "ticker": current.market,
            "side": book.side,
            "price": format_price(book.price),
            "count": format_count(new_total),
        }
        if current.client_order_id:
            body["client_order_id"] = current.client_order_id
        if expires_at is not None:
            body["expiration_time"] = int(optional_datetime(expires_at).timestamp())  # type: ignore[union-attr]
        await self.http.request(
            "POST",
            f"{ORDERS}/{venue_order_id}/amend",
            params=self._account(),
            json=body,
            operation="amend order",
            order_request=True,
        )
        return await self.fetch_order(venue_order_id)

    async def decrease_order(
        self,
        venue_order_id: str,
        *,
        reduce_by: Decimal | None = None,
        reduce_to: Decimal | None = None,
    ) -> OrderState:
        """Shrink a resting order without losing queue position (exactly one argument)."""
        if (reduce_by is None) == (reduce_to is None):
            raise ValueError("give exactly one of reduce_by and reduce_to")
        body = (
            {"reduce_by": format_count(Decimal(reduce_by))}
            if reduce_by is not None
            else {"reduce_to": format_count(Decimal(reduce_to))}  # type: ignore[arg-type]
        )
        await self.http.request(
            "POST",
            f"{ORDERS}/{venue_order_id}/decrease",
            params=self._account(),
            json=body,
            operation="decrease order",
            order_request=True,
        )
        return await self.fetch_order(venue_order_id)

    # ------------------------------------------------------------------ portfolio

    def _account(self) -> dict[str, Any]:
        return {} if self.config.subaccount is None else {"subaccount": self.config.subaccount}

    async def fetch_balance(self) -> Balance:
        payload = await self.http.get("/portfolio/balance", self._account(), operation="balance")
        if payload.get("balance_dollars") not in (None, ""):
            cash = field_decimal(payload, "balance_dollars")
        else:
            cash = cents_to_dollars(payload.get("balance"), "balance")
        return Balance(venue=mapping.VENUE, total=cash, available=cash, currency="USD")

    async def fetch_positions(self) -> list[Position]:
        query = {**self._account(), "count_filter": "position", "limit": PAGE_LIMIT}
        out = []
        for raw in await self._collect_raw("/portfolio/positions", "market_positions", query):
            position = field_decimal(raw, "position_fp", ZERO)
            if position == 0:
                continue
            out.append(
                Position(
                    venue=mapping.VENUE,
                    market=str(raw["ticker"]),
                    outcome=Outcome.YES if position > 0 else Outcome.NO,
                    quantity=abs(position),
                    realised_pnl=field_decimal(raw, "realized_pnl_dollars", ZERO),
                )
            )
        return out

    async def fetch_settlements(self, **filters: Any) -> list[Settlement]:
        query = {**self._account(), **filters, "limit": filters.get("limit", PAGE_LIMIT)}
        out = []
        for raw in await self._collect_raw("/portfolio/settlements", "settlements", query):
            revenue = raw.get("revenue")
            out.append(
                Settlement(
                    market=str(raw["ticker"]),
                    event=raw.get("event_ticker"),
                    result=str(raw.get("market_result") or ""),
                    yes_count=field_decimal(raw, "yes_count_fp", ZERO),
                    no_count=field_decimal(raw, "no_count_fp", ZERO),
                    yes_cost=field_decimal(raw, "yes_total_cost_dollars", ZERO),
                    no_cost=field_decimal(raw, "no_total_cost_dollars", ZERO),
                    revenue=cents_to_dollars(revenue, "revenue") if revenue is not None else ZERO,
                    fee=field_decimal(raw, "fee_cost", ZERO),
                    settled_at=optional_datetime(raw.get("settled_time") or None),
                )
            )
        return out

    # ------------------------------------------------------------------ streaming

    def watch_orders(self) -> AsyncIterator[OrderState] | None:
        """Order updates from the authenticated websocket, REST-refetched after a reconnect
        or a sequence gap; falls back to polling when the socket cannot be held."""
        if self._signer is None:
            return None
        from arbexec_kalshi.stream import OrderStream

        return OrderStream(self, connect=self._ws_connect).updates()
