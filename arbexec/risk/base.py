"""The risk-rule contract.

A rule looks at one request and a ``RiskContext`` and returns a ``Verdict``. Rules never do
I/O and never raise for a denial: everything a rule needs (a fresh book, the balance) is
fetched by the engine *before* the policy runs, as the rule declares in ``needs``. The
policy then runs synchronously, so the check and the exposure reservation that follows it
are atomic with respect to every other in-flight request of this engine; across engines the
ledger's ``try_reserve`` is the atomic step.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from attrs import field, frozen

from arbexec.events import Event
from arbexec.exchange import MarketRules
from arbexec.model import (
    Balance,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderStatus,
    Position,
)


class Need(enum.StrEnum):
    """Data a rule needs fetched before it runs."""

    BOOK = "book"
    BALANCE = "balance"
    POSITIONS = "positions"
    MARKET_RULES = "market_rules"


class ClaimKind(enum.StrEnum):
    """How a reservation ends when its order reaches a final state.

    ``EXPOSURE`` becomes standing exposure (the money the fills put at risk); ``HOLD`` is
    given back (an open-order slot, cash promised to a resting order, contracts promised to
    a sell); ``WINDOW`` stays counted until ``window_seconds`` after it was reserved (an
    order sent counts in the rate window even after it ended).
    """

    EXPOSURE = "exposure"
    HOLD = "hold"
    WINDOW = "window"


@frozen(kw_only=True)
class Claim:
    """A request for headroom: ``amount`` more under ``key``, which may hold ``limit``.

    Exposure keys name scopes: ``total``, ``venue:<v>``, ``event:<v>:<e>``,
    ``market:<v>:<m>``, or a rule's own (``strategy:<name>``). Counting and spending rules
    claim their own keys (``open_orders:...``, ``rate:...``, ``cash:<v>``,
    ``position:<v>:<m>:<outcome>``). The ledger grants all claims of a request or none, in
    the same step as the decision, so no burst can pass a limit between check and send.
    Claims of one request on one key state the same money: the ledger counts the largest.
    """

    key: str
    amount: Decimal
    limit: Decimal
    rule: str
    code: str
    kind: ClaimKind = ClaimKind.EXPOSURE
    window_seconds: float = 0.0


@frozen(kw_only=True)
class Verdict:
    """One rule's answer. ``figures`` states the numbers behind it (limit, actual, ...)."""

    rule: str
    allowed: bool
    code: str | None = None
    message: str = ""
    figures: Mapping[str, str] = field(factory=dict, hash=False)
    claims: tuple[Claim, ...] = ()

    @classmethod
    def allow(cls, rule: str, message: str = "", **figures: Any) -> Verdict:
        return cls(rule=rule, allowed=True, message=message,
                   figures={k: str(v) for k, v in figures.items()})

    @classmethod
    def deny(cls, rule: str, code: str, message: str, **figures: Any) -> Verdict:
        return cls(rule=rule, allowed=False, code=code, message=message,
                   figures={k: str(v) for k, v in figures.items()})


@frozen(kw_only=True)
class VenueHealth:
    """Recent outcomes on one venue, kept by the engine for breakers and rate limits."""

    consecutive_failures: int = 0
    recent_outcomes: int = 0  # in the breaker window
    recent_rejects: int = 0
    unknown_count: int = 0
    orders_last_second: int = 0
    orders_last_minute: int = 0


@frozen(kw_only=True)
class RiskContext:
    """Everything a rule may look at. Fields a rule did not ask for may be ``None``."""

    now: datetime
    venue: str
    market_rules: MarketRules | None = None
    book: OrderBook | None = None
    balance: Balance | None = None
    positions: tuple[Position, ...] = ()
    exposure: Callable[[str], Decimal] = field(eq=False)
    reserved_on_venue: Decimal = Decimal(0)  # cash held by this engine's resting buys
    open_orders_market: int = 0
    open_orders_total: int = 0
    health: VenueHealth = field(factory=VenueHealth)
    daily_realised_pnl: Decimal = Decimal(0)
    halted: bool = False
    fee: Callable[[str, Decimal, Decimal, Liquidity], Decimal] | None = field(
        default=None, eq=False
    )
    event: str | None = None

    @property
    def book_age_seconds(self) -> float | None:
        if self.book is None:
            return None
        return (self.now - self.book.timestamp).total_seconds()


