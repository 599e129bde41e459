"""A circuit breaker per venue: stop sending to a venue that keeps failing.

CLOSED: orders pass. It OPENS after N consecutive venue failures (transport errors, 5xx,
UNKNOWN), a reject rate above a bound over a sliding window, or more unresolved UNKNOWN
orders than a threshold. OPEN: orders are refused for a cool-down. Then HALF_OPEN: exactly
one probe order passes; its outcome CLOSES the breaker (success) or OPENS it again
(failure or reject). Every transition is an ``Event`` of kind ``risk.breaker``. Time comes
only from the injected ``now``, so behaviour is deterministic.
"""

# ruff: noqa: RUF009  (the parameter helpers return attrs fields, evaluated once)

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from attrs import define, field, frozen

from arbexec.events import Event
from arbexec.model import OrderRequest, OrderStatus
from arbexec.risk.base import Claim, ClaimKind, OrderOutcome, RiskContext, Verdict
from arbexec.risk.rules.common import EventQueue, ParamRule, flush
from arbexec.risk.rules.params import count, fraction, require_any, seconds

EVENT_KIND = "risk.breaker"
_REMEMBERED_REQUESTS = 10_000  # request ids remembered so one order counts once in the window
_ANSWERED = frozenset({
    OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED,
    OrderStatus.CANCELLED, OrderStatus.EXPIRED,
})


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@frozen(kw_only=True)
class CircuitBreakerParams:
    consecutive_failures: int | None = count("opens after this many venue failures in a row")
    max_reject_rate: Decimal | None = fraction(
        "opens when the share of rejected orders in the window exceeds this (0.5 = half)"
    )
    window_seconds: timedelta = seconds("length of the reject-rate window, in seconds", 60.0)
    min_orders: int = count("orders the window must hold before the reject rate counts", 10)
    max_unknown: int | None = count(
        "opens when more orders than this are UNKNOWN (unresolved) on the venue",
        allow_zero=True,
    )
    cooldown_seconds: timedelta = seconds(
        "how long the breaker stays open before one probe order may pass, in seconds", 60.0
    )  # 60 s: a venue that failed five times in a row is rarely back within half a minute

    def __attrs_post_init__(self) -> None:
        require_any(self, "consecutive_failures", "max_reject_rate", "max_unknown")


@define
class VenueBreaker:
    """The breaker's memory of one venue."""

    state: BreakerState = BreakerState.CLOSED
    opened_at: datetime | None = None
    reason: str = ""
    probe_id: str | None = None
    probe_at: datetime | None = None
    failures_in_row: int = 0
    window: deque[tuple[datetime, bool]] = field(factory=deque)  # (when, rejected)
    window_rejects: int = 0
    unknown: set[str] = field(factory=set)
    healthy: bool = False  # the venue has answered since the process started or failed
    counted: OrderedDict[str, None] = field(factory=OrderedDict)

    def forget_window(self) -> None:
        self.window.clear()
        self.window_rejects = 0
        self.failures_in_row = 0


