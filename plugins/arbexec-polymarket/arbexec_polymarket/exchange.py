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
from decimal import Decimal
from typing import Any

import httpx
from attrs import field, frozen

from arbexec import api as errors
from arbexec.api import (
    POLYMARKET_FEE_STEP,
    ZERO,
    Balance,
    Capabilities,
    ExchangeSettings,
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
    polymarket_fee,
)
from arbexec_polymarket import parsing
from arbexec_polymarket.amounts import request_amounts
from arbexec_polymarket.auth import L2Signer
from arbexec_polymarket.config import PolymarketConfig
from arbexec_polymarket.constants import END_CURSOR, FIRST_CURSOR
from arbexec_polymarket.credentials import Credentials, load_credentials
from arbexec_polymarket.eip712 import ExchangeKind
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
from arbexec_polymarket.venue_errors import VENUE, AnswerMismatch, classify

#: The venue's GTD security threshold: it treats ``expiration`` as one minute earlier, so an
#: order meant to expire at T is sent with T + 60 s, and it refuses ``expiration`` below
#: now + 60 s (docs.polymarket.com, order types).
GTD_SECURITY_SECONDS = 60
#: A GTD expiry must lie at least this far ahead when the order is prepared, so that it is
#: still ahead when the venue receives it.
GTD_MIN_LIFETIME_SECONDS = 5
#: Batch posts are capped by the venue.
MAX_BATCH = 15
_ACCEPTED = frozenset({"live", "matched", "delayed"})
#: Heartbeats: the venue cancels every open order when none arrives for about 10 s. One is
#: sent every ``HEARTBEAT_INTERVAL`` seconds counted from the start of the previous send,
#: each bounded to ``HEARTBEAT_TIMEOUT``; after a failed one the next goes out after
#: ``HEARTBEAT_RETRY`` seconds. Worst gap between two sends that both arrive: 5 + 2.5 s.
HEARTBEAT_INTERVAL = 5.0
HEARTBEAT_TIMEOUT = 2.5
HEARTBEAT_RETRY = 1.0

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


