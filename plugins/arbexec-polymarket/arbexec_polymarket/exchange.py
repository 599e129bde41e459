"""The Polymarket venue: arbexec's Exchange contract over the CLOB V2 REST API.

An order is signed in ``prepare_order`` (its EIP-712 hash is the venue order id and the
request's identity, known before anything is sent) and posted once in ``create_order``.
The salt comes from the request's idempotency key and the signed timestamp from the
request's creation time, so preparing the same request again yields the same hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
from attrs import field, frozen

from arbexec import errors
from arbexec.exchange import Capabilities, ExchangeSettings, MarketRules, PreparedOrder
from arbexec.model import (
    ZERO,
    Balance,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderState,
    OrderStatus,
    Outcome,
    Position,
    Side,
    TimeInForce,
)
from arbexec_polymarket import parsing
from arbexec_polymarket.amounts import request_amounts
from arbexec_polymarket.auth import L2Signer
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.constants import END_CURSOR, FIRST_CURSOR
from arbexec_polymarket.credentials import Credentials, load_credentials
from arbexec_polymarket.http import ClobHttp, compact
from arbexec_polymarket.markets import MarketDirectory, MarketInfo
from arbexec_polymarket.orders import (
    OrderFields,
    OrderSigner,
    OrderType,
    SignedOrder,
    batch_body,
    post_body,
    salt_from_key,
)
from arbexec_polymarket.venue_errors import VENUE, classify

#: The venue keeps an order's GTD expiry at least this far ahead (its security threshold).
GTD_MIN_LEAD_SECONDS = 60
#: Batch posts are capped by the venue.
MAX_BATCH = 15
_ACCEPTED = frozenset({"live", "matched", "delayed"})
_FEE_STEP = Decimal("0.00001")

_TIF_TO_ORDER_TYPE = {
    TimeInForce.GTC: OrderType.GTC,
    TimeInForce.GTD: OrderType.GTD,
    TimeInForce.IOC: OrderType.FAK,
    TimeInForce.FOK: OrderType.FOK,
}


@frozen(kw_only=True)
class PolymarketOrder:
    """What ``prepare_order`` fixed: the signed order and the exact bytes to post."""

    signed: SignedOrder = field(repr=False)
    body: bytes = field(repr=False)
    order_type: OrderType
    token_id: str
    market: str
    outcome: Outcome


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class PolymarketExchange:
    """One Polymarket account on one chain."""

    fee_rounding = _FEE_STEP  # each fill's fee is rounded to $0.00001

    capabilities = Capabilities(
        time_in_force=frozenset(TimeInForce),
        post_only=True,
        batch_orders=True,
        cancel_all=True,
        order_stream=True,
        amend=False,
        market_orders=True,
    )

    def __init__(
        self,
        config: PolymarketConfig,
        credentials: Credentials,
        *,
        name: str = VENUE,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        order_timestamp: Callable[[OrderRequest], int] | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        ws_connect: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.credentials = credentials
        self._clock = clock
        self._order_timestamp = order_timestamp or (lambda request: _ms(request.requested_at))
        l2 = None
        if credentials.api is not None and credentials.signer is not None:
            l2 = L2Signer(credentials.signer.address, credentials.api)
        self.http = ClobHttp(config, l2=l2, client=client, clock=clock, sleep=sleep)
        self.markets = MarketDirectory(self.http)
        self._order_signer: OrderSigner | None = None
        self._known: dict[str, tuple[str, Outcome]] = {}  # order hash -> (market, outcome)
        self._sleep = sleep
        self._ws_connect = ws_connect
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._heartbeat_id = ""

    @classmethod
    def from_settings(cls, settings: ExchangeSettings, **kwargs: Any) -> PolymarketExchange:
        config = PolymarketConfig.from_options(settings.options)
        credentials = load_credentials(settings.options)
        return cls(config, credentials, name=settings.name, **kwargs)

    def __repr__(self) -> str:
        return f"PolymarketExchange(name={self.name!r}, address={self.credentials.address})"

    # ------------------------------------------------------------------ helpers

    @property
    def order_signer(self) -> OrderSigner:
        if self._order_signer is None:
            try:
                self._order_signer = OrderSigner(
                    self.credentials.require_signer(),
                    chain_id=self.config.chain_id,
                    signature_type=self.credentials.signature_type,
                    funder=self.credentials.funder,
                )
            except ValueError as exc:
                raise errors.ConfigError(str(exc), key="funder") from None
        return self._order_signer

    def _owner(self) -> str:
        return self.credentials.require_api().api_key

    def _remember(self, order_id: str, market: str, outcome: Outcome) -> None:
        self._known[order_id.lower()] = (market, outcome)

    def _where(self, raw: Mapping[str, Any]) -> tuple[str, Outcome]:
        """(market, outcome) of a venue order: as requested if it is ours, else derived."""
        order_id = str(raw.get("id") or "").lower()
        if order_id in self._known:
            return self._known[order_id]
        token = str(raw.get("asset_id") or "")
        info = self.markets.by_token(token)
        if info is not None:
            outcome = info.outcome_of(token) or Outcome.YES
            return info.market, outcome
        name = str(raw.get("outcome") or "").strip().lower()
        outcome = Outcome.NO if name in ("no", "down") else Outcome.YES
        return str(raw.get("market") or token), outcome

    # ------------------------------------------------------------------ markets

    async def market_info(self, market: str) -> MarketInfo:
        return await self.markets.info(market)

    async def market_rules(self, market: str) -> MarketRules:
        info = await self.markets.info(market)
        return MarketRules(
            market=market,
            tick_size=info.tick_size,
            quantity_step=Decimal("0.01"),
            min_quantity=max(info.min_size, Decimal("0.01")),
            event=info.condition_id,
        )

    async def fetch_order_book(self, market: str) -> OrderBook:
        """The YES book of ``market`` (for a token id: that token's book)."""
        info = await self.markets.info(market)
        raw = await self.http.get("/book", {"token_id": info.yes_token})
        book = parsing.order_book(raw or {}, market=market)
        if book.tick_size is not None:
            self.markets.observe_tick(info.yes_token, book.tick_size)
        return book

    async def midpoint(self, market: str, outcome: Outcome = Outcome.YES) -> Decimal | None:
        info = await self.markets.info(market)
        raw = await self.http.get("/midpoint", {"token_id": info.token_for(outcome)})
        value = raw.get("mid") if isinstance(raw, dict) else None
        return Decimal(str(value)) if value not in (None, "") else None

    # ------------------------------------------------------------------ orders

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        info = await self.markets.info(request.market)
        if info.closed or not info.accepting_orders:
            raise errors.MarketClosed(
                f"market {request.market} is not accepting orders", venue=VENUE
            )
        rules = await self.market_rules(request.market)
        rules.check(request)
        order_type = _TIF_TO_ORDER_TYPE[request.time_in_force]
        maker_amount, taker_amount = request_amounts(
            request.side,
            request.limit_price,
            request.quantity,
            info.tick_size,
            market=order_type.is_market,
        )
        expiration = 0
        if request.expires_at is not None:
            expiration = int(request.expires_at.timestamp())
            if expiration < self._clock() + GTD_MIN_LEAD_SECONDS:
                raise errors.InvalidOrder(
                    f"GTD expiry {request.expires_at.isoformat()} is less than "
                    f"{GTD_MIN_LEAD_SECONDS} s ahead; Polymarket refuses such orders",
                    venue=VENUE,
                )
        token = info.token_for(request.outcome)
        fields = OrderFields(
            token_id=int(token),
            side=request.side,
            maker_amount=maker_amount,
            taker_amount=taker_amount,
            salt=salt_from_key(request.idempotency_key),
            timestamp_ms=self._order_timestamp(request),
            expiration=expiration,
            builder=self.config.builder_code,
        )
        try:
            signed = self.order_signer.sign(fields, info.exchange)
            owner = self._owner()
        except errors.ConfigError as exc:
            raise errors.AuthenticationError(
                f"cannot sign for Polymarket: {exc}", venue=VENUE
            ) from None
        body = post_body(signed, owner, order_type, post_only=request.post_only)
        payload = PolymarketOrder(
            signed=signed,
            body=body.encode(),
            order_type=order_type,
            token_id=token,
            market=request.market,
            outcome=request.outcome,
        )
        return PreparedOrder(
            request=request,
            identity=signed.order_hash,
            venue_order_id=signed.order_hash,
            payload=payload,
        )

    def _payload(self, prepared: PreparedOrder) -> PolymarketOrder:
        payload = prepared.payload
        if not isinstance(payload, PolymarketOrder):
            raise errors.InvalidOrder(
                "this order was not prepared by the Polymarket venue", venue=VENUE
            )
        return payload

    async def create_order(self, order: PreparedOrder) -> OrderState:
        payload = self._payload(order)
        self._remember(order.identity, payload.market, payload.outcome)
        try:
            answer = await self.http.post_order_body("/order", payload.body)
        except errors.OffGridOrder:
            self.markets.invalidate_tick(payload.market)
            raise
        state = await self._placement_state(order, answer)
        self._maybe_start_heartbeats()
        return state

    async def create_orders(
        self, orders: list[PreparedOrder]
    ) -> list[OrderState | errors.ExchangeError]:
        """Post up to 15 prepared orders in one request; one result per order, in order."""
        if len(orders) > MAX_BATCH:
            raise errors.InvalidOrder(
                f"a batch holds at most {MAX_BATCH} orders; split {len(orders)} orders",
                venue=VENUE,
            )
        payloads = [self._payload(o) for o in orders]
        for order, payload in zip(orders, payloads, strict=True):
            self._remember(order.identity, payload.market, payload.outcome)
        body = batch_body([p.body.decode() for p in payloads]).encode()
        answers = await self.http.post_order_body("/orders", body)
        if not isinstance(answers, list) or len(answers) != len(orders):
            raise errors.AmbiguousSubmission(
                "Polymarket answered a batch post with an unexpected shape", venue=VENUE
            )
        results: list[OrderState | errors.ExchangeError] = []
        for order, answer in zip(orders, answers, strict=True):
            try:
                results.append(await self._placement_state(order, answer))
            except errors.ExchangeError as exc:
                results.append(exc)
        self._maybe_start_heartbeats()
        return results

    async def _placement_state(self, order: PreparedOrder, answer: Any) -> OrderState:
        payload = self._payload(order)
        if not isinstance(answer, dict):
            raise errors.AmbiguousSubmission(
                f"Polymarket answered an order post with {answer!r}", venue=VENUE
            )
        status = str(answer.get("status") or "").lower()
        message = str(answer.get("errorMsg") or answer.get("error") or "")
        if not answer.get("success", False) or message or status not in _ACCEPTED:
            if status == "unmatched" and not message:
                message = "unmatched: marketable order found no match after its delay"
            raise classify(message or f"order not accepted (status {status or 'none'})")
        order_id = str(answer.get("orderID") or order.identity)
        request = order.request
        state = OrderState(
            venue=VENUE,
            venue_order_id=order_id,
            market=payload.market,
            outcome=payload.outcome,
            side=request.side,
            status=OrderStatus.OPEN,
            quantity=request.quantity,
            limit_price=request.limit_price,
            reason=status,
        )
        if status == "matched" or answer.get("tradeIDs"):
            try:
                return await self.fetch_order(order_id)
            except errors.ExchangeError:
                return state  # accepted for sure; the tracker polls for the fills
        return state

    async def _trades_for(self, raw: Mapping[str, Any]) -> list[dict[str, Any]]:
        trade_ids = [str(t) for t in raw.get("associate_trades") or () if t]
        if not trade_ids:
            return []
        pages = await asyncio.gather(
            *(self.http.get("/data/trades", {"id": tid}, auth=True) for tid in trade_ids)
        )
        trades: list[dict[str, Any]] = []
        for page in pages:
            trades.extend(_items(page))
        return trades

    async def _order_raw(self, order_id: str) -> dict[str, Any] | None:
        try:
            raw = await self.http.get(f"/data/order/{order_id}", auth=True)
        except errors.OrderNotFound:
            return None
        except (errors.AuthenticationError, errors.NetworkError):
            raise
        except errors.ExchangeError as exc:
            if exc.http_status in (400, 404):
                return None
            raise
        if not isinstance(raw, dict) or not raw.get("id"):
            return None
        return raw

    async def _state(self, raw: dict[str, Any]) -> OrderState:
        market, outcome = self._where(raw)
        fills = parsing.fills_for(str(raw["id"]), await self._trades_for(raw),
                                  fee=self._fee_for(market))
        return parsing.order_state(raw, market=market, outcome=outcome, fills=fills)

    async def fetch_order(self, venue_order_id: str) -> OrderState:
        raw = await self._order_raw(venue_order_id)
        if raw is None:
            raise errors.OrderNotFound(
                f"Polymarket does not know order {venue_order_id}", venue=VENUE
            )
        return await self._state(raw)

    async def lookup_order(self, identity: str) -> OrderState | None:
        """The order whose hash is ``identity``, or None if the venue never received it."""
        raw = await self._order_raw(identity)
        return None if raw is None else await self._state(raw)

    async def _paged(
        self, path: str, params: dict[str, Any], *, host: str | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = FIRST_CURSOR
        for _ in range(1000):
            page = await self.http.get(
                path, {**params, "next_cursor": cursor}, auth=True, host=host
            )
            items.extend(_items(page))
            following = page.get("next_cursor") if isinstance(page, dict) else None
            if not following or following == END_CURSOR:
                break
            cursor = str(following)
        return items

    async def fetch_open_orders(self, market: str | None = None) -> list[OrderState]:
        params: dict[str, Any] = {}
        if market is not None:
            params["market"] = (await self.markets.info(market)).condition_id
        raws = await self._paged("/data/orders", params)
        states = [await self._state(raw) for raw in raws]
        return [s for s in states if s.status.is_live]

    async def fetch_trades(self, market: str | None = None) -> list[dict[str, Any]]:
        """This account's trades (venue JSON), all pages."""
        params: dict[str, Any] = {}
        if market is not None:
            params["market"] = (await self.markets.info(market)).condition_id
        return await self._paged("/data/trades", params)

    # ------------------------------------------------------------------ cancels

    async def _cancel(self, path: str, body: Any) -> dict[str, Any]:
        raw = body if body is None else compact(body)
        answer = await self.http.send_once("DELETE", path, raw, refusal=errors.InvalidOrder)
        return answer if isinstance(answer, dict) else {}

    async def cancel_order(self, venue_order_id: str) -> OrderState:
        answer = await self._cancel("/order", {"orderID": venue_order_id})
        raw = await self._order_raw(venue_order_id)
        if raw is None:
            reason = (answer.get("not_canceled") or {}).get(venue_order_id, "unknown order")
            raise errors.OrderNotFound(
                f"Polymarket does not know order {venue_order_id}: {reason}",
                venue=VENUE,
                venue_message=str(reason),
            )
        return await self._state(raw)

    async def cancel_orders(self, venue_order_ids: list[str]) -> dict[str, Any]:
        """Cancel several orders at once; the venue's ``canceled``/``not_canceled`` answer."""
        return await self._cancel("/orders", list(venue_order_ids))

    async def cancel_all_orders(self, market: str | None = None) -> int:
        if market is None:
            answer = await self._cancel("/cancel-all", None)
        else:
            info = await self.markets.info(market)
            answer = await self._cancel("/cancel-market-orders", {"market": info.condition_id})
        return len(answer.get("canceled") or ())

    # ------------------------------------------------------------------ account

    def _balance_params(self, **extra: Any) -> dict[str, Any]:
        return {**extra, "signature_type": int(self.credentials.signature_type)}

    async def fetch_balance(self) -> Balance:
        raw = await self.http.get(
            "/balance-allowance", self._balance_params(asset_type="COLLATERAL"), auth=True
        )
        open_orders = await self.fetch_open_orders()
        reserved = sum(
            (o.remaining * o.limit_price for o in open_orders if o.side is Side.BUY), ZERO
        )
        return parsing.balance(raw or {}, reserved)

    async def balance_allowance(self, token_id: str | None = None) -> dict[str, Any]:
        """The venue's balance-allowance answer (collateral, or a conditional token)."""
        params = (
            self._balance_params(asset_type="CONDITIONAL", token_id=token_id)
            if token_id
            else self._balance_params(asset_type="COLLATERAL")
        )
        raw = await self.http.get("/balance-allowance", params, auth=True)
        return raw if isinstance(raw, dict) else {}

    async def update_balance_allowance(self, token_id: str | None = None) -> None:
        """Ask the venue to refresh its cached on-chain view (after a deposit or approval)."""
        params = (
            self._balance_params(asset_type="CONDITIONAL", token_id=token_id)
            if token_id
            else self._balance_params(asset_type="COLLATERAL")
        )
        await self.http.get("/balance-allowance/update", params, auth=True)

    async def fetch_positions(self) -> list[Position]:
        user = self.credentials.funder or self.credentials.address
        if user is None:
            raise errors.ConfigError("positions need the wallet address (set the private key)")
        raw = await self.http.get(
            "/positions", {"user": user, "sizeThreshold": "0"}, host=self.config.data_host
        )
        positions = []
        for item in _items(raw):
            size = parsing.dec(item.get("size"))
            if size == 0:
                continue
            index = int(item.get("outcomeIndex") or 0)
            average = parsing.dec(item.get("avgPrice"), Decimal(-1))
            positions.append(
                Position(
                    venue=VENUE,
                    market=str(item.get("conditionId") or item.get("asset") or ""),
                    outcome=Outcome.YES if index == 0 else Outcome.NO,
                    quantity=size,
                    average_price=average if average >= 0 else None,
                    realised_pnl=parsing.dec(item.get("realizedPnl")),
                )
            )
        return positions

    def _fee_for(self, market: str) -> parsing.FeeOf:
        """The fee of a fill on ``market``, for the fills parsed from trades."""
        return lambda price, quantity, liquidity: self.fee(market, price, quantity, liquidity)

    def fee(self, market: str, price: Decimal, quantity: Decimal, liquidity: Liquidity) -> Decimal:
        """Taker fee shares x rate x (p(1-p))^e from the market's schedule; makers pay 0.

        Needs the market's metadata cached (any earlier call on the market); 0 otherwise.
        """
        info = self.markets.cached(market)
        if info is None or info.fees is None or liquidity is Liquidity.MAKER:
            return ZERO
        base = price * (1 - price)
        exponent = info.fees.exponent
        factor = base**exponent  # Decimal powers, fractional exponents included
        fee = quantity * info.fees.rate * factor
        return max(fee.quantize(_FEE_STEP, rounding=ROUND_HALF_EVEN), ZERO)

    # ------------------------------------------------------------------ heartbeats

    def _maybe_start_heartbeats(self) -> None:
        if self.config.heartbeats and self._heartbeat_task is None:
            self._heartbeat_task = asyncio.create_task(self._heartbeat_loop())

    async def heartbeat(self) -> str:
        """Send one heartbeat; adopts the id the venue expects when it says ours is stale."""
        body = compact({"heartbeat_id": self._heartbeat_id})
        try:
            answer = await self.http.send_once("POST", "/v1/heartbeats", body)
        except errors.ExchangeError as exc:
            expected = _heartbeat_id_from(exc)
            if expected is None:
                raise
            self._heartbeat_id = expected
            answer = await self.http.send_once(
                "POST", "/v1/heartbeats", compact({"heartbeat_id": expected})
            )
        if isinstance(answer, dict) and answer.get("heartbeat_id"):
            self._heartbeat_id = str(answer["heartbeat_id"])
        return self._heartbeat_id

    async def _heartbeat_loop(self) -> None:
        while True:
            with contextlib.suppress(errors.ExchangeError):
                await self.heartbeat()
            await self._sleep(5.0)

    # ------------------------------------------------------------------ stream

    def watch_orders(self) -> AsyncIterator[OrderState] | None:
        """Order updates from the user websocket (REST refetch after each reconnect)."""
        if not self.config.stream or self.credentials.api is None:
            return None
        from arbexec_polymarket.stream import UserStream

        return UserStream(self, connect=self._ws_connect).updates()

    async def aclose(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._heartbeat_task
            self._heartbeat_task = None
        await self.http.aclose()


def _items(page: Any) -> list[dict[str, Any]]:
    if isinstance(page, list):
        return [p for p in page if isinstance(p, dict)]
    if isinstance(page, dict):
        data = page.get("data")
        if isinstance(data, list):
            return [p for p in data if isinstance(p, dict)]
        if page.get("id"):
            return [page]
    return []


def _heartbeat_id_from(exc: errors.ExchangeError) -> str | None:
    detail = getattr(exc, "payload", None)
    if isinstance(detail, dict) and detail.get("heartbeat_id"):
        return str(detail["heartbeat_id"])
    return None


def make_exchange(settings: ExchangeSettings) -> PolymarketExchange:
    """The ``ExchangeSpec`` factory."""
    return PolymarketExchange.from_settings(settings)
