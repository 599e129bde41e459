"""Admission: whether a request may be sent, decided before anything leaves.

In this order, each step before any that could change state: dedupe (a key already in the
journal answers with its order, before the ledger is touched), route (the venue exists),
capability (the venue can do what the request asks), halt, risk context, policy, and last
the exposure reservation. The answer is ``Admitted`` or a ``Denied`` with a coded reason;
a duplicate answers with the journal's row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from arbexec.engine.accounting import Accounting
from arbexec.engine.live import LiveOrders
from arbexec.engine.policy import ALLOW, OpenPolicy, PolicyDecisionLike, PolicyLike
from arbexec.engine.recorder import Recorder
from arbexec.engine.settings import EngineSettings
from arbexec.errors import ExchangeError
from arbexec.events import Event
from arbexec.exchange import Exchange, MarketRules, current_book
from arbexec.halt import HaltFlag
from arbexec.health import HealthBook
from arbexec.journal import Journal, JournalRow
from arbexec.ledger import ExposureLedger, LedgerUnavailable
from arbexec.model import OrderRequest, OrderStatus, Side
from arbexec.risk.base import Claim, ClaimKind, Need, RiskContext, risk_reducing

log = logging.getLogger("arbexec.engine")

#: The breaker's in-flight hold is full: admission waits for an outcome before denying.
IN_FLIGHT_FULL = "breaker_in_flight"

#: Event journaled when a risk-reducing order passes a halt (its data says why).
HALT_PASSED = "risk.halt_passed"


@frozen
class Denied:
    code: str
    message: str
    rule: str | None = None
    figures: Mapping[str, str] = field(factory=dict)


@frozen
class Admitted:
    exchange: Exchange
    reserved: bool  # the ledger holds claims for it (to give back if it is not sent)
    #: contracts of a sell beyond the position it was judged against (``allow_open``),
    #: journaled with the send so a restart restores the (1 - p) part it holds
    opening: Decimal = Decimal(0)


@frozen
class Duplicate:
    row: JournalRow


@frozen(kw_only=True)
class Explanation:
    """``arbexec risk explain`` for one request: every rule's verdict, nothing changed."""

    allowed: bool
    verdicts: tuple[dict[str, Any], ...]
    claims: tuple[dict[str, Any], ...] = ()


def breach_message(claim: Claim, current: Decimal) -> str:
    """The ledger's refusal in the words of what was claimed: money at risk, a slot held
    (open orders, cash, contracts, sends in flight) or a count in a rate window."""
    after, limit = current + claim.amount, claim.limit
    if claim.kind is ClaimKind.EXPOSURE:
        return f"{claim.key} exposure would be {after} against a limit of {limit}"
    if claim.kind is ClaimKind.WINDOW:
        return (f"{claim.key} would count {after} in its {claim.window_seconds:g}s window "
                f"against a limit of {limit}")
    return f"{claim.key} would hold {after} against a limit of {limit}"


def opening_of(request: OrderRequest, claims: Sequence[Claim]) -> Decimal:
    """The contracts a sell opens beyond the ones its position hold says it closes (zero
    for buys, and for sells no money rule judged)."""
    if request.side is not Side.SELL:
        return Decimal(0)
    key = f"position:{request.venue}:{request.market}:{request.outcome.value}"
    closing = [claim.amount for claim in claims if claim.key == key]
    return request.quantity - max(closing) if closing else Decimal(0)


def capability_denial(request: OrderRequest, exchange: Exchange) -> Denied | None:
    """What the venue declares it cannot do is refused here, never sent to be guessed at."""
    caps = exchange.capabilities
    if request.time_in_force not in caps.time_in_force:
        offered = ", ".join(sorted(tif.value for tif in caps.time_in_force)) or "none"
        return Denied("unsupported_time_in_force",
                      f"venue {request.venue!r} does not support time in force "
                      f"{request.time_in_force.value} (it offers: {offered})", rule="venue")
    if request.post_only and not caps.post_only:
        return Denied("unsupported_post_only",
                      f"venue {request.venue!r} does not support post-only orders",
                      rule="venue")
    return None


