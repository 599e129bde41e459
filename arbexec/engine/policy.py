"""What the engine asks of a risk policy, and the policy with no rules.

``arbexec.risk.policy.Policy`` is the real one; anything with these members can stand in
(the engine calls nothing else on a policy, and never looks for optional methods). The
arbitrage executor asks a little more, ``PairPolicyLike``: the pair check, the unwind
bound in force and a venue's breaker state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from attrs import frozen

from arbexec.events import Event
from arbexec.model import OrderRequest
from arbexec.risk.base import Claim, Need, OutcomeObserver, RiskContext, Verdict


class PolicyDecisionLike(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def verdict(self) -> Verdict | None: ...

    @property
    def verdicts(self) -> Sequence[Verdict]: ...

    @property
    def claims(self) -> Sequence[Claim]: ...


@runtime_checkable
class PolicyLike(Protocol):
    @property
    def needs(self) -> frozenset[Need]:
        """What the engine must fetch into the context before ``evaluate``."""
        ...

    @property
    def observers(self) -> Sequence[OutcomeObserver]:
        """Rules told of every order outcome."""
        ...

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> PolicyDecisionLike:
        """Decide one request (rules may change state: a breaker's probe slot)."""
        ...

    def explain(self, request: OrderRequest, ctx: RiskContext) -> PolicyDecisionLike:
        """Every rule's verdict without changing any rule's state (``risk explain``)."""
        ...

    def release(self, request: OrderRequest) -> None:
        """An allowed request was not sent after all: undo what rules set aside for it."""
        ...

    def drain_events(self) -> Sequence[Event]:
        """Transitions rules made while checking, to be journaled and emitted."""
        ...

    def restore(self, read: Callable[..., Sequence[Event]]) -> None:
        """At start: rules with memory that must outlive the process (an open breaker, the
        last minute's sends) rebuild it from the journal's events of the kinds they ask
        ``read(kinds, within=None)`` for (``within``: only the last so many seconds)."""
        ...


@runtime_checkable
class PairPolicyLike(PolicyLike, Protocol):
    """A policy the arbitrage executor can run pairs under (the real ``Policy`` and
    ``OpenPolicy`` are): everything the executor asks of a policy, and nothing else."""

    def check_pair(self, first: OrderRequest, second: OrderRequest, first_ctx: RiskContext,
                   second_ctx: RiskContext) -> Verdict:
        """Both legs of a pair together (the ``min_edge`` rule: the edge their limits lock
        in after fees); the first denial, or an allowing verdict."""
        ...

    def unwind_bound(self) -> Decimal | None:
        """The ``max_unwind_loss`` for pairs that name none (an ``unwind_bound`` rule), or
        None when the policy sets none."""
        ...

    def breaker_state(self, venue: str) -> str:
        """``closed``, ``open`` or ``half_open``: a pair is refused unless both venues'
        breakers are closed (``closed`` when the policy has no breaker)."""
        ...


PAIR_ALLOWED = Verdict(rule="pair", allowed=True)


@frozen
class Allow:
    allowed: bool = True
    verdict: Verdict | None = None
    verdicts: tuple[Verdict, ...] = ()
    claims: tuple[Claim, ...] = ()


ALLOW = Allow()


@frozen
class OpenPolicy:
    """No rules: everything valid is allowed (only for tests and explicit opt-in)."""

    needs: frozenset[Need] = frozenset()
    observers: tuple[OutcomeObserver, ...] = ()

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> PolicyDecisionLike:
        return ALLOW

    def explain(self, request: OrderRequest, ctx: RiskContext) -> PolicyDecisionLike:
        return ALLOW

    def release(self, request: OrderRequest) -> None:
        return None

    def drain_events(self) -> Sequence[Event]:
        return ()

    def restore(self, read: Callable[..., Sequence[Event]]) -> None:
        return None

    def check_pair(self, first: OrderRequest, second: OrderRequest, first_ctx: RiskContext,
                   second_ctx: RiskContext) -> Verdict:
        return PAIR_ALLOWED

    def unwind_bound(self) -> Decimal | None:
        return None

    def breaker_state(self, venue: str) -> str:
        return "closed"
