"""Driving a pair to exactly one final state through the engine's public path.

1. **Risk as a unit**: both venues configured and healthy (no open circuit breaker, books
   answer: streamed ones no older than ``max_book_age``, else read), the fee-aware edge on
   those books at least ``min_edge``, the policy's
   pair check (``check_pair`` of the ``min_edge`` rule), and every rule's verdict on both
   legs with their exposure claims added up against the ledger.
2. **Journal, then execute**: the pair is saved before any leg is sent, and saved again at
   every step. Legs are ordinary requests keyed ``<pair>:a``, ``<pair>:b`` and unwind
   orders ``<pair>:unwind-<n>``, so each has the engine's exactly-once guarantee.
3. **One final state**: HEDGED, MISSED, UNWOUND or EXPOSED (or DENIED before anything is
   sent). An imbalance is closed by completing the missing leg or selling the excess,
   whichever the fresh books make cheaper within ``max_unwind_loss``; when neither fits
   the pair is EXPOSED: an ``alert`` event, and a halt when the pair or the settings say so.

Everything the executor decides is recomputed from the journal, so ``execute`` on a pair
that a crash interrupted resumes it where it stopped: legs already journaled are followed,
never resent; legs never journaled were never sent and are sent now.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from attrs import define, evolve, field, frozen

from arbexec.arbitrage import unwind
from arbexec.arbitrage.accounting import PairBook, tally
from arbexec.arbitrage.books import Sweep, sweep
from arbexec.arbitrage.model import (
    LegReport,
    PairRequest,
    PairResult,
    PairState,
    Sequencing,
    pair_from_mapping,
    pair_result_to_dict,
    pair_to_dict,
)
from arbexec.config import DEFAULT_MAX_BOOK_AGE
from arbexec.engine import Engine, PairPolicyLike
from arbexec.errors import ArbexecError, ExchangeError
from arbexec.events import Event
from arbexec.exchange import Exchange, MarketRules, current_book
from arbexec.ledger import LedgerUnavailable, merge_claims
from arbexec.model import (
    ZERO,
    ExecutionResult,
    Liquidity,
    OrderBook,
    OrderRequest,
    OrderStatus,
    RequestError,
    Side,
    now_utc,
)
from arbexec.risk.base import PAIR_INVERTED_TAG, REDUCE_ONLY_TAG, RISK_REDUCING_TAG, Claim

log = logging.getLogger("arbexec.arbitrage")

ONE = Decimal(1)


@frozen(kw_only=True)
class ArbitrageSettings:
    """How the executor behaves where a pair request does not say."""

    halt_on_exposed: bool = True  # halt trading when a pair ends EXPOSED
    max_unwind_attempts: int = 3  # unwind orders per pair before it is declared EXPOSED
    leg_timeout: float = 30.0  # seconds a leg may stay unfinished before it is cancelled
    poll_interval: float = 0.002  # first wait between journal reads while a leg settles
    poll_max_interval: float = 0.1
    #: the unwind bound of a pair that names none and whose policy has no ``unwind_bound``
    #: rule; None (the default) refuses such pairs rather than assume a bound
    max_unwind_loss: Decimal | None = None
    #: seconds a streamed book may be old and still check a pair's edge (0: always read)
    max_book_age: float = DEFAULT_MAX_BOOK_AGE


@frozen(kw_only=True)
class _Denial:
    code: str
    message: str
    figures: Mapping[str, str] = field(factory=dict, hash=False)


@frozen(kw_only=True)
class _Fresh:
    """A leg's venue as the risk check saw it."""

    exchange: Exchange
    book: OrderBook
    rules: MarketRules
    sweep: Sweep


