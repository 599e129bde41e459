"""Value types of the money path.

Every type here is an attrs ``frozen`` value: it validates itself on construction, so a
malformed request cannot exist, let alone reach a venue. Money and prices are ``Decimal``;
prices are probabilities in (0, 1) and quantities are contracts. Venue units (cents, 1e-6
base units, fixed-point strings) are converted by the venue plugins, never here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import field, frozen

ZERO = Decimal(0)
ONE = Decimal(1)


class Outcome(enum.StrEnum):
    YES = "YES"
    NO = "NO"

    @property
    def other(self) -> Outcome:
        return Outcome.NO if self is Outcome.YES else Outcome.YES


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def other(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class TimeInForce(enum.StrEnum):
    GTC = "GTC"  # good till cancelled: rests on the book
    GTD = "GTD"  # good till date: rests until ``expires_at``
    IOC = "IOC"  # immediate or cancel: fill what crosses now, cancel the rest (FAK)
    FOK = "FOK"  # fill or kill: all now or nothing


class Liquidity(enum.StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class OrderStatus(enum.StrEnum):
    """Where a request stands. The first three are local or ambiguous; the rest are the venue's."""

    PENDING = "PENDING"  # journaled, not yet acknowledged by the venue
    DENIED = "DENIED"  # refused locally (validation, halt, risk); nothing was sent
    REJECTED = "REJECTED"  # the venue said no
    UNKNOWN = "UNKNOWN"  # may or may not have reached the venue; resolved by lookup, never resent
    OPEN = "OPEN"  # acknowledged and resting, nothing filled
    PARTIALLY_FILLED = "PARTIALLY_FILLED"  # resting with some fills
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"  # with or without fills (see filled_quantity)
    EXPIRED = "EXPIRED"  # GTD expiry, with or without fills

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_live(self) -> bool:
        """Acknowledged by the venue and still able to trade."""
        return self in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


_FINAL = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
    }
)


class RequestError(ValueError):
    """A request is malformed. ``field`` names the offending field; the message says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


# ---------------------------------------------------------------------------- converters


def _to_outcome(value: Outcome | str) -> Outcome:
    return value if type(value) is Outcome else Outcome(value)


def _to_side(value: Side | str) -> Side:
    return value if type(value) is Side else Side(value)


def _to_status(value: OrderStatus | str) -> OrderStatus:
    return value if type(value) is OrderStatus else OrderStatus(value)


def _to_tif(value: TimeInForce | str) -> TimeInForce:
    return value if type(value) is TimeInForce else TimeInForce(value)


def _to_liquidity(value: Liquidity | str) -> Liquidity:
    return value if type(value) is Liquidity else Liquidity(value)


def to_decimal(value: Any) -> Decimal:
    """Exact conversion to Decimal. Floats go through ``repr`` so 0.57 stays 0.57."""
    if type(value) is Decimal:
        if value.is_finite():
            return value
        raise ValueError(f"{value!r} is not a finite number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise TypeError(f"{type(value).__name__} is not a number")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


def utc_datetime(value: Any) -> datetime:
    """Accept an aware datetime, an ISO-8601 string, or unix seconds; return aware UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp needs a timezone (use UTC, e.g. 2026-11-22T12:00:00Z)")
        return value.astimezone(UTC)
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int | float | Decimal):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        return utc_datetime(parsed)
    raise TypeError(f"{type(value).__name__} is not a timestamp")


def optional_datetime(value: Any) -> datetime | None:
    return None if value is None else utc_datetime(value)


