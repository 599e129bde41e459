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
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from attrs import evolve

from arbexec import api as ax
from arbexec.api import (
    ONE,
    ZERO,
    Balance,
    Capabilities,
    ExchangeSettings,
    Fill,
    Liquidity,
    MarketRules,
    OrderBook,
    OrderRequest,
    OrderState,
    OrderStatus,
    Outcome,
    Position,
    PreparedOrder,
    Side,
    TimeInForce,
    match_by_identity,
    now_utc,
    optional_datetime,
)
from arbexec_kalshi import catalog, mapping
from arbexec_kalshi.config import SELF_TRADE_PREVENTION, KalshiConfig
from arbexec_kalshi.credentials import load_credentials
from arbexec_kalshi.errors import (
    OrderMismatch,
    UnreadableAnswer,
    VenueError,
    to_exception,
)
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
from arbexec_kalshi.ratelimit import (
    CANCEL_COST,
    CREATE_COST,
    GET_ORDER_COST,
    batch_size,
    buckets_for,
)
from arbexec_kalshi.records import BatchItem, Settlement, VenueFill
from arbexec_kalshi.scrub import scrub
from arbexec_kalshi.signing import Signer

log = logging.getLogger("arbexec.kalshi")

ORDERS = "/portfolio/events/orders"
MARKET_CACHE_SECONDS = 60.0
#: ``GET /exchange/status`` is read at most this often before orders are sent.
STATUS_CACHE_SECONDS = 5.0
PAGE_LIMIT = 200
#: Reads after a cancel that may still show the order resting (the venue's read lags).
CANCEL_CONFIRM_READS = 4
#: Parse failures of a venue record become a venue error for that call, never a crash.
#: what reading a venue record can raise when the record is not what Kalshi documents
_RECORD_ERRORS = (
    KeyError, TypeError, ValueError, AttributeError, ArithmeticError, ax.MalformedNumber,
)


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
        list_markets=True,
        list_markets_since=True,
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
            extra_secrets=_proxy_secrets(self.config.proxy),
        )
        self._sleep = sleep
        self._ws_connect = ws_connect
        self._markets: dict[str, tuple[float, MarketInfo]] = {}
        self._market_locks: dict[str, asyncio.Lock] = {}
        self._intents: dict[str, OrderRequest] = {}
        #: venue order id -> (market ticker, exchange shard): cancels must be routed
        self._routes: dict[str, tuple[str, int | None]] = {}
        #: orders this process amended (their terms no longer match their identity)
        self._amended: set[str] = set()
        self._status: tuple[float, Mapping[str, Any]] | None = None
        self._series: dict[str, Mapping[str, Any] | None] = {}  # the catalogue's cache
        self._series_listed = False

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

    def known_secrets(self) -> list[str]:
        """The API key id, for the engine to scrub from what it journals (the private key
        is never sent; per-request signatures are scrubbed by ``KalshiHttp``)."""
        return [] if self._signer is None else [self._signer.key_id]

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> KalshiExchange:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ reading answers

    def _secrets(self) -> tuple[str | None, ...]:
        key_id = self._signer.key_id if self._signer is not None else None
        return (key_id, *self.http.extra_secrets)

    def _unreadable(self, message: str) -> UnreadableAnswer:
        return UnreadableAnswer(scrub(message, self._secrets()) or message, venue="kalshi")

    def _records(self, payload: Any, key: str, operation: str) -> list[Mapping[str, Any]]:
        """``payload[key]`` as a list of records, or a clear venue error for any other shape."""
        items = payload.get(key) if isinstance(payload, Mapping) else None
        if items is None and isinstance(payload, Mapping):
            return []
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise self._unreadable(
                f"Kalshi answered {operation} with {key!r} = {str(items)[:80]!r}, not a list "
                "of records; nothing was read from it"
            )
        return items

    def _parsed(self, operation: str, parse: Callable[..., Any], *args: Any) -> Any:
        """``parse(*args)``; a record it cannot read is a venue error for this call (its
        message scrubbed of this account's secrets), never another exception."""
        try:
            return parse(*args)
        except ax.ExchangeError as exc:
            raise self._unreadable(f"Kalshi answered {operation}: {exc}") from None
        except _RECORD_ERRORS as exc:
            raise self._unreadable(
                f"Kalshi answered {operation} with a record arbexec cannot read "
                f"({type(exc).__name__}: {str(exc)[:120]})"
            ) from None

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

    async def list_markets(self, cursor: str | None = None, limit: int | None = None,
                           updated_since: datetime | None = None) -> ax.MarketPage:
        """One page of the open markets (``GET /markets?status=open``), or of every market
        changed since ``updated_since`` whatever its status (``min_updated_ts``), each with
        its series' settlement sources (``GET /series`` once, then cached)."""
        size = min(max(1, limit or catalog.MAX_PAGE), catalog.MAX_PAGE)
        operation = "list markets"
        query: dict[str, Any] = {"limit": size, "cursor": cursor or None}
        if updated_since is None:
            query["status"] = "open"
        else:
            query["min_updated_ts"] = int(updated_since.timestamp())
        payload = await self.http.get("/markets", query, auth=False, operation=operation)
        raws = self._records(payload, "markets", operation)
        listings = []
        for raw in raws:
            series = await self._catalog_series(series_of(str(raw.get("ticker", ""))))
            listings.append(self._parsed(operation, catalog.listing, self.name, raw, series))
        next_cursor = payload.get("cursor") or None
        if next_cursor is not None and (not isinstance(next_cursor, str) or next_cursor == cursor):
            raise self._unreadable(f"Kalshi answered {operation} with the cursor it was given; "
                                   "the listing cannot go on")
        return ax.MarketPage(tuple(listings), next_cursor)

    async def _catalog_series(self, ticker: str) -> Mapping[str, Any] | None:
        """A series for the catalogue: every series comes with the first call (``GET
        /series`` answers all of them at once); one listed later is asked for alone."""
        if not self._series_listed:
            operation = "list series"
            payload = await self.http.get("/series", auth=False, operation=operation)
            for record in self._records(payload, "series", operation):
                self._series[str(record.get("ticker", ""))] = record
            self._series_listed = True
        if ticker not in self._series:
            try:
                payload = await self.http.get(f"/series/{ticker}", auth=False,
                                              operation="get series")
                self._series[ticker] = payload.get("series")
            except ax.OrderNotFound:  # Kalshi's 404: a series it does not publish
                self._series[ticker] = None
        return self._series[ticker]

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
        max_pages: int | None = None,
        cost: float = 10,
    ) -> list[dict[str, Any]]:
        raws = await self._collect_raw(
            path, key, params, max_pages=max_pages, auth=auth, cost=cost
        )
        return [decimalize(item) for item in raws]

    async def _pages(
        self,
        path: str,
        key: str,
        params: Mapping[str, Any],
        *,
        max_pages: int | None = None,
        auth: bool = True,
        cost: float = 10,
        operation: str | None = None,
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Every page of a listing, following the cursor to the end ('' = last page). A
        cursor the venue repeats is an error, and a caller's ``max_pages`` that leaves
        pages unread is said in the log, never silently."""
        query = {k: v for k, v in params.items() if k != "cursor"}
        seen: set[str] = set()
        operation = operation or f"GET {path}"
        pages = 0
        while True:
            payload = await self.http.get(path, query, auth=auth, cost=cost, operation=operation)
            pages += 1
            yield self._records(payload, key, operation)
            cursor = payload.get("cursor") or ""
            if not cursor:
                return
            if not isinstance(cursor, str) or cursor in seen:
                raise UnreadableAnswer(
                    f"Kalshi repeated the cursor of {operation} after {pages} pages; the "
                    "listing cannot be completed",
                    venue="kalshi",
                )
            if max_pages is not None and pages >= max_pages:
                log.warning(
                    "kalshi %s: stopped after %d pages as asked; more pages remain",
                    operation,
                    pages,
                )
                return
            seen.add(cursor)
            query["cursor"] = cursor

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
        stp = str(tags.get("self_trade_prevention") or self.config.self_trade_prevention)
        if stp not in SELF_TRADE_PREVENTION:
            raise ax.InvalidOrder(
                f"self_trade_prevention {stp!r} is not one of Kalshi's "
                f"{', '.join(SELF_TRADE_PREVENTION)}",
                venue="kalshi",
            )
        # reduce_only: True forces it, False opts out (a sell meant to open the other side
        # beyond the position), unset: IOC sells of held contracts get it automatically
        asked = tags.get("reduce_only", getattr(request, "reduce_only", None))
        explicit = bool(asked)
        if explicit and request.time_in_force is not TimeInForce.IOC:
            raise ax.InvalidOrder("Kalshi accepts reduce_only only on IOC orders", venue="kalshi")
        reduce_only = explicit or (
            asked is None
            and request.side is Side.SELL
            and request.time_in_force is TimeInForce.IOC
            and await self._holds(request.market, request.outcome)
        )
        client_order_id = mapping.identity(request, self.config.client_order_id_namespace)
        body: dict[str, Any] = {
            "ticker": request.market,
            "side": book.side,
            "count": format_count(request.quantity),
            "price": format_price(book.price),
            "time_in_force": mapping.TIME_IN_FORCE[request.time_in_force],
            "self_trade_prevention_type": stp,
            "client_order_id": client_order_id,
        }
        if request.post_only:
            body["post_only"] = True
        if reduce_only:
            body["reduce_only"] = True
        if request.expires_at is not None:
            body["expiration_time"] = _expiry_seconds(request.expires_at)
        group = tags.get("order_group_id") or self.config.order_group_id
        if group:
            body["order_group_id"] = str(group)
        if self.config.cancel_order_on_pause or tags.get("cancel_order_on_pause"):
            body["cancel_order_on_pause"] = True
        if self.config.subaccount is not None:
            body["subaccount"] = self.config.subaccount
        await self._check_trading_active(info.exchange_index)
        self._intents[client_order_id] = request
        return PreparedOrder(request=request, identity=client_order_id, payload=body)

    async def _holds(self, market: str, outcome: Outcome) -> bool:
        """Whether the account holds contracts of ``outcome`` in ``market`` (a sell of them
        closes a position, so it goes out ``reduce_only`` and can never open the other side)."""
        for position in await self.fetch_positions(ticker=market):
            if position.market == market and position.outcome is outcome:
                return position.quantity > 0
        return False

    async def _check_trading_active(self, shard: int | None = None) -> None:
        """Refuse before sending while Kalshi reports trading paused (maintenance, halts) on
        the market's exchange shard: the top-level fields describe shard 0 only."""
        now = time.monotonic()
        if self._status is None or now - self._status[0] > STATUS_CACHE_SECONDS:
            self._status = (now, await self.exchange_status())
        status = self._status[1]
        for entry in status.get("exchange_index_statuses") or ():
            if isinstance(entry, Mapping) and entry.get("exchange_index") == (shard or 0):
                status = {**status, **entry}
        if status.get("trading_active") is not True or status.get("exchange_active") is False:
            resume = status.get("exchange_estimated_resume_time")
            raise ax.MarketClosed(
                "Kalshi reports trading is not active"
                + (f" (estimated resume {resume})" if resume else "")
                + "; nothing was sent",
                venue="kalshi",
            )

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
        answered_for = answer.get("client_order_id") if isinstance(answer, Mapping) else None
        if answered_for is not None and answered_for != order.identity:
            # an answer about another order (a proxy's cache, a mixed-up connection) says
            # nothing about this one: it may or may not exist until looked up
            raise ax.AmbiguousSubmission(
                f"Kalshi answered create order for {order.identity} with another order's "
                "client_order_id; the order is looked up by its own identity",
                venue="kalshi",
            )
        try:
            state = self._state_from_entry(order.request, order.identity, answer)
        except _RECORD_ERRORS:
            # a success status with an answer that cannot be read: the order may exist
            raise ax.AmbiguousSubmission(
                "Kalshi accepted create order with an answer arbexec cannot read; the order "
                "may or may not exist until looked up by client_order_id",
                venue="kalshi",
            ) from None
        self._routes[state.venue_order_id] = (order.request.market, await self._shard(order))
        return state

    async def _shard(self, order: PreparedOrder) -> int | None:
        cached = self._markets.get(order.request.market)
        return cached[1].exchange_index if cached else None

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
        the order). Orders past the venue's historical cutoff are not searched. An order
        found under the identity whose terms differ from it raises ``OrderMismatch``."""
        request = self._intents.get(identity)
        ticker = request.market if request else None
        queries: list[dict[str, Any]] = [
            {"status": "resting", "ticker": ticker},
            {"ticker": ticker},
        ]
        for query in queries:
            params = {**self._account(), **query, "limit": PAGE_LIMIT}
            async for page in self._pages(
                "/portfolio/orders", "orders", params, operation="look up order"
            ):
                for raw in page:
                    if raw.get("client_order_id") == identity:
                        self._check_terms(identity, raw)
                        return await self._with_fills(raw)
        return None

    def _check_terms(self, identity: str, raw: Mapping[str, Any]) -> None:
        order_id = str(raw.get("order_id"))
        if order_id in self._amended:
            return
        expected = mapping.terms_of(identity)
        found = self._parsed("look up order", mapping.record_terms, raw)
        if expected is not None and expected != found:
            raise OrderMismatch(
                f"Kalshi holds order {order_id} under {identity}, but its market, side, "
                f"price or size ({raw.get('ticker')} {raw.get('book_side')} "
                f"{raw.get('initial_count_fp')} @ {raw.get('yes_price_dollars')}) differ "
                "from the request: another client's order, not this request's",
                venue="kalshi",
            )

    async def fetch_order(self, venue_order_id: str) -> OrderState:
        payload = await self.http.get(
            f"/portfolio/orders/{venue_order_id}", cost=GET_ORDER_COST, operation="fetch order"
        )
        raw = payload.get("order")
        if not isinstance(raw, Mapping):
            raise UnreadableAnswer(
                f"Kalshi answered fetch order {venue_order_id} without an order record",
                venue="kalshi",
            )
        return await self._with_fills(raw)

    async def _with_fills(self, raw: Mapping[str, Any]) -> OrderState:
        filled = self._parsed("read order", field_decimal, raw, "fill_count_fp", ZERO)
        fills: Sequence[Fill] = ()
        if filled > 0:
            frame = mapping.frame_of(raw.get("client_order_id"), str(raw.get("book_side")))
            venue_fills = await self.fetch_fills(order_id=str(raw["order_id"]), outcome=frame)
            fills = [vf.fill for vf in venue_fills]
        return self._remember(self._parsed("read order", mapping.parse_order, raw, fills), raw)

    def _remember(self, state: OrderState, raw: Mapping[str, Any]) -> OrderState:
        shard = raw.get("exchange_index")
        shard = shard if isinstance(shard, int) and not isinstance(shard, bool) else None
        self._routes[state.venue_order_id] = (state.market, shard)
        return state

    async def _route(self, venue_order_id: str) -> dict[str, Any]:
        """``market_ticker`` and ``exchange_index`` of an order: without them Kalshi routes
        a cancel or decrease to shard 0, where an order on another shard is unknown."""
        if venue_order_id not in self._routes:
            await self.fetch_order(venue_order_id)
        ticker, shard = self._routes[venue_order_id]
        route: dict[str, Any] = {"market_ticker": ticker}
        if shard is not None:
            route["exchange_index"] = shard
        return route

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
        max_pages: int | None = None,
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
        return [self._remember(self._parsed("list orders", mapping.parse_order, raw), raw)
                for raw in raws]

    async def _collect_raw(
        self,
        path: str,
        key: str,
        query: Mapping[str, Any],
        *,
        max_pages: int | None = None,
        auth: bool = True,
        cost: float = 10,
    ) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        async for page in self._pages(
            path, key, query, max_pages=max_pages, auth=auth, cost=cost
        ):
            items.extend(page)
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
            out.append(self._parsed("fills", _venue_fill, raw, outcome or Outcome.YES))
        return out

    async def cancel_order(self, venue_order_id: str) -> OrderState:
        """Cancel, then read until the venue's record agrees (reads can lag a cancel). A
        cancel the venue's own record contradicts is never reported as CANCELLED."""
        route = await self._route(venue_order_id)
        try:
            await self.http.request(
                "DELETE",
                f"{ORDERS}/{venue_order_id}",
                params={**self._account(), **route},
                cost=CANCEL_COST,
                operation="cancel order",
            )
        except ax.OrderNotFound:
            # not live to the venue's cancel; its order record decides what the order is
            log.info("kalshi: cancel of %s answered 404; reading its state", venue_order_id)
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
        log.warning(
            "kalshi: %s still shows %s after the cancel; it is treated as live",
            venue_order_id,
            state.status.value,
        )
        return evolve(
            state,
            reason=(
                f"cancel not confirmed: Kalshi's order record still shows it {state.status.value} "
                f"after {CANCEL_CONFIRM_READS + 1} reads; it may rest and fill"
            ),
        )

    async def cancel_orders(self, venue_order_ids: Iterable[str]) -> list[BatchItem]:
        """Batch cancel (``DELETE /portfolio/events/orders/batched``), each entry routed
        to its market, as many per call as the write budget holds. Answers are matched to
        orders by order id, never by position (each result's ``identity`` is the order id
        asked); an order without an entry gets an error saying so."""
        ids = list(venue_order_ids)
        results: list[BatchItem] = []
        size = batch_size(self.http.write_bucket, CANCEL_COST)
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            entries = [
                {"order_id": oid, **self._account(), **await self._route(oid)} for oid in chunk
            ]
            answer = await self.http.request(
                "DELETE",
                f"{ORDERS}/batched",
                json={"orders": entries},
                cost=CANCEL_COST * len(chunk),
                operation="batch cancel",
            )
            matched = match_by_identity(
                chunk, self._records(answer, "orders", "batch cancel"),
                order_key=lambda oid: oid, answer_key=_order_id,
            )
            for order_id, item in matched.pairs:
                if item is None:
                    results.append(BatchItem(identity=order_id, error=ax.ExchangeError(
                        f"Kalshi's batch cancel answer has no entry for order {order_id}; "
                        "whether it was cancelled is not known until it is read",
                        venue="kalshi")))
                else:
                    results.append(
                        evolve(self._batch_item(item, "batch cancel"), identity=order_id))
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
            secrets = self._secrets()
            if isinstance(error, Mapping):
                status = error.get("status")
                venue_error = VenueError(
                    status if isinstance(status, int) else 400,
                    scrub(_text_or_none(error.get("code")), secrets),
                    scrub(_text_or_none(error.get("message")), secrets),
                    scrub(_text_or_none(error.get("details")), secrets),
                )
            else:
                venue_error = VenueError(400, None, scrub(str(error), secrets), None)
            return BatchItem(
                identity=identity, error=to_exception(venue_error, operation=operation)
            )
        return BatchItem(identity=identity)

    async def create_orders(self, orders: Sequence[PreparedOrder]) -> list[BatchItem]:
        """Batch create (``POST /portfolio/events/orders/batched``), chunked so each call
        fits the tier's write bucket. Answers are matched to orders by client_order_id,
        never by position; an order without a readable answer is ``AmbiguousSubmission``
        (look it up). A transport failure of the whole call raises ``AmbiguousSubmission``."""
        results: list[BatchItem] = []
        size = batch_size(self.http.write_bucket, CREATE_COST)
        for start in range(0, len(orders), size):
            chunk = orders[start : start + size]
            answer = await self.http.request(
                "POST",
                f"{ORDERS}/batched",
                json={"orders": [o.payload for o in chunk]},
                cost=CREATE_COST * len(chunk),
                operation="batch create",
                order_post=True,
                order_request=True,
            )
            entries = answer.get("orders")
            matched = match_by_identity(
                chunk, entries if isinstance(entries, list) else (),
                order_key=lambda o: o.identity, answer_key=_client_order_id,
            )
            for prepared, item in matched.pairs:
                results.append(await self._batch_entry(prepared, item))
        return results

    async def _batch_entry(
        self, prepared: PreparedOrder, item: Mapping[str, Any] | None
    ) -> BatchItem:
        ambiguous = ax.AmbiguousSubmission(
            f"Kalshi's batch answer has no readable entry for {prepared.identity}; the order "
            "may or may not exist until looked up by client_order_id",
            venue="kalshi",
        )
        if item is None:
            return BatchItem(identity=prepared.identity, error=ambiguous)
        if item.get("error"):
            failed = self._batch_item(item, "batch create")
            if isinstance(failed.error, ax.DuplicateOrder):
                # a duplicate is on the venue already (an earlier send landed): adopt it
                found = await self.lookup_order(prepared.identity)
                if found is not None:
                    return BatchItem(identity=prepared.identity, state=found)
                return BatchItem(identity=prepared.identity, error=ambiguous)
            return evolve(failed, identity=prepared.identity)
        try:
            state = self._state_from_entry(prepared.request, prepared.identity, item)
        except _RECORD_ERRORS:
            return BatchItem(identity=prepared.identity, error=ambiguous)
        self._routes[state.venue_order_id] = (prepared.request.market, await self._shard(prepared))
        return BatchItem(identity=prepared.identity, state=state)

    async def amend_order(
        self,
        venue_order_id: str,
        *,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
        expires_at: Any = None,
        clear_expiry: bool = False,
    ) -> OrderState:
        """Change price, total size (filled + remaining) and/or expiry of a resting order,
        in the order's own outcome terms; re-checked against the market grid first. The
        size defaults to the live one (after any decrease), never the original;
        ``clear_expiry`` makes it good-till-cancelled."""
        if clear_expiry and expires_at is not None:
            raise ValueError("give expires_at or clear_expiry, not both")
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
        if clear_expiry:
            body["expiration_time"] = 0
        elif expires_at is not None:
            expiry = optional_datetime(expires_at)
            assert expiry is not None
            body["expiration_time"] = _expiry_seconds(expiry)
        route = await self._route(venue_order_id)
        if "exchange_index" in route:
            body["exchange_index"] = route["exchange_index"]
        await self._check_trading_active(info.exchange_index)
        await self.http.request(
            "POST",
            f"{ORDERS}/{venue_order_id}/amend",
            params=self._account(),
            json=body,
            operation="amend order",
            order_request=True,
        )
        self._amended.add(venue_order_id)
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
        body: dict[str, Any] = (
            {"reduce_by": format_count(Decimal(reduce_by))}
            if reduce_by is not None
            else {"reduce_to": format_count(Decimal(reduce_to))}  # type: ignore[arg-type]
        )
        body.update(await self._route(venue_order_id))
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
        cash = self._parsed("balance", _cash, payload)
        return Balance(venue=mapping.VENUE, total=cash, available=cash, currency="USD")

    async def fetch_positions(self, *, ticker: str | None = None) -> list[Position]:
        query = {
            **self._account(),
            "count_filter": "position",
            "limit": PAGE_LIMIT,
            "ticker": ticker,
        }
        out = []
        for raw in await self._collect_raw("/portfolio/positions", "market_positions", query):
            position = self._parsed("positions", _position, raw)
            if position is not None:
                out.append(position)
        return out

    async def fetch_settlements(self, **filters: Any) -> list[Settlement]:
        query = {**self._account(), **filters, "limit": filters.get("limit", PAGE_LIMIT)}
        out = []
        for raw in await self._collect_raw("/portfolio/settlements", "settlements", query):
            out.append(self._parsed("settlements", _settlement, raw))
        return out

    # ------------------------------------------------------------------ streaming

    def watch_orders(self) -> AsyncIterator[OrderState] | None:
        """Order updates from the authenticated websocket, REST-refetched after a reconnect
        or a sequence gap; falls back to polling when the socket cannot be held."""
        if self._signer is None:
            return None
        from arbexec_kalshi.stream import OrderStream

        return OrderStream(self, connect=self._ws_connect).updates()


