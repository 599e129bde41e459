"""What the built-in rules share: construction from parameters, a spec, cheap verdicts.

Every check runs on every order, so a rule precomputes what it can when it is built and
answers "allowed" with one shared ``Verdict`` object; only denials pay for a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Generic, Self, TypeVar

from attrs import frozen

from arbexec.events import Event
from arbexec.model import Liquidity, OrderRequest, Side
from arbexec.risk.base import (
    Claim,
    ClaimKind,
    Need,
    RiskContext,
    Verdict,
    allows_open,
    money_at_risk,
)
from arbexec.risk.rules.params import describe_params, parse_params
from arbexec.specs import RiskRuleSpec

P = TypeVar("P")

BUY = Side.BUY
ONE = Decimal(1)
ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class ParamRule(Generic[P]):
    """A rule built from a typed parameter class ``Params``."""

    name: str
    Params: ClassVar[type]
    __slots__ = ("_ok", "needs", "params")

    def __init__(self, params: P) -> None:
        self.params = params
        self.needs: frozenset[Need] = self.needs_for(params)
        self._ok = Verdict(rule=self.name, allowed=True)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        """The ``RiskRuleSpec`` factory: raises ``ParameterError`` naming a bad parameter."""
        return cls(parse_params(cls.Params, params))

    @classmethod
    def spec(cls) -> RiskRuleSpec:
        summary = (cls.__doc__ or "").strip().split("\n\n")[0]
        return RiskRuleSpec(
            name=cls.name,
            factory=cls.from_params,
            description=" ".join(summary.split()),
            parameters=describe_params(cls.Params),
        )

    def needs_for(self, params: P) -> frozenset[Need]:
        return frozenset()

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        raise NotImplementedError

    def deny(self, code: str, message: str, **figures: Any) -> Verdict:
        return Verdict.deny(self.name, code, message, **figures)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.params!r}>"


class EventQueue:
    """For rules whose ``check`` changes state: the events wait for the next ``observe``.

    ``check`` cannot return events, yet every transition must be journaled; the queue is
    flushed by the next ``observe`` call (or by ``Policy.drain_events``), in order, each
    event stamped with the time the transition happened.
    """

    __slots__ = ()
    _pending: list[Event]

    def drain_events(self) -> list[Event]:
        events = self._pending[:]
        self._pending.clear()
        return events


def event_of(ctx: RiskContext) -> str | None:
    """The market's event: from the context, else from the venue's market rules."""
    if ctx.event is not None:
        return ctx.event
    rules = ctx.market_rules
    return rules.event if rules is not None else None


def liquidity_of(request: OrderRequest) -> Liquidity:
    """Post-only orders pay maker fees; anything else may cross and pays taker fees."""
    return Liquidity.MAKER if request.post_only else Liquidity.TAKER


def expected_fee(request: OrderRequest, ctx: RiskContext) -> Decimal:
    fee = ctx.fee
    if fee is None:
        return ZERO
    return fee(request.market, request.limit_price, request.quantity, liquidity_of(request))


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """``part`` as a percentage of ``whole``, to two places (for messages only)."""
    return (part * HUNDRED / whole).quantize(CENT)


def flush(queue: list[Event], events: Sequence[Event]) -> list[Event]:
    """Queued events first, then ``events``; empties the queue."""
    if not queue:
        return list(events)
    out = [*queue, *events]
    queue.clear()
    return out


@frozen
class SellSplit:
    """A sell divided into the contracts it closes and those it would open.

    ``held`` is the position of the request's outcome on its venue (the venue's word, from
    ``ctx.positions``) less what this engine's other sells already promise (the ledger's
    ``position:`` hold), so concurrent sells cannot together close more than is held.
    """

    held: Decimal
    closing: Decimal
    opening: Decimal
    claim: Claim


def position_key(request: OrderRequest) -> str:
    return f"position:{request.venue}:{request.market}:{request.outcome.value}"


def split_sell(request: OrderRequest, ctx: RiskContext, rule: str) -> SellSplit:
    """How much of a sell closes contracts held and how much would open new ones."""
    key = position_key(request)
    position = sum(
        (p.quantity for p in ctx.positions
         if p.market == request.market and p.outcome is request.outcome
         and p.venue in (request.venue, "")),
        ZERO,
    )
    held = max(position - ctx.exposure(key), ZERO)
    closing = min(request.quantity, held)
    claim = Claim(key=key, amount=closing, limit=max(position, ZERO), rule=rule,
                  code="sell_exceeds_position", kind=ClaimKind.HOLD)
    return SellSplit(held=held, closing=closing, opening=request.quantity - closing, claim=claim)


def refuse_opening(rule: ParamRule[Any], request: OrderRequest, split: SellSplit) -> Verdict | None:
    """The denial for a sell beyond the position, unless the request allows opening."""
    if split.opening <= ZERO or allows_open(request):
        return None
    return rule.deny(
        "sell_exceeds_position",
        f"the sell of {request.quantity} {request.outcome.value} on {request.venue} "
        f"{request.market} exceeds the {split.held} held (and not promised to other sells); "
        f"it would open {split.opening} {request.outcome.other.value} contracts; tag it "
        "allow_open=true to open deliberately",
        limit=split.held, actual=request.quantity, opening=split.opening,
    )


def money_and_claims(
    rule: ParamRule[Any], request: OrderRequest, ctx: RiskContext
) -> tuple[Decimal, list[Claim]] | Verdict:
    """The money a request puts at risk and the position hold a sell claims, or the
    verdict when that settles it: a sell beyond the position refused, or a sell that only
    closes held contracts (no new money at risk) allowed with its hold."""
    if request.side is Side.BUY:
        return request.quantity * request.limit_price, []
    split = split_sell(request, ctx, rule.name)
    refused = refuse_opening(rule, request, split)
    if refused is not None:
        return refused
    amount = money_at_risk(request, split.opening)
    if amount <= ZERO:
        return Verdict(rule=rule.name, allowed=True, claims=(split.claim,))
    return amount, [split.claim]
