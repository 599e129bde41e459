"""The paper venue: an ``Exchange`` that simulates a prediction-market exchange locally.

Marketable orders walk the simulated YES book level by level; the remainder follows its
time in force (GTC/GTD rest and fill as maker when the market trades through them, IOC is
cancelled, FOK fills entirely or not at all). Money moves on every fill: cost and fee on
buys, proceeds less fee on sells. A sell beyond the contracts held is refused, or (with
``sells_beyond_position = "open_opposite"``, Kalshi's single YES book) its excess buys the
other outcome at 1 - p. Everything is keyed by the venue's deployment name, so
several paper venues in one deployment never share markets or accounts.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import time
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbexec.api import (
    ONE,
    ZERO,
    AmbiguousSubmission,
    Balance,
    Capabilities,
    ConfigError,
    DuplicateOrder,
    Exchange,
    ExchangeSettings,
    InsufficientFunds,
    InvalidOrder,
    Liquidity,
    MarketClosed,
    MarketListing,
    MarketPage,
    MarketRules,
    MarketStatus,
    NoLiquidity,
    OrderBook,
    OrderNotFound,
    OrderRequest,
    OrderState,
    OrderStatus,
    Outcome,
    Position,
    PostOnlyWouldCross,
    PreparedOrder,
    Side,
    StreamedBook,
    TimeInForce,
)
from arbexec_paper.clock import Clock, system_clock, to_datetime
from arbexec_paper.config import PaperConfig, parse_config
from arbexec_paper.fees import worst_case_fee
from arbexec_paper.ledger import Ledger
from arbexec_paper.market import SimMarket
from arbexec_paper.orders import PaperOrder
from arbexec_paper.sources import RandomWalk, ShadowSource, load_snapshot
from arbexec_paper.store import StateStore, state_path
from arbexec_paper.switches import Switches

_BUY = Side.BUY
_TAKER = Liquidity.TAKER
_MAKER = Liquidity.MAKER


def identity_for(idempotency_key: str) -> str:
    """The venue-side id of a request: a short hash of its idempotency key."""
    return "paper-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


class PaperExchange:
    """A simulated venue. Build it with ``make_exchange(settings)``; tests may inject a
    clock and, for shadow mode, the upstream exchange."""

    capabilities = Capabilities(
        time_in_force=frozenset(TimeInForce),
        post_only=True,
        batch_orders=False,
        cancel_all=True,
        order_stream=True,
        amend=False,
        market_orders=False,
        list_markets=True,
    )

    def __init__(
        self,
        settings: ExchangeSettings,
        *,
        clock: Clock | None = None,
        upstream: Exchange | None = None,
        config: PaperConfig | None = None,
    ) -> None:
        self.name = settings.name
        self.config = config or parse_config(
            settings.options, source=settings.source, prefix=f"venues.{settings.name}."
        )
        self._clock = clock or system_clock
        self._fees = self.config.fees
        self.switches = Switches(self.config.realism, self.config.seed, self.name)
        self._markets: dict[str, SimMarket] = {}
        self._orders: dict[str, PaperOrder] = {}
        self._expiries: list[tuple[float, int, str]] = []
        self._resolutions: dict[str, Outcome] = {}
        self._watchers: list[asyncio.Queue[OrderState]] = []
        self._seq = 0
        self._step_seconds = self.config.step_seconds
        self._steps_per_order = self.config.steps_per_order
        self.ledger = Ledger(self.config.cash)
        self._upstream = upstream
        self._owns_upstream = False
        self._find_exchange_type = settings.find_exchange_type
        self._source = settings.source
        self._build_markets()
        # Persistence (write-behind): what changed since the last flush.
        self._store: StateStore | None = None
        self._dirty_orders: dict[str, PaperOrder] = {}
        self._dirty_markets: set[str] = set()
        self._saved_markets: dict[str, dict[str, Any]] = {}
        self._saved_meta: dict[str, Any] | None = None
        self._pending_save: asyncio.Future[None] | None = None
        self._flush_interval = self.config.flush_interval
        self._epoch = self._clock()
        self._time_steps = 0
        self._read_only = settings.read_only
        if settings.state_dir is not None:
            path = state_path(settings.state_dir, self.name)
            self._store = (StateStore.open_existing(path) if self._read_only
                           else StateStore(path))
            if self._store is not None:
                self._load()
        self._last_flush = self._clock()

    # ------------------------------------------------------------------ construction

    def _build_markets(self) -> None:
        config = self.config
        if config.shadow is not None:
            if self._upstream is None:
                self._upstream = self._build_upstream(config.shadow.venue,
                                                      config.shadow.options)
                self._owns_upstream = True
            return
        if config.snapshot is not None:
            for snap in load_snapshot(config.snapshot):
                rules = MarketRules(market=snap.market, tick_size=snap.tick_size,
                                    quantity_step=snap.quantity_step,
                                    min_quantity=snap.min_quantity, event=snap.event)
                self._markets[snap.market] = SimMarket(rules, snap.source, config.replenish)
        else:
            for walk in config.markets:
                rules = MarketRules(market=walk.market, tick_size=walk.tick_size,
                                    quantity_step=walk.quantity_step,
                                    min_quantity=walk.min_quantity, event=walk.event)
                source = RandomWalk(walk, config.seed)
                self._markets[walk.market] = SimMarket(rules, source, config.replenish)

    def _build_upstream(self, venue_type: str, options: Mapping[str, Any]) -> Exchange:
        """The venue this one shadows, built through the settings' exchange types."""
        find = self._find_exchange_type
        if find is None:
            raise ConfigError(
                f"shadow mode needs the installed exchange types to build a {venue_type!r} "
                "venue; run it from a deployment (arbexec run), or pass upstream=",
                source=self._source, key=f"venues.{self.name}.shadow.venue")
        spec = find(venue_type)
        return spec.factory(ExchangeSettings(name=f"{self.name}-upstream", options=options,
                                             source=self._source, find_exchange_type=find))

    def _load(self) -> None:
        assert self._store is not None
        store = self._store
        ledger = store.meta("ledger")
        if ledger is None:
            return  # a fresh account
        self.ledger = Ledger.from_record(ledger)
        self._epoch = float(store.meta("epoch"))
        self._time_steps = int(store.meta("time_steps"))
        self._seq = int(store.meta("seq"))
        self._resolutions = {m: Outcome(o) for m, o in store.meta("resolutions").items()}
        self._saved_markets = store.markets()
        for name, market in self._markets.items():
            self._restore_market(name, market)
        for row in store.orders():
            order = PaperOrder.from_row(row)
            self._orders[order.id] = order
            if order.is_live:
                self.ledger.reserved += order.reserved_cash
                if order.reserved_contracts:
                    self.ledger.holding(order.market, order.outcome).reserved += (
                        order.reserved_contracts)
                resting_in = self._markets.get(order.market)
                if resting_in is not None:
                    resting_in.resting.append(order)
                if order.expires_at is not None:
                    heapq.heappush(self._expiries, (order.expires_at, order.seq, order.id))

    def _restore_market(self, name: str, market: SimMarket) -> None:
        saved = self._saved_markets.get(name)
        if saved is not None:
            market.restore(saved)
        market.resolved = self._resolutions.get(name)

    # ------------------------------------------------------------------ exchange contract

    async def market_rules(self, market: str) -> MarketRules:
        return (await self._market(market, self._clock())).rules

    async def list_markets(self, cursor: str | None = None,
                           limit: int | None = None) -> MarketPage:
        """The configured markets, as one page (a paper venue has few)."""
        return MarketPage(tuple(
            MarketListing(venue=self.name, market=m.market, title=m.title or m.market,
                          event=m.event, close_time=m.close_time, resolution_time=m.close_time,
                          rules=m.rules, resolution_source=m.resolution_source,
                          tick_size=m.tick_size, status=MarketStatus.OPEN,
                          venue_status="open")
            for m in self.config.markets))

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        sim = self._markets.get(request.market)
        if sim is None or sim.shadow:
            sim = await self._market(request.market, self._clock())
        sim.rules.check(request)
        identity = identity_for(request.idempotency_key)
        return PreparedOrder(request=request, identity=identity, venue_order_id=identity)

    async def create_order(self, order: PreparedOrder) -> OrderState:
        switches = self.switches
        if switches.active:
            await switches.network()
        request = order.request
        now = self._clock()
        self._sync(now)
        market = self._markets.get(request.market)
        if market is None or market.shadow:
            market = await self._market(request.market, now)
        if market.resolved is not None:
            raise MarketClosed(
                f"{request.market} is resolved {market.resolved.value}; it no longer trades",
                venue=self.name,
            )
        identity = order.identity
        if identity in self._orders:
            raise DuplicateOrder(
                f"the paper venue already has order {identity} for this idempotency key",
                venue=self.name,
            )
        if switches.reject_rate and switches.rejects():
            raise InvalidOrder(
                f"simulated reject: paper venue {self.name!r} refused the order "
                f"(reject_rate {switches.reject_rate})",
                venue=self.name,
                venue_code="simulated_reject",
            )
        market.rules.check(request)
        tif = request.time_in_force
        expires_at = None
        if tif is TimeInForce.GTD:
            assert request.expires_at is not None
            expires_at = request.expires_at.timestamp()
            if expires_at <= now:
                raise InvalidOrder(f"expiry {request.expires_at.isoformat()} is in the past",
                                   venue=self.name)
        self._seq += 1
        paper = PaperOrder(
            id=identity,
            seq=self._seq,
            market=request.market,
            outcome=request.outcome,
            side=request.side,
            quantity=request.quantity,
            limit_price=request.limit_price,
            time_in_force=tif,
            post_only=request.post_only,
            expires_at=expires_at,
            created_at=now,
        )
        if request.post_only and market.crosses(paper.yes_buy, paper.yes_price):
            raise PostOnlyWouldCross(
                f"post-only {request.side.value} {request.outcome.value} at "
                f"{request.limit_price} would cross the book on {request.market}",
                venue=self.name,
            )
        paper.closing = self._check_funds(request)
        quantity = request.quantity
        if tif is TimeInForce.FOK:
            available = market.fillable(paper.yes_buy, paper.yes_price, quantity)
            if available < quantity:
                raise NoLiquidity(
                    f"fill-or-kill: only {available} of {quantity} available at "
                    f"{request.limit_price} or better on {request.market}",
                    venue=self.name,
                )
        if not request.post_only:
            for yes_price, taken in market.take(paper.yes_buy, paper.yes_price, quantity):
                self._fill(paper, taken, paper.own_price(yes_price), _TAKER, now)
            # liquidity taken is part of the market's saved state: a restart must not
            # offer the same contracts again
            self._dirty_markets.add(market.market)
        if paper.filled != quantity:
            if tif is TimeInForce.IOC:
                paper.close(OrderStatus.CANCELLED,
                            "immediate-or-cancel: unfilled remainder cancelled", now)
            else:
                market.resting.append(paper)
                self._reserve(paper)
                if expires_at is not None:
                    heapq.heappush(self._expiries, (expires_at, paper.seq, identity))
        self._orders[identity] = paper
        self._dirty_orders[identity] = paper
        if self._steps_per_order:
            self._step_market(market, self._steps_per_order, now)
        state = paper.to_state(self.name)
        if self._watchers:
            self._publish(state)
        await self._saved(now)
        if switches.ambiguous_rate and switches.loses_acknowledgement():
            raise AmbiguousSubmission(
                f"simulated lost acknowledgement: paper venue {self.name!r} received order "
                f"{identity} but the answer was lost; look it up by its identity",
                venue=self.name,
                venue_code="simulated_ambiguous",
            )
        return state

    async def lookup_order(self, identity: str) -> OrderState | None:
        await self._network()
        now = self._clock()
        self._sync(now)
        await self._saved(now)  # a fill the answer reports is saved before it is told
        order = self._orders.get(identity)
        return None if order is None else order.to_state(self.name)

    async def cancel_order(self, venue_order_id: str) -> OrderState:
        await self._network()
        now = self._clock()
        self._sync(now)
        order = self._orders.get(venue_order_id)
        if order is None:
            raise OrderNotFound(f"no order {venue_order_id!r} on paper venue {self.name!r}",
                                venue=self.name)
        if order.is_live:
            self._close(order, OrderStatus.CANCELLED, "cancelled by request", now)
            await self._saved(now)
        return order.to_state(self.name)

    async def cancel_all_orders(self, market: str | None = None) -> int:
        await self._network()
        now = self._clock()
        self._sync(now)
        live = [o for o in self._orders.values()
                if o.is_live and (market is None or o.market == market)]
        for order in live:
            self._close(order, OrderStatus.CANCELLED, "cancelled by request", now)
        if live:
            await self._saved(now)
        return len(live)

    async def fetch_order(self, venue_order_id: str) -> OrderState:
        await self._network()
        now = self._clock()
        self._sync(now)
        await self._saved(now)
        order = self._orders.get(venue_order_id)
        if order is None:
            raise OrderNotFound(f"no order {venue_order_id!r} on paper venue {self.name!r}",
                                venue=self.name)
        return order.to_state(self.name)

    async def fetch_open_orders(self, market: str | None = None) -> list[OrderState]:
        await self._network()
        now = self._clock()
        self._sync(now)
        await self._saved(now)
        return [o.to_state(self.name) for o in self._orders.values()
                if o.is_live and (market is None or o.market == market)]

    async def fetch_balance(self) -> Balance:
        await self._network()
        self._sync(self._clock())
        return self.ledger.balance(self.name)

    async def fetch_positions(self) -> list[Position]:
        await self._network()
        self._sync(self._clock())
        return self.ledger.positions(self.name)

    async def fetch_order_book(self, market: str) -> OrderBook:
        await self._network()
        now = self._clock()
        self._sync(now)
        sim = await self._market(market, now)
        return sim.book(self.name, to_datetime(now))

    def latest_book(self, market: str) -> StreamedBook | None:
        """The book as this venue holds it now, without the network switch's delay: the
        paper venue is its own stream. A shadowed market's book is as old as its last
        read of the real venue; a market not yet known, or a venue in a simulated outage
        (its stream is down), has none, so the caller reads it and learns why."""
        sim = self._markets.get(market)
        if sim is None or self.switches.outage:
            return None
        now = self._clock()
        age = 0.0
        if sim.shadow:
            source = sim.source
            assert isinstance(source, ShadowSource)
            if source.fetched_at is None:
                return None
            age = max(0.0, now - source.fetched_at)
        self._sync(now)
        return StreamedBook(book=sim.book(self.name, to_datetime(now)),
                            received_at=time.monotonic() - age)

    def watch_orders(self) -> AsyncIterator[OrderState]:
        """Every order change (fills of resting orders, expiries, cancels) as it happens.

        The stream drives the simulation itself: while it waits it wakes up for the next
        process step or expiry, so a consumer sees resting orders fill without polling.
        """
        return self._watch()

    @property
    def fee_rounding(self) -> Decimal:
        """The most one fill's fee can exceed ``fee()`` for it (the fee model's rounding)."""
        return self._fees.rounding

    def fee(self, market: str, price: Decimal, quantity: Decimal, liquidity: Liquidity
            ) -> Decimal:
        return self._fees.fee(price, quantity, liquidity)

    async def aclose(self) -> None:
        self.close()
        if self._owns_upstream and self._upstream is not None:
            await self._upstream.aclose()
            self._upstream = None

    # ------------------------------------------------------------------ simulation control

    async def advance(self, steps: int = 1, market: str | None = None) -> None:
        """Move the simulated market(s) ``steps`` process steps now (shadow: refetch)."""
        now = self._clock()
        self._sync(now)
        targets = [await self._market(market, now)] if market else list(self._markets.values())
        for sim in targets:
            if sim.shadow:
                await self._refresh(sim, now)
            else:
                self._step_market(sim, steps, now)
        await self._saved(now)

    async def resolve(self, market: str, outcome: Outcome | str) -> Decimal:
        """Settle a market: cancel its orders, pay $1 per winning contract. Returns the payout."""
        return self.settle(market, outcome)

    def settle(self, market: str, outcome: Outcome | str) -> Decimal:
        """``resolve`` without an event loop, for offline commands."""
        winner = Outcome(outcome)
        now = self._clock()
        self._sync(now)
        if market in self._resolutions:
            raise MarketClosed(f"{market} is already resolved {self._resolutions[market].value}",
                               venue=self.name)
        known = (market in self._markets or any(m == market for m, _ in self.ledger.holdings)
                 or any(o.market == market for o in self._orders.values()))
        if not known and self.config.shadow is None:
            raise InvalidOrder(f"unknown market {market!r} on paper venue {self.name!r}",
                               venue=self.name)
        for order in [o for o in self._orders.values() if o.is_live and o.market == market]:
            self._close(order, OrderStatus.CANCELLED, f"market resolved {winner.value}", now)
        payout = self.ledger.settle(market, winner)
        self._resolutions[market] = winner
        sim = self._markets.get(market)
        if sim is not None:
            sim.resolved = winner
        self.flush()
        return payout

    def close(self) -> None:
        """Flush and release the state file (the synchronous half of ``aclose``)."""
        self.flush()
        if self._store is not None:
            self._store.close()
            self._store = None

    def opening_remainder(self, venue_order_id: str) -> Decimal:
        """Contracts of a live sell's unfilled remainder that will buy the other outcome
        when they fill (``sells_beyond_position = "open_opposite"``); zero for the rest.
        For drills and tests that check what an engine holds against what the venue does."""
        order = self._orders.get(venue_order_id)
        if order is None or not order.is_live or order.side is _BUY:
            return ZERO
        return order.remaining - order.closing

    def open_orders(self) -> list[OrderState]:
        """Live orders as the venue holds them now, without simulating further."""
        return [o.to_state(self.name) for o in self._orders.values() if o.is_live]

    def flush(self) -> None:
        """Write every change since the last flush to the state file in one transaction."""
        self._last_flush = self._clock()
        if self._store is None or self._read_only:
            return  # a read-only venue never writes its (possibly stale) copy back
        meta = {
            "ledger": self.ledger.to_record(),
            "epoch": self._epoch,
            "time_steps": self._time_steps,
            "seq": self._seq,
            "resolutions": {m: o.value for m, o in self._resolutions.items()},
        }
        if not self._dirty_orders and not self._dirty_markets and meta == self._saved_meta:
            return  # nothing changed: a read that saves on every answer costs nothing
        orders = [o.to_row() for o in self._dirty_orders.values()]
        markets = [(m, self._markets[m].state()) for m in self._dirty_markets
                   if m in self._markets]
        self._store.write(meta=meta, orders=orders, markets=markets)
        self._saved_meta = meta
        self._dirty_orders.clear()
        self._dirty_markets.clear()

    # ------------------------------------------------------------------ internals

    async def _network(self) -> None:
        if self.switches.active:
            await self.switches.network()

    async def _market(self, market: str, now: float) -> SimMarket:
        sim = self._markets.get(market)
        if sim is not None:
            if sim.shadow:
                source = sim.source
                assert isinstance(source, ShadowSource)
                assert self.config.shadow is not None
                if (source.fetched_at is None
                        or now - source.fetched_at >= self.config.shadow.refresh_seconds):
                    await self._refresh(sim, now)
            return sim
        shadow = self.config.shadow
        if shadow is None or (shadow.markets and market not in shadow.markets):
            known = ", ".join(sorted(self._markets)) or "none"
            raise InvalidOrder(
                f"unknown market {market!r} on paper venue {self.name!r}; known: {known}",
                venue=self.name,
            )
        assert self._upstream is not None
        rules = await self._upstream.market_rules(market)
        sim = SimMarket(rules, ShadowSource(), self.config.replenish)
        self._markets[market] = sim
        self._restore_market(market, sim)
        await self._refresh(sim, now)
        return sim

    async def _refresh(self, sim: SimMarket, now: float) -> None:
        assert self._upstream is not None and isinstance(sim.source, ShadowSource)
        book = await self._upstream.fetch_order_book(sim.market)
        first = sim.source.fetched_at is None
        sim.source.replace(book, now)
        if not first:
            sim.decay(1)
        if sim.resting:
            self._cross(sim, now)
        self._dirty_markets.add(sim.market)

    def _check_funds(self, request: OrderRequest) -> Decimal:
        """Refuse what the account cannot pay for or deliver; for a sell, return how many
        of its contracts close the holding (the rest, where the venue opens the other
        outcome, is a buy of it at 1 - p and needs its cash)."""
        ledger = self.ledger
        quantity = request.quantity
        if request.side is _BUY:
            self._check_cash(request, quantity, request.limit_price, "buying")
            return ZERO
        held = ledger.sellable(request.market, request.outcome)
        if quantity <= held:
            return quantity
        reduce_only = (request.tags or {}).get("reduce_only") in (True, "true", "1", "yes")
        if self.config.sells_beyond_position == "refuse" or reduce_only:
            why = ("the paper venue does not sell short"
                   if self.config.sells_beyond_position == "refuse"
                   else "a reduce_only sell never opens the other outcome")
            raise InsufficientFunds(
                f"selling {quantity} {request.outcome.value} of {request.market} but only "
                f"{held} are held and not already offered; {why} "
                f"(buy {request.outcome.other.value} instead)",
                venue=self.name,
            )
        held = max(held, ZERO)
        self._check_cash(request, quantity - held, ONE - request.limit_price,
                         f"selling {quantity} {request.outcome.value} with {held} held opens "
                         f"{request.outcome.other.value}: buying")
        return held

    def _check_cash(self, request: OrderRequest, quantity: Decimal, price: Decimal,
                    doing: str) -> None:
        need = quantity * price + worst_case_fee(self._fees, price, quantity, _TAKER)
        available = self.ledger.available
        if need > available:
            outcome = request.outcome if request.side is _BUY else request.outcome.other
            raise InsufficientFunds(
                f"{doing} {quantity} {outcome.value} at {price} needs ${need} "
                f"(fees included) but ${available} is available on paper venue "
                f"{self.name!r}",
                venue=self.name,
            )

    def _fill(self, order: PaperOrder, quantity: Decimal, price: Decimal,
              liquidity: Liquidity, at: float) -> None:
        fee = self._fees.fee(price, quantity, liquidity)
        if order.side is _BUY:
            self.ledger.buy(order.market, order.outcome, quantity, price, fee)
        else:
            # contracts held close first; the rest buys the other outcome at 1 - p (one
            # fee for the fill, charged once)
            closing = min(quantity, order.closing)
            order.closing -= closing
            if closing:
                self.ledger.sell(order.market, order.outcome, closing, price, fee)
            if quantity > closing:
                self.ledger.buy(order.market, order.outcome.other, quantity - closing,
                                ONE - price, ZERO if closing else fee)
        order.add_fill(quantity, price, fee, liquidity, at)

    def _reserve(self, order: PaperOrder) -> None:
        """Set aside what the order's live remainder may still spend (cash or contracts)."""
        live = order.is_live
        if order.side is _BUY:
            buying, price = order.remaining, order.limit_price
        else:  # the part beyond the contracts it closes buys the other outcome at 1 - p
            contracts = order.closing if live else ZERO
            holding = self.ledger.holding(order.market, order.outcome)
            holding.reserved += contracts - order.reserved_contracts
            order.reserved_contracts = contracts
            buying, price = order.remaining - order.closing, ONE - order.limit_price
        cash = (buying * price + worst_case_fee(self._fees, price, buying, _MAKER)
                if live and buying > 0 else ZERO)
        self.ledger.reserved += cash - order.reserved_cash
        order.reserved_cash = cash

    def _close(self, order: PaperOrder, status: OrderStatus, reason: str, at: float) -> None:
        order.close(status, reason, at)
        self._reserve(order)
        sim = self._markets.get(order.market)
        if sim is not None and order in sim.resting:
            sim.resting.remove(order)
        self._dirty_orders[order.id] = order
        if self._watchers:
            self._publish(order.to_state(self.name))

    def _cross(self, sim: SimMarket, at: float) -> None:
        """Fill resting orders the market now trades through, oldest first, at their price."""
        for order in list(sim.resting):
            taken = sum((q for _, q in sim.take(order.yes_buy, order.yes_price,
                                                order.remaining)), ZERO)
            if not taken:
                continue
            self._reserve_release_for_fill(order, taken)
            self._fill(order, taken, order.limit_price, _MAKER, at)
            self._reserve(order)
            if not order.is_live:
                sim.resting.remove(order)
            self._dirty_orders[order.id] = order
            if self._watchers:
                self._publish(order.to_state(self.name))

    def _reserve_release_for_fill(self, order: PaperOrder, quantity: Decimal) -> None:
        """Free the part of a resting order's reservation that a fill is about to use."""
        self.ledger.reserved -= order.reserved_cash
        order.reserved_cash = ZERO
        if order.side is not _BUY:
            holding = self.ledger.holding(order.market, order.outcome)
            holding.reserved -= order.reserved_contracts
            order.reserved_contracts = ZERO

    def _step_market(self, sim: SimMarket, steps: int, at: float) -> None:
        if sim.resting:
            for _ in range(steps):
                sim.step(1)
                self._cross(sim, at)
        else:
            sim.step(steps)
        self._dirty_markets.add(sim.market)

    def _sync(self, now: float) -> None:
        """Bring the simulation up to ``now``: due process steps, then due expiries."""
        if self._step_seconds:
            target = int((now - self._epoch) / self._step_seconds)
            if target > self._time_steps:
                self._run_time_steps(target)
        if self._expiries and self._expiries[0][0] <= now:
            self._expire(now)

    def _run_time_steps(self, target: int) -> None:
        done = max(self._time_steps, target - self.config.max_catchup_steps)
        walks = [m for m in self._markets.values() if not m.shadow and m.resolved is None]
        if not any(m.resting for m in walks) and not self._expiries:
            for sim in walks:
                sim.step(target - done)
                self._dirty_markets.add(sim.market)
        else:
            for k in range(done + 1, target + 1):
                at = self._epoch + k * self._step_seconds
                if self._expiries and self._expiries[0][0] <= at:
                    self._expire(at)
                for sim in walks:
                    self._step_market(sim, 1, at)
        self._time_steps = target

    def _expire(self, now: float) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            expires_at, _, order_id = heapq.heappop(expiries)
            order = self._orders[order_id]
            if order.is_live:
                self._close(order, OrderStatus.EXPIRED, "good-till-date order expired",
                            expires_at)

    async def _saved(self, now: float) -> None:
        """Save before answering. With ``flush_interval = 0`` (the default) the caller waits
        for a commit it shares with every other call of the same event-loop turn (group
        commit), so an acknowledgement or a reported fill is on disk before anyone hears of
        it; otherwise the write-behind interval applies."""
        if self._store is None or self._read_only:
            return
        if self._flush_interval > 0:
            self._after_change(now)
            return
        pending = self._pending_save
        if pending is None:
            pending = self._pending_save = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._group_save)
        await asyncio.shield(pending)

    def _group_save(self) -> None:
        pending, self._pending_save = self._pending_save, None
        if pending is None:
            return
        try:
            self.flush()
        except Exception as exc:
            if not pending.done():
                pending.set_exception(exc)
            return
        if not pending.done():
            pending.set_result(None)

    def _after_change(self, now: float) -> None:
        if self._store is not None and now - self._last_flush >= self._flush_interval:
            self.flush()

    def _publish(self, state: OrderState) -> None:
        for queue in self._watchers:
            queue.put_nowait(state)

    def _next_wakeup(self, now: float) -> float | None:
        """Seconds until the next step, expiry or shadow refresh; None when nothing is due."""
        candidates = []
        if self._step_seconds:
            candidates.append(self._epoch + (self._time_steps + 1) * self._step_seconds - now)
        if self._expiries:
            candidates.append(self._expiries[0][0] - now)
        if self.config.shadow is not None and any(m.resting for m in self._markets.values()):
            candidates.append(self.config.shadow.refresh_seconds)
        return max(min(candidates), 0.0) if candidates else None

    async def _watch(self) -> AsyncIterator[OrderState]:
        queue: asyncio.Queue[OrderState] = asyncio.Queue()
        self._watchers.append(queue)
        try:
            while True:
                if queue.empty():
                    now = self._clock()
                    timeout = self._next_wakeup(now)
                    try:
                        state = await asyncio.wait_for(queue.get(), timeout)
                    except TimeoutError:
                        await self._tick()
                        continue
                else:
                    state = queue.get_nowait()
                yield state
        finally:
            self._watchers.remove(queue)

    async def _tick(self) -> None:
        now = self._clock()
        self._sync(now)
        if self.config.shadow is not None:
            for sim in list(self._markets.values()):
                if sim.shadow and sim.resting:
                    await self._refresh(sim, now)
        await self._saved(now)


def make_exchange(settings: ExchangeSettings) -> PaperExchange:
    """The ``paper`` venue factory the plugin host calls."""
    return PaperExchange(settings)


def open_state(state_dir: str | Path, venue: str) -> PaperExchange:
    """A paper venue over an existing state directory, for offline commands (resolve)."""
    return PaperExchange(ExchangeSettings(name=venue, state_dir=str(state_dir)))