def _position(raw: Mapping[str, Any]) -> Position | None:
    position = field_decimal(raw, "position_fp", ZERO)
    if position == 0:
        return None
    return Position(
        venue=mapping.VENUE,
        market=str(raw["ticker"]),
        outcome=Outcome.YES if position > 0 else Outcome.NO,
        quantity=abs(position),
        realised_pnl=field_decimal(raw, "realized_pnl_dollars", ZERO),
    )


def _settlement(raw: Mapping[str, Any]) -> Settlement:
    revenue = raw.get("revenue")
    return Settlement(
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


def _expiry_seconds(expires_at: datetime) -> int:
    """An expiry as the whole Unix seconds Kalshi takes: a fraction or a past time is
    refused, never truncated."""
    seconds = Decimal(str(expires_at.timestamp()))
    if seconds != seconds.to_integral_value():
        raise ax.InvalidOrder(
            f"Kalshi expiries are whole seconds; {expires_at.isoformat()} has a fraction",
            venue="kalshi",
        )
    if expires_at <= now_utc():
        raise ax.InvalidOrder(f"expiry {expires_at.isoformat()} is in the past", venue="kalshi")
    return int(seconds)


def _proxy_secrets(proxy: str | None) -> tuple[str, ...]:
    """A proxy URL's user and password, never to be shown from an answer."""
    if not proxy:
        return ()
    parts = urlsplit(proxy)
    return tuple(v for v in (parts.password, parts.username) if v)


def _cash(payload: Mapping[str, Any]) -> Decimal:
    if payload.get("balance_dollars") not in (None, ""):
        return Decimal(field_decimal(payload, "balance_dollars"))
    return cents_to_dollars(payload.get("balance"), "balance")


def _venue_fill(raw: Mapping[str, Any], outcome: Outcome) -> VenueFill:
    yes_price = field_decimal(raw, "yes_price_dollars")
    if yes_price is None:
        yes_price = ONE - field_decimal(raw, "no_price_dollars")
    return VenueFill(
        order_id=str(raw["order_id"]),
        market=str(raw.get("ticker") or raw.get("market_ticker")),
        book_side=str(raw.get("book_side") or ""),
        yes_price=yes_price,
        fill=mapping.parse_fill(raw, outcome),
    )


def _order_id(entry: Any) -> str | None:
    """The order a batch-cancel entry answers for (None: not attributable)."""
    if isinstance(entry, Mapping) and isinstance(entry.get("order_id"), str):
        return str(entry["order_id"])
    return None


def _client_order_id(entry: Any) -> str | None:
    """The identity a batch-create entry answers for (None: not attributable)."""
    if isinstance(entry, Mapping) and isinstance(entry.get("client_order_id"), str):
        return str(entry["client_order_id"])
    return None


def _text_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