@define
class PairExecutor:
    engine: Engine
    settings: ArbitrageSettings = field(factory=ArbitrageSettings)
    _running: dict[str, asyncio.Future[PairResult]] = field(factory=dict)

    # ------------------------------------------------------------------ entry points

    async def execute(self, pair: PairRequest) -> PairResult:
        """Run (or resume, or answer again) one pair. Never raises for a trading outcome."""
        running = self._running.get(pair.pair_id)
        if running is not None:
            return evolve(await asyncio.shield(running), duplicate=True)
        future: asyncio.Future[PairResult] = asyncio.get_running_loop().create_future()
        self._running[pair.pair_id] = future
        try:
            result = await self._execute(pair)
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            del self._running[pair.pair_id]

    async def explain(self, pair: PairRequest) -> dict[str, Any]:
        """The pair-level verdict (halt, venues, breakers, fee-aware edge on fresh books,
        the policy on both legs and their combined exposure), sending nothing."""
        denial, first = await self._check(pair, reserve=False)
        bound, source = self.unwind_bound(pair)
        verdict: dict[str, Any] = {"rule": "pair", "allowed": denial is None,
                                   "code": None if denial is None else denial.code,
                                   "message": "the pair passes as a unit" if denial is None
                                   else denial.message,
                                   "figures": {} if denial is None else dict(denial.figures)}
        return {"pair_id": pair.pair_id, "allowed": denial is None, "first_leg": first,
                "max_unwind_loss": None if bound is None else str(bound),
                "max_unwind_loss_from": source, "verdicts": [verdict]}

    async def resume_all(self) -> list[PairResult]:
        """Drive every unfinished pair in the journal to a final state (after a restart,
        once the engine has reconciled its orders)."""
        results = []
        for saved in self.engine.journal.pairs(unfinished_only=True):
            try:
                pair = pair_from_mapping(saved["request"])
            except (ArbexecError, RequestError) as exc:  # an older journal, stricter checks
                log.error("pair %s cannot be read back: %s", saved["pair_id"], exc)
                continue
            results.append(await self.execute(pair))
        return results

    # ------------------------------------------------------------------ the path

    def policy(self) -> PairPolicyLike | None:
        """The engine's policy as the executor uses it, or None when it does not offer
        the pair protocol (such a policy runs single orders only: pairs are refused)."""
        policy = self.engine.policy
        return policy if isinstance(policy, PairPolicyLike) else None

    async def _execute(self, pair: PairRequest) -> PairResult:
        started = time.perf_counter()
        journal = self.engine.journal
        saved = journal.get_pair(pair.pair_id)
        if saved is not None and saved["state"] != PairState.DENIED.value:
            # A denied pair sent nothing and may be tried again; any other is answered
            # from the journal (final) or resumed where it stopped.
            state = PairState(saved["state"])
            stored = pair_from_mapping(saved["request"])
            if state.is_final:
                stored_detail = saved["detail"]
                return self._emit(await self._result(
                    stored, state, started, stored_detail.get("reason_code"),
                    stored_detail.get("reason"), duplicate=True))
            return await self._drive(stored, saved["detail"], started)
        denial, first = await self._check(pair)
        if denial is not None:
            self._save(pair, PairState.DENIED, "risk", {
                "reason_code": denial.code, "reason": denial.message,
                "figures": dict(denial.figures)})
            return self._emit(await self._result(pair, PairState.DENIED, started, denial.code,
                                                 denial.message))
        bound, source = self.unwind_bound(pair)
        pair = evolve(pair, max_unwind_loss=bound)
        # journaled with the pair: a resume keeps the bound it was accepted under
        detail: dict[str, Any] = {"first": first, "max_unwind_loss": str(bound),
                                  "max_unwind_loss_from": source}
        self._save(pair, PairState.EXECUTING, "legs", detail)
        return await self._drive(pair, detail, started)

    def unwind_bound(self, pair: PairRequest) -> tuple[Decimal | None, str]:
        """The ``max_unwind_loss`` in force for a pair, and where it comes from: the pair's
        own, else the policy's ``unwind_bound`` rule, else the executor's setting."""
        if pair.max_unwind_loss is not None:
            return pair.max_unwind_loss, "pair"
        policy = self.policy()
        bound = None if policy is None else policy.unwind_bound()
        if bound is not None:
            return bound, "policy"
        if self.settings.max_unwind_loss is not None:
            return self.settings.max_unwind_loss, "settings"
        return None, "none"

    async def _drive(self, pair: PairRequest, detail: Mapping[str, Any],
                     started: float) -> PairResult:
        if pair.max_unwind_loss is None:  # the bound it was accepted under, as journaled
            saved = detail.get("max_unwind_loss")
            pair = evolve(pair, max_unwind_loss=Decimal(saved) if saved is not None
                          else self.unwind_bound(pair)[0] or ZERO)
        primaries = await self._primary_legs(pair, detail)
        for name in ("a", "b"):  # legs not sent by now never will be: free their earmark
            await self._release_earmark(pair.leg_key(name))
        waiting = [name for name, r in primaries.items() if r is not None
                   and not r.status.is_final]
        if waiting:
            return await self._unfinished(pair, detail, started, waiting)
        unwinds = await self._existing_unwinds(pair)
        if any(not r.status.is_final for r in unwinds):
            return await self._unfinished(pair, detail, started, ["unwind"])
        book = tally(pair, primaries, unwinds)
        if book.excess == 0:
            return await self._finish(pair, detail, started, book, bool(unwinds))
        budget_exhausted = False
        why_not = ""
        while book.excess > 0:
            attempt = len(unwinds) + 1
            if attempt > self.settings.max_unwind_attempts:
                budget_exhausted = True
                break
            plan, why_not = await self._plan(pair, book, _refused(pair, primaries, unwinds))
            if plan is None:
                break
            self._save(pair, PairState.UNWINDING, f"unwind-{attempt}", {
                **detail, "unwind": {"attempt": attempt, "kind": plan.kind,
                                     "venue": plan.venue, "quantity": str(plan.quantity),
                                     "limit_price": str(plan.limit_price),
                                     "worst_loss": str(plan.worst_loss)}})
            result = await self._send(self._unwind_request(pair, attempt, plan))
            unwinds.append(result)
            if not result.status.is_final:
                return await self._unfinished(pair, detail, started, ["unwind"])
            book = tally(pair, primaries, unwinds)
        if book.excess == 0:
            return await self._finish(pair, detail, started, book, True)
        why = "the unwind attempts are used up" if budget_exhausted else why_not
        return await self._exposed(pair, detail, started, book, why)

    async def _primary_legs(self, pair: PairRequest, detail: Mapping[str, Any]
                            ) -> dict[str, ExecutionResult | None]:
        if pair.sequencing is Sequencing.CONCURRENT:
            a, b = await asyncio.gather(self._leg(pair, "a", pair.quantity),
                                        self._leg(pair, "b", pair.quantity))
            return {"a": a, "b": b}
        first = str(detail.get("first") or "a")
        second = "b" if first == "a" else "a"
        done = await self._leg(pair, first, pair.quantity)
        results: dict[str, ExecutionResult | None] = {first: done, second: None}
        if done is not None and done.status.is_final and done.filled_quantity > 0:
            results[second] = await self._leg(pair, second, done.filled_quantity)
        elif self.engine.journal.get(pair.leg_key(second)) is not None:  # pragma: no cover
            results[second] = await self._settle(pair.leg_key(second))
        return results

    async def _leg(self, pair: PairRequest, name: str, quantity: Decimal
                   ) -> ExecutionResult | None:
        key = pair.leg_key(name)
        if self.engine.journal.get(key) is not None:
            return await self._settle(key)  # journaled earlier: follow it, never resend
        leg, other = pair.leg(name), pair.leg("b" if name == "a" else "a")
        request = OrderRequest(
            request_id=f"{pair.request_id}:{name}", idempotency_key=key, venue=leg.venue,
            market=leg.market, outcome=leg.outcome, side=leg.side, quantity=quantity,
            limit_price=leg.limit_price, time_in_force=leg.time_in_force,
            expected_value=ONE - other.limit_price, tags=_leg_tags(pair, name),
        )
        return await self._send(request)

    async def _send(self, request: OrderRequest) -> ExecutionResult:
        result = await self.engine.submit(request)
        if result.status.is_final:
            return result
        return await self._settle(request.idempotency_key)

    async def _settle(self, key: str) -> ExecutionResult:
        """Wait for the engine to bring an order to a final state. A leg still live after
        ``leg_timeout`` is cancelled; an UNKNOWN one nobody follows is looked up."""
        engine, journal = self.engine, self.engine.journal
        deadline = time.monotonic() + self.settings.leg_timeout
        delay = self.settings.poll_interval
        cancelled = False
        while True:
            row = journal.get(key)
            assert row is not None
            if row.status.is_final:
                return row.to_result()
            if not engine.tracking(key):
                await engine.reconcile_order(key, grace=engine.settings.unknown_grace)
                continue_row = journal.get(key)
                if continue_row is not None and continue_row.status.is_final:
                    return continue_row.to_result()
            if time.monotonic() >= deadline:
                if row.status.is_live and not cancelled:
                    cancelled = True
                    try:
                        await engine.cancel(key)
                    except (ArbexecError, ExchangeError) as exc:
                        log.warning("cancelling pair leg %s failed: %s", key, exc)
                    deadline = time.monotonic() + self.settings.leg_timeout
                    continue
                return row.to_result()  # unresolved: the pair stays open to be resumed
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.poll_max_interval)

    async def _existing_unwinds(self, pair: PairRequest) -> list[ExecutionResult]:
        out = []
        attempt = 1
        while self.engine.journal.get(pair.unwind_key(attempt)) is not None:
            out.append(await self._settle(pair.unwind_key(attempt)))
            attempt += 1
        return out

    # ------------------------------------------------------------------ risk as a unit

    def _foreign_leg(self, pair: PairRequest) -> _Denial | None:
        """A leg key that already holds an order this pair did not send (a single request,
        or an older journal): the pair is refused rather than take that order as its leg."""
        for name in ("a", "b"):
            key = pair.leg_key(name)
            row = self.engine.journal.get(key)
            if row is None:
                continue
            tags = row.request.get("tags") or {}
            if tags.get("pair_id") != pair.pair_id or tags.get("leg") != name:
                return _Denial(code="leg_key_taken", message=f"leg {name}: key {key} already "
                               f"holds an order that pair {pair.pair_id} did not send; "
                               "nothing was sent (give the pair another pair_id)")
        return None

    async def _check(self, pair: PairRequest, *, reserve: bool = True
                     ) -> tuple[_Denial | None, str]:
        engine = self.engine
        policy = self.policy()
        if policy is None:
            return _Denial(code="policy_without_pairs", message="the risk policy does not "
                           "offer the pair checks (check_pair, unwind_bound, breaker_state of "
                           "PairPolicyLike); nothing was sent"), "a"
        halt = engine.halt.current()
        if halt.halted:
            why = halt.reason or "no reason given"
            return _Denial(code="halted", message=f"trading is halted ({why}); lift it with "
                           "`arbexec resume`"), "a"
        taken = self._foreign_leg(pair)
        if taken is not None:
            return taken, "a"
        for name in ("a", "b"):
            leg = pair.leg(name)
            if leg.venue not in engine.venues:
                return _Denial(code="unknown_venue", message=f"leg {name}: venue "
                               f"{leg.venue!r} is not configured; configured venues: "
                               f"{', '.join(sorted(engine.venues)) or 'none'}"), "a"
            breaker = policy.breaker_state(leg.venue)
            if breaker != "closed":
                return _Denial(code="venue_unhealthy", message=f"leg {name}: the circuit "
                               f"breaker of {leg.venue} is {breaker}"), "a"
        if self.unwind_bound(pair)[0] is None:
            return _Denial(code="no_unwind_bound", message="the pair names no "
                           "max_unwind_loss and the policy sets none (an unwind_bound rule); "
                           "give one: without it any imbalance would end EXPOSED"), "a"
        locked = self._edge_at_limits(pair)
        if locked is not None:
            return locked, "a"
        try:
            fresh_a, fresh_b = await asyncio.gather(self._fresh(pair, "a"),
                                                    self._fresh(pair, "b"))
        except ExchangeError as exc:
            return _Denial(code="venue_unhealthy", message="could not read both venues' "
                           f"books and rules: {exc}"), "a"
        depth_a, depth_b = fresh_a.sweep.quantity, fresh_b.sweep.quantity
        first = "a" if depth_a <= depth_b else "b"
        matched = min(depth_a, depth_b)
        if matched <= 0:
            thin = "a" if depth_a <= 0 else "b"
            return _Denial(code="no_liquidity", message=f"leg {thin}: nothing offered at "
                           f"{pair.leg(thin).limit_price} or better on "
                           f"{pair.leg(thin).venue} {pair.leg(thin).market}"), first
        take_a = sweep(fresh_a.book, pair.a.outcome, Side.BUY, matched, pair.a.limit_price)
        take_b = sweep(fresh_b.book, pair.b.outcome, Side.BUY, matched, pair.b.limit_price)
        fees = (take_a.fees(fresh_a.exchange.fee, pair.a.market)
                + take_b.fees(fresh_b.exchange.fee, pair.b.market))
        edge = matched - take_a.notional - take_b.notional - fees
        each = edge / matched
        if each < pair.min_edge:
            return _Denial(code="edge_below_min", message=f"edge after {fees} fees is "
                           f"{each:.4f} per contract on the fresh books, below the minimum of "
                           f"{pair.min_edge}", figures={"edge": f"{each:.6f}",
                                                        "fees": str(fees),
                                                        "matched": str(matched),
                                                        "basis": "book"}), first
        denial = await self._policy_check(policy, pair, reserve=reserve)
        return denial, first

    def _edge_at_limits(self, pair: PairRequest) -> _Denial | None:
        """The edge the leg limits lock in, after both venues' taker fees at those limits:
        the worst the pair can earn if both legs fill, whatever the books do meanwhile."""
        quantity = pair.quantity
        fees = ZERO
        for leg in (pair.a, pair.b):
            fees += self.engine.venues[leg.venue].fee(leg.market, leg.limit_price, quantity,
                                                      Liquidity.TAKER)
        edge = quantity * (ONE - pair.a.limit_price - pair.b.limit_price) - fees
        each = edge / quantity
        if each >= pair.min_edge:
            return None
        return _Denial(code="edge_below_min", message=f"the leg limits {pair.a.limit_price} "
                       f"+ {pair.b.limit_price} lock in {each:.4f} per contract after {fees} "
                       f"fees, below the minimum of {pair.min_edge}",
                       figures={"edge": f"{each:.6f}", "fees": str(fees),
                                "limits": f"{pair.a.limit_price}+{pair.b.limit_price}",
                                "basis": "limits"})

    async def _fresh(self, pair: PairRequest, name: str) -> _Fresh:
        leg = pair.leg(name)
        exchange = self.engine.venues[leg.venue]
        book, rules = await asyncio.gather(
            current_book(exchange, leg.market, max_age=self.settings.max_book_age),
            exchange.market_rules(leg.market))
        return _Fresh(exchange=exchange, book=book, rules=rules,
                      sweep=sweep(book, leg.outcome, Side.BUY, pair.quantity, leg.limit_price))

    async def _policy_check(self, policy: PairPolicyLike, pair: PairRequest, *,
                            reserve: bool = True) -> _Denial | None:
        """The policy's rules on both legs together: every rule's verdict on each leg (the
        engine runs them again per send), the pair edge rule, and the legs' exposure
        claims added up, so the pair is refused as a unit rather than half sent."""
        engine = self.engine
        requests = {name: OrderRequest(
            request_id=f"{pair.request_id}:{name}", idempotency_key=pair.leg_key(name),
            venue=pair.leg(name).venue, market=pair.leg(name).market,
            outcome=pair.leg(name).outcome, side=Side.BUY, quantity=pair.quantity,
            limit_price=pair.leg(name).limit_price,
            time_in_force=pair.leg(name).time_in_force,
            expected_value=ONE - pair.leg("b" if name == "a" else "a").limit_price,
            tags=_leg_tags(pair, name),
        ) for name in ("a", "b")}
        try:
            (ctx_a, _), (ctx_b, _) = await asyncio.gather(*(
                engine.risk_context(request, engine.venues[request.venue])
                for request in requests.values()))
            contexts = {"a": ctx_a, "b": ctx_b}
        except ExchangeError as exc:
            return _Denial(code="risk_data_unavailable", message="could not fetch what the "
                           f"risk policy needs: {exc}")
        leg_claims: dict[str, list[Any]] = {"a": [], "b": []}
        for name, request in requests.items():
            decision = policy.explain(request, contexts[name])
            if not decision.allowed:
                v = decision.verdict
                return _Denial(code=(v.code if v else None) or "risk",
                               message=f"leg {name}: "
                               f"{v.message if v else 'denied by the risk policy'}",
                               figures=dict(v.figures) if v else {})
            leg_claims[name].extend(decision.claims)
        verdict = policy.check_pair(requests["a"], requests["b"], contexts["a"], contexts["b"])
        if not verdict.allowed:
            return _Denial(code=verdict.code or "risk", message=verdict.message,
                           figures=dict(verdict.figures))
        groups = {requests[name].idempotency_key: leg_claims[name] for name in ("a", "b")}
        # both legs' claims are reserved as one unit before either is sent; explaining
        # checks the same sum and reserves nothing
        try:
            breached = (await engine.ledger.try_earmark(groups) if reserve
                        else _combined_breach(engine.ledger.exposure_now, groups))
        except LedgerUnavailable as exc:  # a shared ledger's store is away
            return _Denial(code="ledger_unavailable", message=f"{exc}; nothing was sent",
                           figures={})
        if breached is None:
            return None
        held = engine.ledger.exposure_now(breached.key)
        return _Denial(code=breached.code, message=f"{breached.key} would reach more "
                       f"than its limit of {breached.limit} with both legs "
                       f"({held} held or reserved now); nothing was sent",
                       figures={"limit": str(breached.limit), "current": str(held),
                                "key": breached.key})

    async def _release_earmark(self, key: str) -> None:
        await self.engine.ledger.release_earmark(key)

    # ------------------------------------------------------------------ unwinding

    async def _plan(self, pair: PairRequest, book: PairBook, refused: set[str]
                    ) -> tuple[unwind.UnwindPlan | None, str]:
        """The cheaper way to close the excess on fresh books, or None and why not. A leg
        whose venue refused one of the pair's orders is not completed there (it would most
        likely refuse again); its excess is closed on its own venue instead."""
        excess_leg = book.excess_leg
        assert excess_leg is not None
        other_leg = "b" if excess_leg == "a" else "a"
        try:
            own, other = await asyncio.gather(self._side(pair, excess_leg),
                                              self._side(pair, other_leg))
        except ExchangeError as exc:
            log.warning("pair %s: cannot read books to unwind: %s", pair.pair_id, exc)
            return None, f"the books could not be read to unwind ({exc})"
        bound = pair.max_unwind_loss if pair.max_unwind_loss is not None else ZERO
        budget = bound - max(book.unwind_loss, ZERO)
        if budget < 0:
            return None, (f"the unwind loss so far, {_money(book.unwind_loss)}, used up the "
                          f"bound of {_money(bound)}")
        basis = book.legs[excess_leg].basis
        close = unwind.plan_close(book.excess, basis, budget, own)
        options = [("close", close, own)]
        if other_leg not in refused:
            options.append(("complete", unwind.plan_complete(book.excess, basis, budget, other),
                            other))
        chosen = unwind.choose([option for _, option, _ in options])
        if chosen is not None:
            return chosen, ""
        reasons = "; ".join(unwind.why_unusable(kind, option, view, book.excess)
                            for kind, option, view in options)
        if other_leg in refused:
            reasons += f"; completing on leg {other_leg} is not tried (its venue refused it)"
        return None, (f"nothing closes it within the remaining unwind budget of "
                      f"{_money(budget)}: {reasons}")

    async def _side(self, pair: PairRequest, name: str) -> unwind.Venueside:
        leg = pair.leg(name)
        exchange = self.engine.venues[leg.venue]
        book, rules = await asyncio.gather(exchange.fetch_order_book(leg.market),
                                           exchange.market_rules(leg.market))
        return unwind.Venueside(venue=leg.venue, market=leg.market, outcome=leg.outcome,
                                book=book, rules=rules, fee=exchange.fee,
                                fee_rounding=unwind.fee_rounding_of(exchange))

    def _unwind_request(self, pair: PairRequest, attempt: int,
                        plan: unwind.UnwindPlan) -> OrderRequest:
        return OrderRequest(
            request_id=f"{pair.request_id}:unwind-{attempt}",
            idempotency_key=pair.unwind_key(attempt), venue=plan.venue, market=plan.market,
            outcome=plan.outcome, side=plan.side, quantity=plan.quantity,
            limit_price=plan.limit_price, time_in_force="IOC",
            tags={**pair.tags, "pair_id": pair.pair_id, "leg": f"unwind-{attempt}",
                  "unwind": plan.kind, RISK_REDUCING_TAG: "unwind",
                  # closing held contracts: the venue itself must not let it open any
                  **({REDUCE_ONLY_TAG: True} if plan.side is Side.SELL else {})},
        )

    # ------------------------------------------------------------------ outcomes

    async def _finish(self, pair: PairRequest, detail: Mapping[str, Any], started: float,
                      book: PairBook, unwound: bool) -> PairResult:
        if unwound:
            state = PairState.UNWOUND
        elif book.any_fill:
            state = PairState.HEDGED
        else:
            state = PairState.MISSED
        reason = None
        if state is PairState.MISSED:
            reason = "neither leg filled"
        self._save(pair, state, "done", {**detail, "reason": reason,
                                         "reason_code": state.value.lower()})
        return self._emit(await self._result(pair, state, started, state.value.lower(),
                                             reason))

    async def _exposed(self, pair: PairRequest, detail: Mapping[str, Any], started: float,
                       book: PairBook, why: str) -> PairResult:
        leg = book.excess_leg
        reason = (f"{book.excess} contracts of leg {leg} are unhedged: {why}")
        alert = Event(kind="alert", request_id=pair.request_id, data={
            "reason": "arbitrage pair exposed", "pair_id": pair.pair_id,
            "leg": leg, "exposed_quantity": str(book.excess), "detail": reason,
        })
        halt = (pair.halt_on_exposed if pair.halt_on_exposed is not None
                else self.settings.halt_on_exposed)
        self._save(pair, PairState.EXPOSED, "done", {
            **detail, "reason_code": "exposed", "reason": reason, "halted": halt},
            extra=[alert])
        self.engine.hub.emit(alert)
        if halt:
            self.engine.halt.halt(f"arbitrage pair {pair.pair_id} exposed: {reason}",
                                  by="arbitrage")
        return self._emit(await self._result(pair, PairState.EXPOSED, started, "exposed",
                                             reason))

    async def _unfinished(self, pair: PairRequest, detail: Mapping[str, Any], started: float,
                          waiting: list[str]) -> PairResult:
        reason = (f"waiting for {', '.join(waiting)} to reach a final state on the venue; "
                  "the pair resumes after reconciliation")
        saved = self.engine.journal.get_pair(pair.pair_id)
        state = PairState(saved["state"]) if saved else PairState.EXECUTING
        self._save(pair, state, "waiting", {**detail, "reason": reason})
        return self._emit(await self._result(pair, state, started, "unresolved", reason))

    async def _result(self, pair: PairRequest, state: PairState, started: float,
                      reason_code: str | None, reason: str | None, *,
                      duplicate: bool = False) -> PairResult:
        journal = self.engine.journal
        names = ["a", "b"]
        reports: list[LegReport] = []
        primaries: dict[str, ExecutionResult | None] = {}
        for name in names:
            row = journal.get(pair.leg_key(name))
            primaries[name] = None if row is None else row.to_result(duplicate=duplicate)
            if primaries[name] is not None:
                reports.append(LegReport(name=name, result=primaries[name]))  # type: ignore[arg-type]
        unwinds = []
        attempt = 1
        while (row := journal.get(pair.unwind_key(attempt))) is not None:
            unwinds.append(row.to_result(duplicate=duplicate))
            reports.append(LegReport(name=f"unwind-{attempt}", result=unwinds[-1]))
            attempt += 1
        book = tally(pair, primaries, unwinds)
        hedged = book.hedged
        edge = book.realised_edge
        return PairResult(
            pair_id=pair.pair_id, state=state, quantity=pair.quantity, hedged_quantity=hedged,
            exposed_quantity=book.excess if state is not PairState.HEDGED else ZERO,
            realised_edge=_tidy(edge),
            realised_edge_per_contract=_tidy(edge / hedged) if hedged else None,
            unwind_loss=_tidy(max(book.unwind_loss, ZERO)) if unwinds else ZERO,
            fees=dict(book.fees_by_venue), legs=tuple(reports), reason_code=reason_code,
            reason=reason, latency_ms=(time.perf_counter() - started) * 1000,
            duplicate=duplicate, tags=pair.tags,
        )

    def _save(self, pair: PairRequest, state: PairState, step: str,
              detail: Mapping[str, Any], extra: list[Event] | None = None) -> None:
        event = Event(kind="pair.state", request_id=pair.request_id, data={
            "pair_id": pair.pair_id, "state": state.value, "step": step})
        events = [event, *(extra or [])]
        self.engine.journal.save_pair(pair.pair_id, request=pair_to_dict(pair),
                                      state=state.value, step=step,
                                      detail={**detail, "updated_at": now_utc().isoformat()},
                                      events=events)
        self.engine.hub.emit(event)

    def _emit(self, result: PairResult) -> PairResult:
        """Journal the pair's result (``arbexec pairs`` reads it) and tell the sinks."""
        figures = pair_result_to_dict(result)
        if not result.duplicate:
            self.engine.journal.append_events([Event(
                kind="pair.result", request_id=result.pair_id, data={"result": figures})],
                key=result.pair_id)
        self.engine.hub.emit(Event(kind="pair.result", request_id=result.pair_id, data={
            "result": figures, "result_obj": result}))
        return result