def _tags(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError("tags must be a mapping of names to values")
    return dict(value)


def now_utc() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------- validators


def _probability(_inst: object, attribute: Any, value: Decimal) -> None:
    if not ZERO < value < ONE:
        raise RequestError(
            attribute.name, f"{value} is outside (0, 1); prices are probabilities in dollars"
        )


def _optional_probability(inst: object, attribute: Any, value: Decimal | None) -> None:
    if value is not None:
        _probability(inst, attribute, value)


def _positive(_inst: object, attribute: Any, value: Decimal) -> None:
    if value <= 0:
        raise RequestError(attribute.name, f"{value} must be greater than zero")


#: Bounds that no real order comes near; past them a number is a mistake, not an order.
MAX_QUANTITY = Decimal(10) ** 12
MAX_DECIMALS = 18


def _order_quantity(inst: object, attribute: Any, value: Decimal) -> None:
    _positive(inst, attribute, value)
    if value >= MAX_QUANTITY:
        raise RequestError(attribute.name, f"{value} contracts is not a plausible order "
                           f"(the limit is below {MAX_QUANTITY:,f})")
    _plausible_precision(inst, attribute, value)


def _plausible_precision(_inst: object, attribute: Any, value: Decimal | None) -> None:
    if value is None:
        return
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        raise RequestError(attribute.name, f"{value} has more than {MAX_DECIMALS} decimal "
                           "places")


def _non_negative(_inst: object, attribute: Any, value: Decimal) -> None:
    if value < 0:
        raise RequestError(attribute.name, f"{value} must not be negative")


def _optional_wait(_inst: object, attribute: Any, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
        raise RequestError(attribute.name, f"{value!r} must be seconds between 0 and 86400")


def _identifier(_inst: object, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RequestError(attribute.name, "must be a non-empty string")
    if len(value) > 256:
        raise RequestError(attribute.name, "is longer than 256 characters")


# ---------------------------------------------------------------------------- request


@frozen(kw_only=True)
class OrderRequest:
    """One order a strategy wants: the unit the engine validates, risk-checks and executes."""

    request_id: str = field(validator=_identifier)
    idempotency_key: str = field(validator=_identifier)
    venue: str = field(validator=_identifier)
    market: str = field(validator=_identifier)
    outcome: Outcome = field(converter=_to_outcome)
    side: Side = field(converter=_to_side)
    quantity: Decimal = field(converter=to_decimal, validator=_order_quantity)
    limit_price: Decimal = field(converter=to_decimal,
                                 validator=[_probability, _plausible_precision])
    time_in_force: TimeInForce = field(default=TimeInForce.GTC, converter=_to_tif)
    post_only: bool = False
    expires_at: datetime | None = field(default=None, converter=optional_datetime)
    reference_price: Decimal | None = field(
        default=None, converter=optional_decimal, validator=_optional_probability
    )
    expected_value: Decimal | None = field(default=None, converter=optional_decimal)
    wait_budget: float | None = field(default=None, validator=_optional_wait)
    tags: Mapping[str, Any] = field(factory=dict, converter=_tags, hash=False)
    requested_at: datetime = field(factory=now_utc)

    def __attrs_post_init__(self) -> None:
        if self.time_in_force is TimeInForce.GTD and self.expires_at is None:
            raise RequestError("expires_at", "GTD orders need an expiry time")
        if self.time_in_force is not TimeInForce.GTD and self.expires_at is not None:
            raise RequestError("expires_at", "only GTD orders take an expiry time")
        if self.post_only and self.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            raise RequestError("post_only", "a post-only order cannot be IOC or FOK")

    @property
    def notional(self) -> Decimal:
        """Money the order commits at its limit: what a buy pays, or a sell's proceeds."""
        return self.quantity * self.limit_price

    @property
    def yes_price(self) -> Decimal:
        """The limit expressed on the YES book (buying NO at q is selling YES at 1 - q)."""
        return self.limit_price if self.outcome is Outcome.YES else ONE - self.limit_price

    @property
    def yes_side(self) -> Side:
        """The side on the YES book: BUY NO is a SELL of YES and the reverse."""
        return self.side if self.outcome is Outcome.YES else self.side.other


# ---------------------------------------------------------------------------- venue state


@frozen(kw_only=True)
class Fill:
    """One execution against an order. ``final`` is False while the venue may still undo it."""

    trade_id: str
    quantity: Decimal = field(converter=to_decimal, validator=_positive)
    price: Decimal = field(converter=to_decimal, validator=_probability)
    fee: Decimal = field(default=ZERO, converter=to_decimal)
    liquidity: Liquidity = field(default=Liquidity.TAKER, converter=_to_liquidity)
    timestamp: datetime = field(factory=now_utc, converter=utc_datetime)
    final: bool = True

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


def _fill_tuple(value: Iterable[Fill]) -> tuple[Fill, ...]:
    return value if isinstance(value, tuple) else tuple(value)


@frozen(kw_only=True)
class OrderState:
    """What the venue says about one order, in core units."""

    venue: str
    venue_order_id: str
    market: str
    outcome: Outcome = field(converter=_to_outcome)
    side: Side = field(converter=_to_side)
    status: OrderStatus = field(converter=_to_status)
    quantity: Decimal = field(converter=to_decimal, validator=_positive)
    limit_price: Decimal = field(converter=to_decimal)
    filled_quantity: Decimal = field(default=ZERO, converter=to_decimal, validator=_non_negative)
    average_price: Decimal | None = field(default=None, converter=optional_decimal)
    fees: Decimal = field(default=ZERO, converter=to_decimal)
    fills: tuple[Fill, ...] = field(default=(), converter=_fill_tuple)
    client_order_id: str | None = None
    reason: str | None = None
    updated_at: datetime = field(factory=now_utc, converter=utc_datetime)

    @property
    def remaining(self) -> Decimal:
        return max(self.quantity - self.filled_quantity, ZERO)

    @property
    def is_final(self) -> bool:
        return self.status.is_final


@frozen(kw_only=True)
class PriceLevel:
    price: Decimal = field(converter=to_decimal, validator=_probability)
    size: Decimal = field(converter=to_decimal, validator=_positive)


def _levels(value: Any) -> tuple[PriceLevel, ...]:
    if type(value) is tuple and all(type(level) is PriceLevel for level in value):
        return value
    return tuple(
        level if isinstance(level, PriceLevel) else PriceLevel(price=level[0], size=level[1])
        for level in value
    )


@frozen(kw_only=True)
class OrderBook:
    """The YES book of a binary market: bids best (highest) first, asks best (lowest) first.

    The NO book is its mirror: a NO ask at q is a YES bid at 1 - q. Venues that publish
    both ladders are folded onto the YES book by their plugin.
    """

    venue: str
    market: str
    bids: tuple[PriceLevel, ...] = field(converter=_levels)
    asks: tuple[PriceLevel, ...] = field(converter=_levels)
    timestamp: datetime = field(factory=now_utc, converter=utc_datetime)
    tick_size: Decimal | None = field(default=None, converter=optional_decimal)

    def __attrs_post_init__(self) -> None:
        if any(a.price <= b.price for a, b in zip(self.bids, self.bids[1:], strict=False)):
            raise ValueError("bids must be strictly descending by price")
        if any(b.price <= a.price for a, b in zip(self.asks, self.asks[1:], strict=False)):
            raise ValueError("asks must be strictly ascending by price")

    def levels_to_take(self, outcome: Outcome, side: Side) -> tuple[PriceLevel, ...]:
        """The levels an order of (outcome, side) trades against, best first, in its own prices.

        Buying YES takes YES asks; buying NO takes YES bids seen as NO asks at 1 - p.
        """
        yes_side = side if outcome is Outcome.YES else side.other
        levels = self.asks if yes_side is Side.BUY else self.bids
        if outcome is Outcome.YES:
            return levels
        return tuple(PriceLevel(price=ONE - lv.price, size=lv.size) for lv in levels)

    def best_price(self, outcome: Outcome, side: Side) -> Decimal | None:
        """Best price an order of (outcome, side) could trade at now, or None if empty."""
        levels = self.levels_to_take(outcome, side)
        return levels[0].price if levels else None

    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / 2


@frozen(kw_only=True)
class Balance:
    """Cash on a venue, in dollars (or the venue's dollar-pegged collateral)."""

    venue: str
    total: Decimal = field(converter=to_decimal)
    available: Decimal = field(converter=to_decimal)
    currency: str = "USD"

    @property
    def reserved(self) -> Decimal:
        return self.total - self.available


@frozen(kw_only=True)
class Position:
    venue: str
    market: str
    outcome: Outcome = field(converter=_to_outcome)
    quantity: Decimal = field(converter=to_decimal)
    average_price: Decimal | None = field(default=None, converter=optional_decimal)
    realised_pnl: Decimal = field(default=ZERO, converter=to_decimal)


# ---------------------------------------------------------------------------- outcome


@frozen(kw_only=True)
class ExecutionResult:
    """The answer to one request: what happened, with what money, how fast.

    Carries everything earlier deployments reported (request id, key, status, reason, venue
    order id, filled quantity, average price, fees, venue, market, side, tags, timestamps,
    latency in milliseconds).
    """

    request_id: str
    idempotency_key: str
    status: OrderStatus = field(converter=_to_status)
    venue: str
    market: str
    outcome: Outcome | None = None
    side: Side | None = None
    quantity: Decimal | None = field(default=None, converter=optional_decimal)
    limit_price: Decimal | None = field(default=None, converter=optional_decimal)
    venue_order_id: str | None = None
    filled_quantity: Decimal = field(default=ZERO, converter=to_decimal)
    average_price: Decimal | None = field(default=None, converter=optional_decimal)
    fees: Decimal = field(default=ZERO, converter=to_decimal)
    reason_code: str | None = None
    reason: str | None = None
    tags: Mapping[str, Any] = field(factory=dict, converter=_tags, hash=False)
    requested_at: datetime | None = None
    acknowledged_at: datetime | None = None
    executed_at: datetime | None = None
    latency_ack_ms: float | None = None
    latency_final_ms: float | None = None
    duplicate: bool = False  # True when this answers a repeated idempotency key

    @property
    def notional(self) -> Decimal:
        if self.average_price is None:
            return ZERO
        return self.filled_quantity * self.average_price
