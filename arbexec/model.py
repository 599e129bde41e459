"""Value types of the money path.

Every type here is an attrs ``frozen`` value: it validates itself on construction, so a
malformed request cannot exist, let alone reach a venue. Money and prices are ``Decimal``;
prices are probabilities in (0, 1) and quantities are contracts. Venue units (cents, 1e-6
base units, fixed-point strings) are converted by the venue plugins, never here.
"""

from __future__ import annotations

import enum
import re
import unicodedata
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


#: What a decimal written as text may look like: ASCII digits only. ``Decimal`` itself also
#: takes Unicode digits (Arabic-Indic "0.5"), underscores ("1_000") and words ("Infinity").
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?",
                           re.ASCII)
#: Longest decimal written as text (digits, sign, point and exponent).
MAX_DECIMAL_CHARS = 100


def to_decimal(value: Any) -> Decimal:
    """Exact conversion to Decimal. Floats go through ``repr`` so 0.57 stays 0.57.

    Text must be an ASCII decimal literal of at most ``MAX_DECIMAL_CHARS`` characters.
    """
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
        text = value.strip()
        if len(text) > MAX_DECIMAL_CHARS:
            raise ValueError(f"a number of {len(text)} characters is not plausible (the limit "
                             f"is {MAX_DECIMAL_CHARS})")
        if not _DECIMAL_TEXT.fullmatch(text):
            raise ValueError(f"{_shown(value)} is not a number (write ASCII digits, e.g. 0.55)")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{_shown(value)} is not a number") from None
    else:
        raise TypeError(f"{type(value).__name__} is not a number")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


#: Unix seconds a timestamp given as a number may take: 1970 up to (not including) year 10000.
#: Past that, a number is milliseconds or nanoseconds by mistake, or no time at all.
MAX_UNIX_SECONDS = 253_402_300_800
_UNIX_UNITS = ((10**18, "nanoseconds"), (10**15, "microseconds"), (10**12, "milliseconds"))