@frozen(kw_only=True)
class Expected:
    """What a venue order must say to be the one we prepared (the lookup check)."""

    token_id: str
    side: Side
    quantity: Decimal
    price: Decimal


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class PolymarketExchange:
    """One Polymarket account on one chain."""

    fee_rounding = POLYMARKET_FEE_STEP  # each fill's fee is cut to $0.00001

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
        self._expected: dict[str, Expected] = {}  # order hash -> what we signed
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

    def known_secrets(self) -> list[str]:
        """The API key, secret and passphrase, for the engine to scrub from what it
        journals (the wallet key is never sent, so no answer can echo it)."""
        api = self.credentials.api
        return [] if api is None else [api.api_key, api.secret, api.passphrase]

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
        return parsing.dec(value, name="mid") if value not in (None, "") else None

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
        expiration = self._expiration(request, order_type)
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
        self._expected[signed.order_hash.lower()] = Expected(
            token_id=token, side=request.side, quantity=request.quantity,
            price=request.limit_price,
        )
        return PreparedOrder(
            request=request,
            identity=signed.order_hash,
            venue_order_id=signed.order_hash,
            payload=payload,
        )

    def _expiration(self, request: OrderRequest, order_type: OrderType) -> int:
        """The ``expiration`` to send: 0 but for GTD, where it is the expiry + 60 s."""
        if order_type is not OrderType.GTD:
            if request.expires_at is not None:
                raise errors.InvalidOrder(
                    f"only GTD orders take an expiry; this is {order_type.value}", venue=VENUE
                )
            return 0
        if request.expires_at is None:
            raise errors.InvalidOrder("a GTD order needs an expiry", venue=VENUE)
        expires = request.expires_at.timestamp()
        lead = expires - self._clock()
        if lead < GTD_MIN_LIFETIME_SECONDS:
            raise errors.InvalidOrder(
                f"GTD expiry {request.expires_at.isoformat()} is "
                + (f"{-lead:.0f} s in the past" if lead < 0 else f"only {lead:.1f} s ahead")
                + f"; Polymarket needs it at least {GTD_MIN_LIFETIME_SECONDS} s ahead (it is "
                f"sent as expiry + {GTD_SECURITY_SECONDS} s, the venue's security threshold)",
                venue=VENUE,
            )
        return int(expires) + GTD_SECURITY_SECONDS

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
            state = await self._placement_state(order, answer)
        except errors.OffGridOrder:
            self.markets.invalidate_tick(payload.market)
            raise
        except errors.DuplicateOrder as exc:
            state = await self._adopt(order, exc)
        self._maybe_start_heartbeats()
        return state

    async def _adopt(self, order: PreparedOrder, exc: errors.ExchangeError) -> OrderState:
        """The venue says it already has this order (same hash): an earlier send landed.
        Look it up and carry on with it; if it cannot be read back yet, it is unknown."""
        found = await self.lookup_order(order.identity)
        if found is None:
            raise errors.AmbiguousSubmission(
                f"Polymarket reports {order.identity} as a duplicate but the order could not "
                "be read back; resolve it by looking the hash up later",
                venue=VENUE,
                venue_code=exc.venue_code,
                venue_message=exc.venue_message,
                http_status=exc.http_status,
            ) from None
        return found

    async def create_orders(
        self, orders: list[PreparedOrder]
    ) -> list[OrderState | errors.ExchangeError]:
        """Post up to 15 prepared orders in one request; one result per order, in order.

        The venue's answers are matched to the orders by ``orderID`` (the order hash, known
        before sending), never by position. An order with no answer of its own, or whose
        answer cannot be attributed, is ``AmbiguousSubmission``: looked up, never resent."""
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
        if not isinstance(answers, list):
            raise errors.AmbiguousSubmission(
                "Polymarket answered a batch post with an unexpected shape", venue=VENUE
            )
        matched = match_by_identity(
            orders, answers, order_key=lambda o: o.identity, normalise=str.lower,
            answer_key=lambda a: str(a.get("orderID") or "") if isinstance(a, dict) else None,
        )
        unattributed = matched.unattributed
        results: list[OrderState | errors.ExchangeError] = []
        for order, answer in matched.pairs:
            if answer is None:
                results.append(errors.AmbiguousSubmission(
                    f"Polymarket's batch answer has no entry for {order.identity}"
                    + (f" ({unattributed} answer(s) without an order id)" if unattributed
                       else "") + "; resolve it by looking the hash up",
                    venue=VENUE,
                ))
                continue
            try:
                results.append(await self._placement_state(order, answer))
            except errors.DuplicateOrder as exc:
                try:
                    results.append(await self._adopt(order, exc))
                except errors.ExchangeError as adopted:
                    results.append(adopted)
            except errors.ExchangeError as exc:
                if isinstance(exc, errors.OffGridOrder):
                    self.markets.invalidate_tick(self._payload(order).market)
                results.append(exc)
        self._maybe_start_heartbeats()
        return results

    async def _placement_state(self, order: PreparedOrder, answer: Any) -> OrderState:
        """The state of a just-posted order from the venue's answer.

        Only a clear refusal (``success`` false, or an error message, or status
        ``unmatched``) is a refusal. Anything else the adapter cannot read as an acceptance
        of *this* order (no ``success``, no ``orderID``, another order's id, an unknown
        status, not a JSON object) leaves the order's fate open: ``AmbiguousSubmission``,
        resolved by looking the hash up."""
        payload = self._payload(order)
        if not isinstance(answer, dict):
            raise errors.AmbiguousSubmission(
                f"Polymarket answered an order post with {str(answer)[:200]!r}", venue=VENUE
            )
        status = str(answer.get("status") or "").lower()
        message = str(answer.get("errorMsg") or answer.get("error") or "")
        success = answer.get("success")
        if success is False or message or (success is True and status == "unmatched"):
            if status == "unmatched" and not message:
                message = "unmatched: marketable order found no match after its delay"
            raise classify(message or f"order not accepted (status {status or 'none'})")
        order_id = str(answer.get("orderID") or "")
        if success is not True or not order_id or status not in _ACCEPTED:
            raise errors.AmbiguousSubmission(
                "Polymarket answered an order post without a readable acceptance "
                f"(success={success!r}, orderID={order_id or 'none'}, "
                f"status={status or 'none'}); resolve it by looking the hash up",
                venue=VENUE,
            )
        if order_id.lower() != order.identity.lower():
            raise errors.AmbiguousSubmission(
                f"Polymarket acknowledged order {order_id}, not {order.identity}; resolve it "
                "by looking the hash up",
                venue=VENUE,
            )
        request = order.request
        state = OrderState(
            venue=VENUE,
            venue_order_id=order.identity,
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
                return await self.fetch_order(order.identity)
            except errors.ExchangeError:
                return state  # accepted for sure; the tracker polls for the fills
        return state

    async def _trades_of(self, raws: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The trades the orders in ``raws`` took part in, by trade id, in as few calls as
        the venue allows: one ``id=`` read for a single trade, else one (paged) read per
        market, never one call per trade."""
        wanted: dict[str, set[str]] = {}  # market -> trade ids
        for raw in raws:
            ids = {str(t) for t in raw.get("associate_trades") or () if t}
            if ids:
                wanted.setdefault(str(raw.get("market") or ""), set()).update(ids)
        every = set().union(*wanted.values()) if wanted else set()
        if not every:
            return {}
        if len(every) == 1:
            pages = [await self.http.get("/data/trades", {"id": next(iter(every))}, auth=True)]
            items = [item for page in pages for item in _items(page)]
        else:
            items = []
            for market in sorted(wanted):
                params = {"market": market} if market else {}
                items.extend(await self._paged("/data/trades", params))
        return {str(t.get("id")): t for t in items if str(t.get("id")) in every}

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
        self._check_is(order_id, raw)
        return raw

    def _check_is(self, order_id: str, raw: Mapping[str, Any]) -> None:
        """Refuse an answer about another order than ``order_id`` (or than what we signed
        under that hash): it is never taken as this order's state."""
        got = str(raw.get("id") or "")
        problems = []
        if got.lower() != order_id.lower():
            problems.append(f"id {got}")
        expected = self._expected.get(order_id.lower())
        if expected is not None:
            if str(raw.get("asset_id") or expected.token_id) != expected.token_id:
                problems.append(f"token {raw.get('asset_id')}")
            side = str(raw.get("side") or expected.side.value).upper()
            if side != expected.side.value:
                problems.append(f"side {side}")
            size = raw.get("original_size")
            if size not in (None, "") and parsing.dec(size) != expected.quantity:
                problems.append(f"size {size}")
            price = raw.get("price")
            if price not in (None, "") and parsing.dec(price) != expected.price:
                problems.append(f"price {price}")
        if problems:
            raise AnswerMismatch(
                f"Polymarket answered a lookup of {order_id} with another order "
                f"({', '.join(problems)}); not taken as this order",
                venue=VENUE,
            )

    async def _state(
        self, raw: dict[str, Any], trades: Mapping[str, dict[str, Any]] | None = None
    ) -> OrderState:
        market, outcome = self._where(raw)
        if trades is None:
            trades = await self._trades_of([raw])
        own = [trades[str(t)] for t in raw.get("associate_trades") or () if str(t) in trades]
        order_id = raw.get("id")
        if not isinstance(order_id, str) or not order_id:
            raise errors.ExchangeError(
                f"Polymarket answered an order record without an id: {str(raw)[:80]}",
                venue=VENUE)
        fills = parsing.fills_for(order_id, own, fee=self._fee_for(market))
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
        trades = await self._trades_of(raws)
        states = [await self._state(raw, trades) for raw in raws]
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

    async def _asset_params(self, token_id: str | None) -> dict[str, Any]:
        """Balance query of collateral, or of one outcome token: ``CONDITIONAL`` for CTF
        tokens, ``CONDITIONAL-V2`` for Exchange V3 position ids (PositionManager)."""
        if not token_id:
            return self._balance_params(asset_type="COLLATERAL")
        info = self.markets.by_token(token_id) or await self.markets.info(token_id)
        kind = "CONDITIONAL-V2" if info.exchange is ExchangeKind.V3 else "CONDITIONAL"
        return self._balance_params(asset_type=kind, token_id=token_id)

    async def balance_allowance(self, token_id: str | None = None) -> dict[str, Any]:
        """The venue's balance-allowance answer (collateral, or a conditional token)."""
        params = await self._asset_params(token_id)
        raw = await self.http.get("/balance-allowance", params, auth=True)
        return raw if isinstance(raw, dict) else {}

    async def update_balance_allowance(self, token_id: str | None = None) -> None:
        """Ask the venue to refresh its cached on-chain view (after a deposit or approval)."""
        await self.http.get(
            "/balance-allowance/update", await self._asset_params(token_id), auth=True
        )

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
        """Fee shares x rate x (p(1-p))^e from the market's schedule, cut to 5 decimals
        (``arbexec.fees.polymarket_fee``, shared with the paper venue). Takers always pay;
        makers pay only where the schedule is not taker-only (``fd.to`` false).

        Needs the market's metadata cached (any earlier call on the market); 0 otherwise.
        """
        info = self.markets.cached(market)
        if info is None or info.fees is None:
            return ZERO
        if liquidity is Liquidity.MAKER and info.fees.taker_only:
            return ZERO
        return polymarket_fee(quantity, price, info.fees.rate, info.fees.exponent)

    # ------------------------------------------------------------------ heartbeats

    def _maybe_start_heartbeats(self) -> None:
        if self.config.heartbeats and self._heartbeat_task is None:
            self._heartbeat_task = asyncio.create_task(self._heartbeat_loop())

    async def heartbeat(self, timeout: float | None = None) -> str:
        """Send one heartbeat (bounded to ``timeout`` seconds when given).

        A 400 naming the id the venue expects: adopt it and send once more. A 400 without
        one: forget our id, so the next heartbeat starts a fresh chain instead of repeating
        a stale id the venue refuses."""
        try:
            answer = await self._post_heartbeat(self._heartbeat_id, timeout)
        except errors.ExchangeError as exc:
            if exc.http_status != 400:
                raise
            expected = _heartbeat_id_from(exc)
            if expected is None or expected == self._heartbeat_id:
                self._heartbeat_id = ""
                raise
            self._heartbeat_id = expected
            answer = await self._post_heartbeat(expected, timeout)
        if isinstance(answer, dict) and answer.get("heartbeat_id"):
            self._heartbeat_id = str(answer["heartbeat_id"])
        return self._heartbeat_id

    async def _post_heartbeat(self, heartbeat_id: str, timeout: float | None) -> Any:
        body = compact({"heartbeat_id": heartbeat_id})
        send = self.http.send_once("POST", "/v1/heartbeats", body, timeout=timeout)
        if timeout is None:
            return await send
        try:
            async with asyncio.timeout(timeout):
                return await send
        except TimeoutError:
            raise errors.NetworkError(
                f"Polymarket heartbeat took more than {timeout:g} s", venue=VENUE
            ) from None

    async def _heartbeat_loop(self) -> None:
        """Heartbeats on a fixed schedule: each send starts ``HEARTBEAT_INTERVAL`` after the
        start of the previous one (not after it finished), and a failed one is retried
        after ``HEARTBEAT_RETRY`` seconds, so the gap stays well inside the venue's ~10 s."""
        while True:
            started = self._clock()
            try:
                await self.heartbeat(timeout=HEARTBEAT_TIMEOUT)
                deadline = started + HEARTBEAT_INTERVAL
            except errors.ExchangeError:
                deadline = min(started + HEARTBEAT_INTERVAL, self._clock() + HEARTBEAT_RETRY)
            await self._sleep(max(0.0, deadline - self._clock()))

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
