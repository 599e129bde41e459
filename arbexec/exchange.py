"""The contract every venue plugin implements.

Sending an order is two steps so that nothing is ever sent twice or lost:

1. ``prepare_order(request)`` checks the request against the market's grid and fixes the
   venue-side identity (Kalshi ``client_order_id``, Polymarket order hash, paper id) without
   sending anything. The engine journals that identity *before* step 2.
2. ``create_order(prepared)`` sends it. If the outcome is ambiguous the plugin raises
   ``AmbiguousSubmission``; the engine marks the order UNKNOWN and later calls
   ``lookup_order(prepared.identity)``, which answers from the venue's own records.

All methods are async (two legs of an arbitrage go out concurrently). Prices and quantities
are core units (probability dollars, contracts); venue units stay inside the plugin.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from attrs import field, frozen

from arbexec.errors import OffGridOrder
from arbexec.model import (
    Balance,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderState,
    Position,
    TimeInForce,
    to_decimal,
)

if TYPE_CHECKING:
    from arbexec.specs import ExchangeSpec


@frozen(kw_only=True)
class Capabilities:
    """What a venue can do. The engine consults it instead of guessing."""

    time_in_force: frozenset[TimeInForce] = frozenset(TimeInForce)
    post_only: bool = True
    batch_orders: bool = False
    cancel_all: bool = True
    order_stream: bool = False
    amend: bool = False
    market_orders: bool = False
    #: ``list_markets(cursor=None, limit=None) -> MarketPage``: the venue's catalogue, paged
    #: (``arbexec markets sync``). Optional: a venue without it is skipped by the catalogue.
    list_markets: bool = False
    #: ``list_markets(..., updated_since=datetime)`` lists only the markets changed since
    #: then, of any status (closed and settled ones too): incremental catalogue syncs.
    list_markets_since: bool = False


@frozen(kw_only=True)
class MarketRules:
    """The grid a market trades on. Requests off the grid are refused, never rounded."""

    market: str
    tick_size: Decimal = field(converter=to_decimal)
    quantity_step: Decimal = field(default=Decimal(1), converter=to_decimal)
    min_quantity: Decimal = field(default=Decimal(1), converter=to_decimal)
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    event: str | None = None  # group of related markets, for per-event exposure limits
    closes_at: Any = None  # datetime | None: when the market stops trading

    def check(self, request: OrderRequest) -> None:
        """Raise ``OffGridOrder`` naming the figure if the request is off this grid."""
        lowest = self.min_price if self.min_price is not None else self.tick_size
        highest = self.max_price if self.max_price is not None else 1 - self.tick_size
        price = request.limit_price
        if price % self.tick_size != 0:
            raise OffGridOrder(
                f"price {price} is not a multiple of the tick size {self.tick_size} on "
                f"{self.market}; use a price on the grid (e.g. "
                f"{(price // self.tick_size) * self.tick_size})"
            )
        if not lowest <= price <= highest:
            raise OffGridOrder(
                f"price {price} is outside [{lowest}, {highest}] on {self.market}"
            )
        if request.quantity % self.quantity_step != 0:
            raise OffGridOrder(
                f"quantity {request.quantity} is not a multiple of {self.quantity_step} "
                f"contracts on {self.market}"
            )
        if request.quantity < self.min_quantity:
            raise OffGridOrder(
                f"quantity {request.quantity} is below the minimum {self.min_quantity} "
                f"contracts on {self.market}"
            )


@frozen(kw_only=True)
class StreamedBook:
    """A venue's latest book as its stream delivered it, and when (``time.monotonic()``
    seconds) this host received it or last heard it confirmed."""

    book: OrderBook
    received_at: float


async def current_book(exchange: Any, market: str, *, max_age: float,
                       clock: Callable[[], float] | None = None) -> OrderBook:
    """The venue's streamed book of ``market`` (the optional ``latest_book``) when it is at
    most ``max_age`` seconds old; otherwise (stale, none streamed, a venue without streams,
    or ``max_age == 0``) a fresh read. One rule for every reader of a book before a send:
    the engine's risk context, a pair's edge check and the scanner."""
    if max_age > 0:
        latest = getattr(exchange, "latest_book", None)
        streamed = latest(market) if callable(latest) else None
        now = (clock or time.monotonic)()
        if streamed is not None and now - streamed.received_at <= max_age:
            book: OrderBook = streamed.book
            return book
    fetched: OrderBook = await exchange.fetch_order_book(market)
    return fetched


@frozen(kw_only=True)
class PreparedOrder:
    """A request made ready for one venue, with its venue-side identity fixed.

    ``identity`` is what ``lookup_order`` takes. ``venue_order_id`` is known in advance on
    venues where the client computes it (Polymarket's order hash, paper ids); ``None`` where
    the venue assigns it. ``payload`` is the plugin's own (for example the signed body) and
    never appears in a repr.
    """

    request: OrderRequest
    identity: str
    venue_order_id: str | None = None
    payload: Any = field(default=None, repr=False, eq=False)


@runtime_checkable
class Exchange(Protocol):
    """A venue adapter. Constructed by an ``ExchangeSpec`` factory from validated settings.

    Optional, outside the protocol: ``known_secrets() -> Iterable[str]``, the account's
    secrets (keys, key ids, passphrases). The engine removes them, in their usual encodings,
    from every reason and event it journals or emits (``arbexec.secrets``), as a second line
    behind the plugin's own scrubbing of what its venue sends back.

    Optional, outside the protocol: ``latest_book(market) -> StreamedBook | None``, the
    book the venue's stream keeps for a market (None when it keeps none, or the stream is
    down). The arbitrage executor checks a pair's edge on it when it is no older than
    ``[arbitrage] max_book_age`` instead of reading the book again (docs/arbitrage.md).

    Optional, announced by ``capabilities.list_markets``: ``async list_markets(cursor=None,
    limit=None) -> MarketPage``, one page of the venue's markets as ``MarketListing``
    records and the cursor of the next page (None on the last). It reads public market
    data only, paying the venue's rate limits like any other read; the catalogue keeps the
    cursor so an interrupted sync resumes (``arbexec.catalog``)."""

    name: str
    capabilities: Capabilities

    async def market_rules(self, market: str) -> MarketRules:
        """The market's grid and metadata (cached by the plugin)."""
        ...

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Validate against the grid and fix the venue identity. Sends nothing."""
        ...

    async def create_order(self, order: PreparedOrder) -> OrderState:
        """Send the order. Raise an ``ExchangeError``; ``AmbiguousSubmission`` when unsure."""
        ...

    async def lookup_order(self, identity: str) -> OrderState | None:
        """The venue's state of the order with this identity, or None if it never arrived."""
        ...

    async def cancel_order(self, venue_order_id: str) -> OrderState:
        """Cancel; returns the state after the cancel (CANCELLED, or final if it already was)."""
        ...

    async def cancel_all_orders(self, market: str | None = None) -> int:
        """Cancel every open order (of one market); returns how many were cancelled."""
        ...

    async def fetch_order(self, venue_order_id: str) -> OrderState:
        """Raise ``OrderNotFound`` if the venue does not know the id."""
        ...

    async def fetch_open_orders(self, market: str | None = None) -> list[OrderState]: ...

    async def fetch_balance(self) -> Balance: ...

    async def fetch_positions(self) -> list[Position]: ...

    async def fetch_order_book(self, market: str) -> OrderBook: ...

    def watch_orders(self) -> AsyncIterator[OrderState] | None:
        """A stream of order updates, or None where the venue has none (then: polling)."""
        ...

    def fee(
        self, market: str, price: Decimal, quantity: Decimal, liquidity: Liquidity
    ) -> Decimal:
        """The fee the venue will charge for such a fill, in dollars."""
        ...

    async def aclose(self) -> None: ...


@frozen(kw_only=True)
class ExchangeSettings:
    """What a venue factory receives: its deployment name and its config table.

    ``options`` holds the venue table from the deployment file (secrets already resolved
    from the environment and never printed). ``state_dir`` is where a plugin may keep files
    (the paper venue's account, caches).

    ``find_exchange_type(name)`` returns the installed exchange type ``name`` (or raises
    ``UnknownNameError`` saying what is installed), for a venue that builds on another one
    (the paper venue's shadow mode). Whoever builds the settings passes it from its own
    plugin host; there is no process-wide host to reach for. None: no other venue types.

    ``read_only`` is set by commands that only look (``balance``, ``positions``, ``book``,
    ``risk explain``): the venue must not write its state (a reader that exits after an
    engine's save would otherwise put its stale copy back) nor claim the account.
    """

    name: str
    options: Mapping[str, Any] = field(factory=dict, repr=False, hash=False)
    state_dir: str | None = None
    source: str | None = None  # the config file, for error messages
    read_only: bool = False
    find_exchange_type: Callable[[str], ExchangeSpec] | None = field(
        default=None, repr=False, eq=False, hash=False)
