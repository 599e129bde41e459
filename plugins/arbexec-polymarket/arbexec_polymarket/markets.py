"""Which token an (market, outcome) pair trades, and the market's grid, cached.

``market`` is either a condition id (``0x`` + 64 hex digits: YES is the market's first
outcome token, NO the second) or a token id (decimal digits: YES is that very token, NO its
complement in the same market). Metadata comes from Gamma (tokens, outcomes, minimum size,
market ``version``: "v2" markets trade position ids on Exchange V3); the tick size and the
neg-risk flag, which decide what is signed, come from the CLOB and are cached. A tick size
is trusted for ``tick_cache_seconds`` and dropped as soon as the venue reports a change.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from attrs import evolve, frozen

from arbexec import api as errors
from arbexec.api import Outcome
from arbexec_polymarket import parsing
from arbexec_polymarket.amounts import TICK_RULES
from arbexec_polymarket.eip712 import ExchangeKind
from arbexec_polymarket.http import ClobHttp
from arbexec_polymarket.venue_errors import VENUE, MalformedAnswer

_CONDITION_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
_TOKEN_ID = re.compile(r"^[0-9]{1,78}$")


@frozen(kw_only=True)
class FeeSchedule:
    """Fee = shares x rate x (p (1 - p)) ^ exponent; makers pay it too unless
    ``taker_only`` (the schedule's ``to`` flag, true when absent: makers pay nothing)."""

    rate: Decimal
    exponent: Decimal
    taker_only: bool = True


@frozen(kw_only=True)
class MarketInfo:
    market: str  # as the user addressed it
    condition_id: str
    yes_token: str
    no_token: str
    outcomes: tuple[str, str]
    neg_risk: bool
    exchange: ExchangeKind
    tick_size: Decimal
    min_size: Decimal
    closed: bool = False
    accepting_orders: bool = True
    fees: FeeSchedule | None = None
    tick_fetched_at: float = 0.0

    def token_for(self, outcome: Outcome) -> str:
        return self.yes_token if outcome is Outcome.YES else self.no_token

    def outcome_of(self, token_id: str) -> Outcome | None:
        if token_id == self.yes_token:
            return Outcome.YES
        if token_id == self.no_token:
            return Outcome.NO
        return None


def market_kind(market: str) -> str:
    """'condition' or 'token'; anything else is a user mistake named plainly."""
    if _CONDITION_ID.match(market):
        return "condition"
    if _TOKEN_ID.match(market):
        return "token"
    raise errors.InvalidOrder(
        f"market {market!r} is neither a condition id (0x + 64 hex digits) nor a token id "
        "(decimal digits)",
        venue=VENUE,
    )


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return list(value) if isinstance(value, list) else []


def _decimal(value: Any, default: str) -> Decimal:
    return parsing.dec(value, Decimal(default))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


class MarketDirectory:
    """Resolves and caches ``MarketInfo`` per market string and per token id."""

    def __init__(self, http: ClobHttp, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._http = http
        self._clock = clock
        self._by_market: dict[str, MarketInfo] = {}
        self._by_token: dict[str, MarketInfo] = {}

    def cached(self, market: str) -> MarketInfo | None:
        return self._by_market.get(market) or self._by_token.get(market)

    def by_token(self, token_id: str) -> MarketInfo | None:
        return self._by_token.get(token_id)

    async def info(self, market: str) -> MarketInfo:
        info = self._by_market.get(market)
        if info is None:
            info = await self._resolve(market)
        elif self._clock() - info.tick_fetched_at > self._http.config.tick_cache_seconds:
            info = await self._refresh_tick(info)
        return info

    def invalidate_tick(self, market: str) -> None:
        """Forget a market's tick size (the venue said it changed)."""
        info = self._by_market.get(market)
        if info is not None:
            self._store(evolve(info, tick_fetched_at=float("-inf")))

    def observe_tick(self, token_id: str, tick: Decimal) -> None:
        """A tick size seen elsewhere (a book, a stream event): adopt it if it changed."""
        info = self._by_token.get(token_id)
        if info is not None and info.tick_size != tick:
            self._store(evolve(info, tick_size=tick, tick_fetched_at=self._clock()))

    def _store(self, info: MarketInfo) -> None:
        self._by_market[info.market] = info
        for token in (info.yes_token, info.no_token):
            self._by_token.setdefault(token, info)
            if self._by_token[token].market == info.market:
                self._by_token[token] = info

    async def _tick(self, token: str) -> Decimal:
        """The token's tick size; an answer without one is an error, never a guess (what
        is signed depends on it)."""
        payload = await self._http.get("/tick-size", {"token_id": token})
        value = payload.get("minimum_tick_size") if isinstance(payload, dict) else None
        try:
            tick = Decimal(str(value)) if isinstance(value, int | float | str | Decimal) else None
        except ArithmeticError:
            tick = None
        if tick is None or not tick.is_finite() or tick not in TICK_RULES:
            raise MalformedAnswer(
                f"Polymarket's /tick-size for token {token} has no usable minimum_tick_size "
                f"({str(payload)[:120]!r})",
                venue=VENUE,
            )
        return tick

    async def _refresh_tick(self, info: MarketInfo) -> MarketInfo:
        tick = await self._tick(info.yes_token)
        info = evolve(info, tick_size=tick, tick_fetched_at=self._clock())
        self._store(info)
        return info

    async def _gamma(self, market: str, kind: str) -> dict[str, Any]:
        key = "condition_ids" if kind == "condition" else "clob_token_ids"
        payload = await self._http.get("/markets", {key: market}, host=self._http.config.gamma_host)
        items = payload if isinstance(payload, list) else (payload or {}).get("data", [])
        if not items:
            raise errors.MarketClosed(
                f"Polymarket has no market {market}", venue=VENUE, venue_message="not found"
            )
        item: dict[str, Any] = items[0]
        return item

    async def _fees(self, condition_id: str) -> FeeSchedule | None:
        try:
            payload = await self._http.get(f"/clob-markets/{condition_id}")
        except errors.ExchangeError:
            return None
        fd = payload.get("fd") if isinstance(payload, dict) else None
        if not isinstance(fd, dict) or "r" not in fd:
            return None
        return FeeSchedule(
            rate=_decimal(fd.get("r"), "0"),
            exponent=_decimal(fd.get("e"), "0"),  # the official client's default
            taker_only=_truthy(fd.get("to", True)),
        )

    async def _resolve(self, market: str) -> MarketInfo:
        kind = market_kind(market)
        meta = await self._gamma(market, kind)
        tokens = [str(t) for t in _json_list(meta.get("clobTokenIds"))]
        outcomes = [str(o) for o in _json_list(meta.get("outcomes"))] or ["Yes", "No"]
        if len(tokens) != 2:
            raise errors.InvalidOrder(
                f"market {market} does not have exactly two outcome tokens", venue=VENUE
            )
        condition_id = str(meta.get("conditionId") or meta.get("condition_id") or market)
        if kind == "token":
            if market not in tokens:
                raise errors.InvalidOrder(f"token {market} is not in its market", venue=VENUE)
            yes, no = (market, tokens[1] if tokens[0] == market else tokens[0])
            names = (outcomes[tokens.index(yes)], outcomes[tokens.index(no)])
        else:
            yes, no = tokens[0], tokens[1]
            names = (outcomes[0], outcomes[1])
        tick = await self._tick(yes)
        neg_payload = await self._http.get("/neg-risk", {"token_id": yes})
        neg_risk = _truthy(
            neg_payload.get("neg_risk") if isinstance(neg_payload, dict) else neg_payload
        )
        version = str(meta.get("version") or "v1").lower()
        exchange = (
            ExchangeKind.V3
            if version == "v2"
            else (ExchangeKind.NEG_RISK if neg_risk else ExchangeKind.STANDARD)
        )
        info = MarketInfo(
            market=market,
            condition_id=condition_id,
            yes_token=yes,
            no_token=no,
            outcomes=names,
            neg_risk=neg_risk,
            exchange=exchange,
            tick_size=tick,
            min_size=_decimal(meta.get("orderMinSize"), "0.01"),
            closed=_truthy(meta.get("closed", False)),
            accepting_orders=_truthy(meta.get("acceptingOrders", True)),
            fees=await self._fees(condition_id),
            tick_fetched_at=self._clock(),
        )
        self._store(info)
        return info