def utc_datetime(value: Any) -> datetime:
    """Accept an aware datetime, an ISO-8601 string, or unix seconds; return aware UTC.

    Raises only ``ValueError`` or ``TypeError``, whatever the value (an infinite, huge or
    nanosecond number included), so a caller's one ``except`` covers every bad timestamp.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp needs a timezone (use UTC, e.g. 2026-11-22T12:00:00Z)")
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{value.isoformat()} is outside the range of dates") from None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int | float | Decimal):
        return _from_unix(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 64 or not text.isascii():
            raise ValueError(f"{_shown(value)} is not an ISO-8601 timestamp")
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{_shown(value)} is not an ISO-8601 timestamp") from None
        return utc_datetime(parsed)
    raise TypeError(f"{type(value).__name__} is not a timestamp")


def _from_unix(value: int | float | Decimal) -> datetime:
    try:
        seconds = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not a number of seconds") from None
    if not seconds.is_finite():
        raise ValueError(f"{value} is not a finite number of unix seconds")
    if not 0 <= seconds < MAX_UNIX_SECONDS:
        unit = next((name for size, name in _UNIX_UNITS
                     if size <= abs(seconds) < size * 1000), None)
        hint = f" (it looks like {unit}; give seconds)" if unit else ""
        raise ValueError(f"{seconds:.6g} is not unix seconds between 0 and "
                         f"{MAX_UNIX_SECONDS}{hint}")
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _shown(value: str) -> str:
    """A short, printable, journal-safe rendering of an untrusted string for messages."""
    shown = repr(value if len(value) <= 40 else value[:40] + "...")
    return shown.encode("ascii", "backslashreplace").decode("ascii")


#: Unicode categories never meaningful in text a request carries: controls (a terminal
#: escape, NUL), lone surrogates (not encodable as UTF-8, so the journal cannot store them)
#: and private or unassigned code points.
_BAD_CATEGORIES = {"Cc": "a control character", "Cs": "a lone surrogate (not valid Unicode)",
                   "Co": "a private-use character", "Cn": "an unassigned code point",
                   "Zl": "a line separator", "Zp": "a paragraph separator"}
#: Bidirectional embeddings, overrides and isolates: they rearrange the rest of a line on
#: screen (a result row, an audit line), so no text may hold them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Refused in identifiers as well: every invisible format character (zero-width spaces and
#: joiners), which make two different keys look alike. Free text (tags) may hold joiners,
#: as emoji and some scripts need them.
_BAD_IN_NAMES = {"Cf": "an invisible format character"}


def text_problem(text: str, *, identifier: bool = False) -> str | None:
    """Why ``text`` may not be stored or shown (journal, results, terminal), or None."""
    if text.isascii():
        if text.isprintable():
            return None
        bad = next(ch for ch in text if not ch.isprintable())
        return f"contains a control character ({bad!r} at position {text.index(bad) + 1})"
    for position, char in enumerate(text, start=1):
        category = unicodedata.category(char)
        what = _BAD_CATEGORIES.get(category) or (_BAD_IN_NAMES.get(category)
                                                 if identifier else None)
        if what is None and char in _BIDI_CONTROLS:
            what = "a bidirectional control character"
        if what is not None:
            return (f"contains {what} ({char.encode('ascii', 'backslashreplace').decode()} "
                    f"at position {position})")
    return None


def optional_datetime(value: Any) -> datetime | None:
    return None if value is None else utc_datetime(value)


def _tags(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError("tags must be a mapping of names to values")
    return dict(value)


#: Bounds on a request's free-form tags: they are journaled and shown with every result.
MAX_TAGS = 64
MAX_TAG_DEPTH = 4
MAX_TAG_TEXT = 1024


def _request_tags(_inst: object, attribute: Any, value: Mapping[str, Any]) -> None:
    validate_tags(value)


def validate_tags(value: Mapping[str, Any]) -> None:
    """Refuse tags that could not be journaled or shown: bounded size, depth and text."""
    if len(value) > MAX_TAGS:
        raise RequestError("tags", f"{len(value)} tags is more than the {MAX_TAGS} allowed")
    _tag_value(value, "tags", 0)


def _tag_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_TAG_DEPTH:
        raise RequestError(where, f"tags nest deeper than {MAX_TAG_DEPTH} levels")
    if isinstance(value, Mapping):
        if len(value) > MAX_TAGS:
            raise RequestError(where, f"holds {len(value)} entries; the limit is {MAX_TAGS}")
        for key, item in value.items():
            if not isinstance(key, str):
                raise RequestError(where, "tag names must be strings")
            _tag_text(key, f"{where}.<name>")
            _tag_value(item, f"{where}.{key}" if text_problem(key) is None else where,
                       depth + 1)
    elif isinstance(value, list | tuple):
        if len(value) > MAX_TAGS:
            raise RequestError(where, f"holds {len(value)} items; the limit is {MAX_TAGS}")
        for index, item in enumerate(value):
            _tag_value(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, str):
        _tag_text(value, where)
    elif isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > 30:
            raise RequestError(where, f"{value} is not a plausible number for a tag")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise RequestError(where, f"{value} is not a finite number")
    elif value is not None and not isinstance(value, bool | int):
        raise RequestError(where, f"a {type(value).__name__} cannot be a tag value; use text, "
                           "numbers, booleans, lists or objects")


def _tag_text(text: str, where: str) -> None:
    if len(text) > MAX_TAG_TEXT:
        raise RequestError(where, f"is {len(text)} characters long; the limit is "
                           f"{MAX_TAG_TEXT}")
    problem = text_problem(text)
    if problem is not None:
        raise RequestError(where, problem)


def now_utc() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------- validators


def _probability(_inst: object, attribute: Any, value: Decimal) -> None:
    if not ZERO < value < ONE:
        raise RequestError(
            attribute.name, f"{value} is outside (0, 1); prices are probabilities in dollars"
        )


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


def _optional_probability_precision(inst: object, attribute: Any,
                                    value: Decimal | None) -> None:
    if value is not None:
        _probability(inst, attribute, value)
        _plausible_precision(inst, attribute, value)


def _value_per_contract(inst: object, attribute: Any, value: Decimal | None) -> None:
    """A binary contract pays 0 or 1 dollar, so its estimated value lies in [0, 1]."""
    if value is None:
        return
    if not ZERO <= value <= ONE:
        raise RequestError(attribute.name, f"{value} is outside [0, 1]; it is the estimated "
                           "value of one contract, which pays at most 1 dollar")
    _plausible_precision(inst, attribute, value)


#: The longest a caller may ask ``run`` to follow one order (one day).
MAX_WAIT_SECONDS = 86400


def _optional_wait(_inst: object, attribute: Any, value: float | None) -> None:
    if value is None:
        return
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not 0 <= value <= MAX_WAIT_SECONDS):
        raise RequestError(attribute.name,
                           f"{value!r} must be seconds between 0 and {MAX_WAIT_SECONDS}")


#: Longest identifier (request id, key, venue, market).
MAX_IDENTIFIER = 256

#: The keys a pair derives for its own orders: ``<pair_id>:a``, ``:b`` and ``:unwind-<n>``.
#: A single request may not use one (it would be taken for that pair's leg).
_PAIR_ORDER_KEY = re.compile(r"(?P<pair>.+):(?:a|b|unwind-[0-9]+)", re.ASCII)


def pair_of_order_key(key: str) -> str | None:
    """The pair whose leg or unwind order ``key`` would name, or None for any other key."""
    found = _PAIR_ORDER_KEY.fullmatch(key)
    return None if found is None else found["pair"]


def _identifier(_inst: object, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RequestError(attribute.name, "must be a non-empty string")
    if len(value) > MAX_IDENTIFIER:
        raise RequestError(attribute.name, f"is longer than {MAX_IDENTIFIER} characters")
    problem = text_problem(value, identifier=True)
    if problem is not None:
        raise RequestError(attribute.name, problem)


def _aware(_inst: object, attribute: Any, value: datetime | None) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise RequestError(attribute.name, "must be a timestamp with a timezone")


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
        default=None, converter=optional_decimal, validator=_optional_probability_precision
    )
    expected_value: Decimal | None = field(default=None, converter=optional_decimal,
                                           validator=_value_per_contract)
    wait_budget: float | None = field(default=None, validator=_optional_wait)
    tags: Mapping[str, Any] = field(factory=dict, converter=_tags, validator=_request_tags,
                                    hash=False)
    requested_at: datetime = field(factory=now_utc, validator=_aware)

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