class CircuitBreaker(EventQueue, ParamRule[CircuitBreakerParams]):
    """Stops orders to a venue after repeated failures, a high reject rate or too many
    UNKNOWN orders; re-opens to one probe order after a cool-down."""

    name = "circuit_breaker"
    Params = CircuitBreakerParams
    __slots__ = ("_cooldown", "_pending", "_venues")

    def __init__(self, params: CircuitBreakerParams) -> None:
        super().__init__(params)
        self._cooldown = params.cooldown_seconds
        self._venues: dict[str, VenueBreaker] = {}
        self._pending: list[Event] = []

    def state(self, venue: str) -> BreakerState:
        breaker = self._venues.get(venue)
        return breaker.state if breaker is not None else BreakerState.CLOSED

    # ------------------------------------------------------------------ checking

    def check(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        breaker = self._venues.get(request.venue)
        if breaker is None:
            breaker = self._venues[request.venue] = VenueBreaker()
        if breaker.state is BreakerState.CLOSED:
            return self._closed(breaker, request)
        return self._decide(breaker, request, ctx.now, commit=True)

    def preview(self, request: OrderRequest, ctx: RiskContext) -> Verdict:
        """The verdict ``check`` would give, without letting a probe through."""
        breaker = self._venues.get(request.venue) or VenueBreaker()
        if breaker.state is BreakerState.CLOSED:
            return self._closed(breaker, request)
        return self._decide(breaker, request, ctx.now, commit=False)

    def in_flight_cap(self) -> int:
        """Sends allowed in flight to a failing venue: the failures that open the breaker
        (else one more than the UNKNOWN orders it tolerates, else one)."""
        p = self.params
        if p.consecutive_failures is not None:
            return p.consecutive_failures
        return p.max_unknown + 1 if p.max_unknown is not None else 1

    def _closed(self, breaker: VenueBreaker, request: OrderRequest) -> Verdict:
        """Closed but of unknown health (no answer yet since start) or failing (a failure in
        a row, or orders UNKNOWN): each send holds an ``in_flight:<venue>`` slot, so a burst
        cannot send more than the breaker's threshold before the outcomes that would open it
        arrive (the engine waits for a slot rather than denying at once)."""
        if breaker.healthy and not breaker.failures_in_row and not breaker.unknown:
            return self._ok
        # failures already counted take their slots: in flight plus failures in a row never
        # pass the threshold, so the sends of a burst stop where the breaker would open
        room = max(self.in_flight_cap() - breaker.failures_in_row, 1)
        claim = Claim(key=f"in_flight:{request.venue}", amount=Decimal(1),
                      limit=Decimal(room), rule=self.name,
                      code="breaker_in_flight", kind=ClaimKind.HOLD)
        return Verdict(rule=self.name, allowed=True, claims=(claim,))

    def release(self, request: OrderRequest) -> None:
        """The request was not sent after all (a later rule or the ledger refused it)."""
        breaker = self._venues.get(request.venue)
        if breaker is not None and breaker.probe_id == request.request_id:
            breaker.probe_id = None

    def _decide(
        self, breaker: VenueBreaker, request: OrderRequest, now: datetime, *, commit: bool
    ) -> Verdict:
        venue = request.venue
        if breaker.state is BreakerState.OPEN:
            assert breaker.opened_at is not None
            waited = now - breaker.opened_at
            if waited < self._cooldown:
                return self.deny(
                    "breaker_open",
                    f"the circuit breaker for {venue} is open ({breaker.reason}); "
                    f"retry in {(self._cooldown - waited).total_seconds():g}s",
                    reason=breaker.reason, opened_at=breaker.opened_at.isoformat(),
                    retry_in_seconds=(self._cooldown - waited).total_seconds(),
                )
            if commit:
                self._move(
                    breaker, venue, BreakerState.HALF_OPEN,
                    f"cool-down of {self._cooldown.total_seconds():g}s elapsed; one probe order "
                    "may pass", now, request.request_id,
                )
        elif breaker.probe_id is not None and now - breaker.probe_at < self._cooldown:  # type: ignore[operator]
            return self.deny(
                "breaker_half_open",
                f"the circuit breaker for {venue} is half-open and its probe order "
                f"{breaker.probe_id} has not finished",
                probe=breaker.probe_id,
            )
        if commit:
            breaker.probe_id, breaker.probe_at = request.request_id, now
        return Verdict(rule=self.name, allowed=True, message=f"probe order for {venue}")

    # ------------------------------------------------------------------ restart

    def restore_state(self, read: Callable[[Sequence[str]], Sequence[Event]]) -> None:
        """Replay the journal's ``risk.breaker`` transitions: a breaker open when the last
        process stopped is open in this one, its cool-down counted from when it opened (a
        restart must not close it). A half-open breaker's probe did not survive: it is
        open again, so the next order after the cool-down is the probe. A closed one
        starts of unknown health like every venue after a start."""
        for event in read((EVENT_KIND,)):
            venue, to = event.data.get("venue"), event.data.get("to")
            if not isinstance(venue, str) or to not in BreakerState.__members__.values():
                continue
            breaker = self._venues.setdefault(venue, VenueBreaker())
            if to == BreakerState.OPEN.value:
                breaker.opened_at, breaker.reason = event.at, str(event.data.get("reason", ""))
                breaker.state = BreakerState.OPEN
            elif to == BreakerState.HALF_OPEN.value:
                breaker.state = BreakerState.OPEN
                breaker.opened_at = breaker.opened_at or event.at
            else:
                breaker.state, breaker.opened_at, breaker.reason = BreakerState.CLOSED, None, ""

    # ------------------------------------------------------------------ observing

    def observe(self, outcome: OrderOutcome, now: datetime) -> list[Event]:
        breaker = self._venues.get(outcome.venue)
        if breaker is None:
            breaker = self._venues[outcome.venue] = VenueBreaker()
        events: list[Event] = []
        request_id = outcome.request.request_id if outcome.request is not None else None
        status = outcome.status
        if status is OrderStatus.DENIED:
            if request_id is not None and request_id == breaker.probe_id:
                breaker.probe_id = None
            return flush(self._pending, events)
        failure = outcome.failure or status is OrderStatus.UNKNOWN
        if not failure and status is OrderStatus.PENDING:
            return flush(self._pending, events)  # not an answer from the venue yet
        new_unknown = self._track_unknown(breaker, status, request_id)
        rejected = status is OrderStatus.REJECTED and not failure
        breaker.failures_in_row = breaker.failures_in_row + 1 if failure else 0
        breaker.healthy = not failure
        if not failure:
            self._count_answer(breaker, request_id, rejected, now)
        self._prune(breaker, now)

        if breaker.state is BreakerState.HALF_OPEN and request_id == breaker.probe_id:
            if failure or rejected:
                self._open(breaker, outcome.venue, f"probe order {status.value.lower()}", now,
                           request_id, events)
            elif status in _ANSWERED:
                breaker.forget_window()
                self._move(breaker, outcome.venue, BreakerState.CLOSED, "probe order succeeded",
                           now, request_id, events)
        elif breaker.state is BreakerState.CLOSED:
            reason = self._trip_reason(breaker, new_unknown)
            if reason:
                self._open(breaker, outcome.venue, reason, now, request_id, events)
        return flush(self._pending, events)

    def _track_unknown(
        self, breaker: VenueBreaker, status: OrderStatus, request_id: str | None
    ) -> bool:
        if request_id is None:
            return status is OrderStatus.UNKNOWN
        if status is OrderStatus.UNKNOWN:
            if request_id in breaker.unknown:
                return False
            breaker.unknown.add(request_id)
            return True
        breaker.unknown.discard(request_id)
        return False

    def _count_answer(
        self, breaker: VenueBreaker, request_id: str | None, rejected: bool, now: datetime
    ) -> None:
        if request_id is not None:
            if request_id in breaker.counted:
                return
            breaker.counted[request_id] = None
            if len(breaker.counted) > _REMEMBERED_REQUESTS:
                breaker.counted.popitem(last=False)
        breaker.window.append((now, rejected))
        breaker.window_rejects += rejected

    def _prune(self, breaker: VenueBreaker, now: datetime) -> None:
        horizon = now - self.params.window_seconds
        window = breaker.window
        while window and window[0][0] < horizon:
            _, rejected = window.popleft()
            breaker.window_rejects -= rejected

    def _trip_reason(self, breaker: VenueBreaker, new_unknown: bool) -> str | None:
        p = self.params
        if p.consecutive_failures is not None and breaker.failures_in_row >= p.consecutive_failures:
            return f"{breaker.failures_in_row} consecutive venue failures"
        if p.max_unknown is not None and new_unknown and len(breaker.unknown) > p.max_unknown:
            return f"{len(breaker.unknown)} orders UNKNOWN, more than {p.max_unknown}"
        total = len(breaker.window)
        if (
            p.max_reject_rate is not None
            and total >= p.min_orders
            and breaker.window_rejects > p.max_reject_rate * total
        ):
            return (
                f"{breaker.window_rejects} of the last {total} orders rejected, a rate above "
                f"{p.max_reject_rate}"
            )
        return None

    # ------------------------------------------------------------------ transitions

    def _open(
        self, breaker: VenueBreaker, venue: str, reason: str, now: datetime,
        request_id: str | None, events: list[Event],
    ) -> None:
        breaker.opened_at, breaker.reason, breaker.probe_id = now, reason, None
        self._move(breaker, venue, BreakerState.OPEN, reason, now, request_id, events)

    def _move(
        self, breaker: VenueBreaker, venue: str, to: BreakerState, reason: str, now: datetime,
        request_id: str | None, events: list[Event] | None = None,
    ) -> None:
        event = Event(
            kind=EVENT_KIND,
            at=now,
            request_id=request_id,
            data={"venue": venue, "from": breaker.state.value, "to": to.value, "reason": reason},
        )
        breaker.state = to
        (self._pending if events is None else events).append(event)