@runtime_checkable
class RiskRule(Protocol):
    """A rule built by a ``RiskRuleSpec`` factory from its policy parameters."""

    name: str
    needs: frozenset[Need]

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict: ...


@runtime_checkable
class OutcomeObserver(Protocol):
    """Optional for rules with memory (circuit breaker, loss limits, rate limits).

    The engine calls ``observe`` for every order outcome it learns (after each venue answer,
    each final state, each UNKNOWN) and emits the returned events to the journal and sinks,
    so every state transition of a rule is recorded. ``observe`` must not do I/O.
    """

    def observe(self, outcome: OrderOutcome, now: datetime) -> Sequence[Event]: ...


@frozen(kw_only=True)
class OrderOutcome:
    """What the engine tells observing rules about one order."""

    venue: str
    market: str
    request: OrderRequest | None
    status: OrderStatus
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    fees: Decimal = Decimal(0)
    realised_pnl: Decimal = Decimal(0)
    failure: bool = False  # a venue failure (transport, 5xx, UNKNOWN), not a business reject


#: Request tags the risk layer reads. ``allow_open``: a sell may go beyond the position
#: held and open the opposite outcome (charged at 1 - p per contract opened).
#: ``risk_reducing``: the order only reduces risk (an arbitrage unwind, or a manual order
#: marked so) and may pass a halt; ``reduce_only`` (the venue-side flag) implies it.
ALLOW_OPEN_TAG = "allow_open"
RISK_REDUCING_TAG = "risk_reducing"
REDUCE_ONLY_TAG = "reduce_only"
#: ``pair_inverted``: a leg of an arbitrage pair on two markets whose YES and NO are
#: swapped, so both legs buy the same outcome
PAIR_INVERTED_TAG = "pair_inverted"

_TRUE = frozenset({True, "true", "True", "1", "yes"})


def tag_is_set(request: OrderRequest, name: str) -> bool:
    """A boolean tag: true, "true", "1" or "yes" (tags from JSON lines arrive as strings)."""
    value = request.tags.get(name)
    return isinstance(value, bool | int | str) and value in _TRUE


def allows_open(request: OrderRequest) -> bool:
    """The request explicitly allows a sell beyond the position held (tag ``allow_open``)."""
    return tag_is_set(request, ALLOW_OPEN_TAG)


def risk_reducing(request: OrderRequest) -> str | None:
    """Why the request may pass a halt, or None: a halt stops new risk, never its reduction.

    An order tagged ``risk_reducing`` (arbitrage unwinds carry ``unwind`` as the reason) or
    ``reduce_only`` (a sell the venue itself cannot let open a position) qualifies; a
    ``reduce_only`` buy does not (buying never reduces a long-only book).
    """
    value = request.tags.get(RISK_REDUCING_TAG)
    if isinstance(value, bool | int | str) and value not in (False, "false", "0", ""):
        return "marked risk-reducing" if value in _TRUE else str(value)
    if tag_is_set(request, REDUCE_ONLY_TAG) and request.side.value == "SELL":
        return "reduce-only sell"
    return None


def money_at_risk(request: OrderRequest, opening: Decimal | None = None) -> Decimal:
    """Money a request can lose on a binary payoff: a buy at p risks quantity x p.

    A sell closes contracts already held and adds no new risk (the ledger learns the
    reduction from fills); the part of a sell beyond the position held, ``opening``, is a
    position in the opposite outcome bought at 1 - p.
    """
    if request.side.value == "BUY":
        return request.quantity * request.limit_price
    return (opening or Decimal(0)) * (Decimal(1) - request.limit_price)