def _leg_tags(pair: PairRequest, name: str) -> dict[str, Any]:
    """A primary leg's tags: the pair's own, which pair and leg it is, and whether the
    pair's markets are inverted (the pair edge rule then expects the same outcome)."""
    return {**pair.tags, "pair_id": pair.pair_id, "leg": name,
            **({PAIR_INVERTED_TAG: True} if pair.inverted else {})}


def _tidy(value: Decimal) -> Decimal:
    """Cost bases are averages; report figures to 1e-8 dollars without trailing zeros."""
    return Decimal(format(value.quantize(Decimal("1e-8")).normalize(), "f"))


def _money(value: Decimal) -> Decimal:
    """A figure for a message: to the hundredth of a cent."""
    return value.quantize(Decimal("0.0001"))


def _combined_breach(exposure_now: Callable[[str], Decimal],
                     groups: Mapping[str, Sequence[Claim]]) -> Claim | None:
    """The first claim that both legs' claims together would take past its limit on top
    of what the ledger holds now (the check of ``try_earmark``, without earmarking)."""
    pending: dict[str, Decimal] = {}
    for claims in groups.values():
        for claim in merge_claims(claims).values():
            pending[claim.key] = pending.get(claim.key, ZERO) + claim.amount
            if claim.amount > 0 and exposure_now(claim.key) + pending[claim.key] > claim.limit:
                return claim
    return None


def _refused(pair: PairRequest, primaries: Mapping[str, ExecutionResult | None],
             unwinds: list[ExecutionResult]) -> set[str]:
    """Legs ("a"/"b") whose instrument had an order refused (by the venue or locally)
    without any fill in this pair."""
    names = {pair.a.instrument: "a", pair.b.instrument: "b"}
    out = set()
    for result in [*(r for r in primaries.values() if r is not None), *unwinds]:
        if result.status in (OrderStatus.REJECTED, OrderStatus.DENIED) and \
                not result.filled_quantity:
            name = names.get((result.venue, result.market, result.outcome))  # type: ignore[arg-type]
            if name is not None:
                out.add(name)
    return out


__all__ = ["ArbitrageSettings", "PairExecutor"]