@frozen
class Admission:
    journal: Journal
    venues: Mapping[str, Exchange]
    halt: HaltFlag
    policy: Callable[[], PolicyLike]  # read per request: tests and tools may swap it
    ledger: ExposureLedger
    live: LiveOrders
    accounting: Accounting
    health: HealthBook
    recorder: Recorder
    settings: EngineSettings
    clock: Callable[[], datetime]

    async def admit(self, request: OrderRequest) -> Admitted | Denied | Duplicate:
        policy = self.policy()
        open_policy = type(policy) is OpenPolicy
        # Dedupe first. Without rules nothing below changes any state (no claims, no rule
        # memory, no reads), so the write-ahead intent's UNIQUE key settles it for free.
        if not open_policy:
            status = self.journal.status_of(request.idempotency_key)
            if status is not None and status is not OrderStatus.DENIED:
                row = self.journal.get(request.idempotency_key)
                assert row is not None
                return Duplicate(row)
        exchange = self.venues.get(request.venue)
        if exchange is None:
            configured = ", ".join(sorted(self.venues)) or "none"
            return Denied("unknown_venue", f"venue {request.venue!r} is not configured; "
                          f"configured venues: {configured}")
        refused = capability_denial(request, exchange)
        if refused is not None:
            return refused
        halt = self.halt.current()
        if halt.halted:
            why = risk_reducing(request)
            if why is None:
                return Denied("halted", f"trading is halted ({halt.reason or 'no reason given'}); "
                              "lift it with `arbexec resume`")
            # a halt stops new risk, never its reduction: journaled so the audit shows why
            self.recorder.events([Event(kind=HALT_PASSED, request_id=request.request_id,
                                        data={"reason": why, "halt": halt.reason or ""})],
                                 request.idempotency_key)
        deadline = time.monotonic() + self.settings.in_flight_wait
        while True:
            freed = self.accounting.freed.wait()  # taken before deciding: no wake is missed
            answer = await self._decide(request, exchange, halted=halt.halted)
            if not (isinstance(answer, Denied) and answer.code == IN_FLIGHT_FULL):
                freed.cancel()
                return answer
            left = deadline - time.monotonic()
            if left <= 0:
                return answer
            # the venue's health is unknown or failing and its in-flight slots are taken:
            # wait for an outcome (which may open the breaker) rather than deny at once
            try:
                await asyncio.wait_for(freed, left)
            except TimeoutError:
                return answer

    async def _decide(self, request: OrderRequest, exchange: Exchange, *,
                      halted: bool) -> Admitted | Denied:
        """The policy's verdict and the ledger's reservation, in one step of the loop."""
        policy = self.policy()
        if type(policy) is OpenPolicy:  # no rules: nothing would read a context
            decision: PolicyDecisionLike = ALLOW
        else:
            try:
                ctx, _rules = await self.risk_context(request, exchange,
                                                      halted=halted)
            except Exception as exc:  # a venue error, or a plugin bug: nothing was sent
                if not isinstance(exc, ExchangeError):
                    log.exception("venue %s failed a read for the risk policy", request.venue)
                return Denied("risk_data_unavailable", f"could not fetch what the risk policy "
                              f"needs from {request.venue}: {exc}")
            decision = policy.evaluate(request, ctx)
            self.recorder.events(policy.drain_events())
        if not decision.allowed:
            verdict = decision.verdict
            if verdict is None:
                return Denied("risk", "denied by the risk policy")
            return Denied(verdict.code or "risk", verdict.message, rule=verdict.rule,
                          figures=dict(verdict.figures))
        reserved = bool(decision.claims)
        if reserved:
            try:
                breached = await self.ledger.try_reserve(request.idempotency_key,
                                                         decision.claims)
            except LedgerUnavailable as exc:  # a shared ledger's store is away
                policy.release(request)
                return Denied("ledger_unavailable", f"{exc}; nothing was sent")
            if breached is not None:
                policy.release(request)
                current = await self.ledger.exposure(breached.key)
                return Denied(
                    breached.code, breach_message(breached, current),
                    rule=breached.rule, figures={"limit": str(breached.limit),
                                                 "current": str(current),
                                                 "order": str(breached.amount)})
        return Admitted(exchange, reserved, opening_of(request, decision.claims))

    async def undo(self, request: OrderRequest) -> None:
        """An admitted request will not be sent: its reservation and whatever rules set
        aside for it (a breaker's probe slot) are given back."""
        self.policy().release(request)
        await self.accounting.release(request.idempotency_key)

    async def risk_context(
        self, request: OrderRequest, exchange: Exchange, *, halted: bool = False
    ) -> tuple[RiskContext, MarketRules | None]:
        """What the policy sees for this request: fetched as its rules declare, plus the
        engine's own counts (exposure, open orders, venue health, today's P&L)."""
        needs = self.policy().needs
        rules = book = balance = None
        positions: tuple[Any, ...] = ()
        if needs:
            if Need.MARKET_RULES in needs or Need.BOOK in needs:
                rules = await exchange.market_rules(request.market)  # cached by the plugin
            wanted: dict[str, Any] = {}
            if Need.BOOK in needs:
                wanted["book"] = current_book(exchange, request.market,
                                              max_age=self.settings.max_book_age)
            if Need.BALANCE in needs:
                wanted["balance"] = exchange.fetch_balance()
            if Need.POSITIONS in needs:
                wanted["positions"] = exchange.fetch_positions()
            if len(wanted) == 1:  # one read: no tasks needed
                [(name, call)] = wanted.items()
                got = {name: await call}
            else:  # several reads go out together
                got = dict(zip(wanted, await asyncio.gather(*wanted.values()), strict=True))
            book, balance = got.get("book"), got.get("balance")
            positions = tuple(got.get("positions") or ())
        event = self.accounting.event_of(request.venue, request.market)
        if event is None and rules is not None and rules.event is not None:
            event = rules.event
            self.accounting.learn_event(request.venue, request.market, event)
        ctx = RiskContext(
            now=self.clock(),
            venue=request.venue,
            market_rules=rules,
            book=book,
            balance=balance,
            positions=positions,
            exposure=self.ledger.exposure_now,
            reserved_on_venue=self.live.reserved_on(request.venue),
            open_orders_market=self.live.open_in_market(request.venue, request.market),
            open_orders_total=len(self.live),
            health=self.health.of(request.venue).snapshot(
                self.health.clock(), self.settings.breaker_window),
            daily_realised_pnl=self.accounting.today_pnl(),
            halted=halted,
            fee=exchange.fee,
            event=event,
        )
        return ctx, rules

    async def explain(self, request: OrderRequest) -> Explanation:
        """Every rule's verdict and figures for a request, sending and changing nothing."""
        exchange = self.venues.get(request.venue)
        refused: Denied | None
        if exchange is None:
            refused = Denied("unknown_venue", f"venue {request.venue!r} is not configured",
                             rule="routing")
        else:
            refused = capability_denial(request, exchange)
        if refused is not None or exchange is None:
            assert refused is not None
            return Explanation(allowed=False, verdicts=({
                "rule": refused.rule or "routing", "allowed": False, "code": refused.code,
                "message": refused.message, "figures": {}},))
        ctx, _ = await self.risk_context(request, exchange)
        decision = self.policy().explain(request, ctx)
        return Explanation(
            allowed=decision.allowed,
            verdicts=tuple({"rule": v.rule, "allowed": v.allowed, "code": v.code,
                            "message": v.message, "figures": dict(v.figures)}
                           for v in decision.verdicts),
            claims=tuple({"key": c.key, "amount": c.amount, "limit": c.limit}
                         for c in decision.claims),
        )
