"""Value types of two-leg arbitrage: the pair request, its legs, its outcome.

A pair buys complementary outcomes on two venues (typically YES on one and NO on the
other) so that one dollar is paid per matched contract whatever happens. Everything here is
a frozen value with Decimal money, like the single-order types in ``arbexec.model``; each
leg becomes an ordinary ``OrderRequest`` whose idempotency key is derived from the pair's,
so every leg has the engine's exactly-once guarantee.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen
from attrs.validators import optional

from arbexec.model import (
    ZERO,
    ExecutionResult,
    Outcome,
    RequestError,
    Side,
    TimeInForce,
    now_utc,
    optional_decimal,
    to_decimal,
    utc_datetime,
)


class Sequencing(enum.StrEnum):
    CONCURRENT = "concurrent"  # both legs at once: wall time close to the slower leg
    THINNER_FIRST = "thinner_first"  # the leg with less depth at its limit goes first


class PairState(enum.StrEnum):
    """Where a pair stands. The last five are final; exactly one of them ends every pair."""

    EXECUTING = "EXECUTING"  # journaled; legs being sent or followed
    UNWINDING = "UNWINDING"  # legs filled unequally; closing the imbalance
    HEDGED = "HEDGED"  # equal fills on both legs
    MISSED = "MISSED"  # no fills at all
    UNWOUND = "UNWOUND"  # an imbalance was closed within the maximum unwind loss
    EXPOSED = "EXPOSED"  # an imbalance could not be closed within the bound
    DENIED = "DENIED"  # refused before anything was sent

    @property
    def is_final(self) -> bool:
        return self not in (PairState.EXECUTING, PairState.UNWINDING)


LEG_NAMES = ("a", "b")


def _identifier(_inst: object, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RequestError(attribute.name, "must be a non-empty string")
    if len(value) > 200:
        raise RequestError(attribute.name, "is longer than 200 characters")


def _probability(_inst: object, attribute: Any, value: Decimal) -> None:
    if not ZERO < value < 1:
        raise RequestError(attribute.name, f"{value} is outside (0, 1)")


def _non_negative(_inst: object, attribute: Any, value: Decimal) -> None:
    if value < 0:
        raise RequestError(attribute.name, f"{value} must not be negative")


def _positive(_inst: object, attribute: Any, value: Decimal) -> None:
    if value <= 0:
        raise RequestError(attribute.name, f"{value} must be greater than zero")


@frozen(kw_only=True)
class Leg:
    """One side of a pair: what to buy on which venue, and the worst price to pay."""

    venue: str = field(validator=_identifier)
    market: str = field(validator=_identifier)
    outcome: Outcome = field(converter=Outcome)
    limit_price: Decimal = field(converter=to_decimal, validator=_probability)
    side: Side = field(default=Side.BUY, converter=Side)
    time_in_force: TimeInForce = field(default=TimeInForce.IOC, converter=TimeInForce)

    @property
    def instrument(self) -> tuple[str, str, Outcome]:
        return (self.venue, self.market, self.outcome)


@frozen(kw_only=True)
class PairRequest:
    """Two legs, one quantity, and the bounds the pair must respect.

    ``min_edge`` is per contract after both venues' fees; ``max_unwind_loss`` is in dollars
    for the whole pair (None: the deployment's policy gives it, else the pair is refused);
    ``halt_on_exposed`` None defers to the executor's setting.
    """

    pair_id: str = field(validator=_identifier)
    a: Leg
    b: Leg
    quantity: Decimal = field(converter=to_decimal, validator=_positive)
    min_edge: Decimal = field(default=ZERO, converter=to_decimal)
    max_unwind_loss: Decimal | None = field(default=None, converter=optional_decimal,
                                            validator=optional(_non_negative))
    sequencing: Sequencing = field(default=Sequencing.CONCURRENT, converter=Sequencing)
    halt_on_exposed: bool | None = None
    #: the two markets are one contract with YES and NO swapped (a matched pair marked
    #: inverted): the hedge buys the same outcome on both
    inverted: bool = False
    request_id: str = ""
    tags: Mapping[str, Any] = field(factory=dict, hash=False)
    requested_at: datetime = field(factory=now_utc, converter=utc_datetime)

    def __attrs_post_init__(self) -> None:
        if self.a.side is not Side.BUY or self.b.side is not Side.BUY:
            raise RequestError("legs", "both legs of a pair buy (the hedge is the complement)")
        if self.a.instrument == self.b.instrument:
            raise RequestError("legs", "the two legs trade the same venue, market and outcome")
        if self.a.venue == self.b.venue and self.a.market == self.b.market:
            raise RequestError("legs", "a pair on one market of one venue is not an arbitrage; "
                               "use two venues (or two markets)")
        if self.inverted and self.a.outcome is not self.b.outcome:
            raise RequestError("legs", "an inverted pair buys the same outcome on both "
                               "markets (YES on one is NO on the other)")
        if not self.inverted and self.a.outcome is self.b.outcome:
            raise RequestError("legs", "the legs must buy opposite outcomes (YES and NO); "
                               "set inverted for markets whose YES and NO are swapped")

    @property
    def key(self) -> str:
        return self.pair_id

    def leg(self, name: str) -> Leg:
        return self.a if name == "a" else self.b

    def leg_key(self, name: str) -> str:
        return f"{self.pair_id}:{name}"

    def unwind_key(self, attempt: int) -> str:
        return f"{self.pair_id}:unwind-{attempt}"

    @property
    def locked_edge(self) -> Decimal:
        """Edge per contract at both limits, before fees."""
        return Decimal(1) - self.a.limit_price - self.b.limit_price


@frozen(kw_only=True)
class LegReport:
    """What one leg (or unwind order) did, for the pair's report."""

    name: str
    result: ExecutionResult

    @property
    def latency_ms(self) -> float | None:
        return self.result.latency_final_ms


@frozen(kw_only=True)
class PairResult:
    """A pair's outcome: state, what each leg did, the realised edge, fees, latencies."""

    pair_id: str
    state: PairState
    quantity: Decimal
    hedged_quantity: Decimal = ZERO
    exposed_quantity: Decimal = ZERO  # contracts left unhedged (EXPOSED only)
    realised_edge: Decimal = ZERO  # dollars: paid out by hedged contracts minus all costs
    realised_edge_per_contract: Decimal | None = None
    unwind_loss: Decimal = ZERO
    fees: Mapping[str, Decimal] = field(factory=dict, hash=False)  # per venue
    legs: tuple[LegReport, ...] = ()
    reason_code: str | None = None
    reason: str | None = None
    latency_ms: float | None = None  # whole pair, from start (or resume) to final
    duplicate: bool = False  # the pair key was already final: nothing was sent
    tags: Mapping[str, Any] = field(factory=dict, hash=False)

    @property
    def total_fees(self) -> Decimal:
        return sum(self.fees.values(), ZERO)


# ---------------------------------------------------------------------------- parsing

_PAIR_FIELDS = frozenset({
    "pair_id", "request_id", "idempotency_key", "quantity", "legs", "a", "b", "min_edge",
    "max_unwind_loss", "sequencing", "halt_on_exposed", "tags", "requested_at", "inverted",
})
_LEG_FIELDS = frozenset({"venue", "market", "outcome", "side", "limit_price", "price",
                         "time_in_force"})


def _leg_from(data: Any, where: str) -> Leg:
    if not isinstance(data, Mapping):
        raise RequestError(where, "must be an object with venue, market, outcome, limit_price")
    unknown = sorted(set(data) - _LEG_FIELDS)
    if unknown:
        raise RequestError(f"{where}.{unknown[0]}",
                           f"unknown field; valid fields are {', '.join(sorted(_LEG_FIELDS))}")
    values = dict(data)
    if "price" in values:
        values.setdefault("limit_price", values.pop("price"))
    for name in ("venue", "market", "outcome", "limit_price"):
        if values.get(name) in (None, ""):
            raise RequestError(f"{where}.{name}", "is required")
    for name, allowed in (("outcome", Outcome), ("side", Side), ("time_in_force", TimeInForce)):
        if name in values:
            text = str(values[name]).upper()
            if text not in {m.value for m in allowed}:
                raise RequestError(f"{where}.{name}", f"{values[name]!r} is not one of "
                                   f"{', '.join(m.value for m in allowed)}")
            values[name] = text
    if values.get("time_in_force") == TimeInForce.GTD.value:
        raise RequestError(f"{where}.time_in_force", "GTD is not supported for pair legs")
    try:
        values["limit_price"] = _number(values["limit_price"], f"{where}.limit_price")
        return Leg(**values)
    except RequestError as exc:
        raise RequestError(f"{where}.{exc.field}" if not exc.field.startswith(where)
                           else exc.field, exc.message) from None


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise RequestError(name, "must be a number")
    try:
        return to_decimal(value)
    except (TypeError, ValueError) as exc:
        raise RequestError(name, str(exc)) from None


def pair_from_mapping(data: Mapping[str, Any]) -> PairRequest:
    """Build a ``PairRequest`` from untrusted data; raise ``RequestError`` naming the field.

    The legs come as ``"legs": [{...}, {...}]`` or as ``"a": {...}, "b": {...}``. The pair
    key is ``pair_id`` (or ``idempotency_key``, or ``request_id``).
    """
    if not isinstance(data, Mapping):
        raise RequestError("pair", "must be a JSON object")
    unknown = sorted(set(data) - _PAIR_FIELDS)
    if unknown:
        raise RequestError(unknown[0], "unknown field; valid fields are "
                           f"{', '.join(sorted(_PAIR_FIELDS))}")
    key = data.get("pair_id") or data.get("idempotency_key") or data.get("request_id")
    if not key:
        raise RequestError("pair_id", "is required (the pair's idempotency key)")
    if "legs" in data:
        legs = data["legs"]
        if not isinstance(legs, list | tuple) or len(legs) != 2:
            raise RequestError("legs", "must be a list of exactly two legs")
        a, b = _leg_from(legs[0], "legs[0]"), _leg_from(legs[1], "legs[1]")
    elif "a" in data and "b" in data:
        a, b = _leg_from(data["a"], "a"), _leg_from(data["b"], "b")
    else:
        raise RequestError("legs", "is required: two legs, e.g. [{venue, market, outcome: YES, "
                           "limit_price}, {venue, market, outcome: NO, limit_price}]")
    if data.get("quantity") in (None, ""):
        raise RequestError("quantity", "is required")
    values: dict[str, Any] = {
        "pair_id": str(key), "a": a, "b": b,
        "quantity": _number(data["quantity"], "quantity"),
        "request_id": str(data.get("request_id") or key),
    }
    for name in ("min_edge", "max_unwind_loss"):
        if data.get(name) is not None:
            values[name] = _number(data[name], name)
    if data.get("sequencing") is not None:
        text = str(data["sequencing"]).lower().replace("-", "_")
        if text not in {s.value for s in Sequencing}:
            raise RequestError("sequencing", f"{data['sequencing']!r} is not one of "
                               f"{', '.join(s.value for s in Sequencing)}")
        values["sequencing"] = text
    if data.get("halt_on_exposed") is not None:
        if not isinstance(data["halt_on_exposed"], bool):
            raise RequestError("halt_on_exposed", "must be true or false")
        values["halt_on_exposed"] = data["halt_on_exposed"]
    if data.get("inverted") is not None:
        if not isinstance(data["inverted"], bool):
            raise RequestError("inverted", "must be true or false")
        values["inverted"] = data["inverted"]
    if data.get("tags") is not None:
        if not isinstance(data["tags"], Mapping):
            raise RequestError("tags", "must be an object of names to values")
        values["tags"] = dict(data["tags"])
    if data.get("requested_at") is not None:
        try:
            values["requested_at"] = utc_datetime(data["requested_at"])
        except (TypeError, ValueError) as exc:
            raise RequestError("requested_at", f"{exc}; use ISO-8601 with a timezone") from None
    try:
        return PairRequest(**values)
    except RequestError:
        raise
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RequestError("pair", str(exc)) from None


def leg_to_dict(leg: Leg) -> dict[str, Any]:
    return {"venue": leg.venue, "market": leg.market, "outcome": leg.outcome.value,
            "side": leg.side.value, "limit_price": str(leg.limit_price),
            "time_in_force": leg.time_in_force.value}


def pair_to_dict(pair: PairRequest) -> dict[str, Any]:
    """The pair as JSON-ready data, in the form ``pair_from_mapping`` reads back."""
    data: dict[str, Any] = {
        "pair_id": pair.pair_id, "request_id": pair.request_id,
        "quantity": str(pair.quantity), "legs": [leg_to_dict(pair.a), leg_to_dict(pair.b)],
        "min_edge": str(pair.min_edge),
        "sequencing": pair.sequencing.value, "requested_at": pair.requested_at.isoformat(),
    }
    if pair.max_unwind_loss is not None:
        data["max_unwind_loss"] = str(pair.max_unwind_loss)
    if pair.halt_on_exposed is not None:
        data["halt_on_exposed"] = pair.halt_on_exposed
    if pair.inverted:
        data["inverted"] = True
    if pair.tags:
        data["tags"] = dict(pair.tags)
    return data


def pair_result_to_dict(result: PairResult) -> dict[str, Any]:
    from arbexec.sinks.render import result_to_dict

    return {
        "pair_id": result.pair_id, "state": result.state.value,
        "quantity": str(result.quantity), "hedged_quantity": str(result.hedged_quantity),
        "exposed_quantity": str(result.exposed_quantity),
        "realised_edge": str(result.realised_edge),
        "realised_edge_per_contract": (None if result.realised_edge_per_contract is None
                                       else str(result.realised_edge_per_contract)),
        "unwind_loss": str(result.unwind_loss),
        "fees": {venue: str(fee) for venue, fee in result.fees.items()},
        "total_fees": str(result.total_fees),
        "reason_code": result.reason_code, "reason": result.reason,
        "latency_ms": None if result.latency_ms is None else round(result.latency_ms, 3),
        "legs": [{"leg": leg.name, "latency_ms": (None if leg.latency_ms is None
                                                  else round(leg.latency_ms, 3)),
                  **result_to_dict(leg.result)} for leg in result.legs],
        "duplicate": result.duplicate, "tags": dict(result.tags),
    }


def pair_result_row(result: PairResult) -> str:
    """``HEDGED  arb-1  10/10 hedged  edge 0.35 (0.035/contract)  fees a 0.1 b 0.2  ...``"""
    parts = [f"{result.state.value:<8}", result.pair_id,
             f"{result.hedged_quantity}/{result.quantity} hedged"]
    if result.realised_edge_per_contract is not None:
        parts.append(f"edge {result.realised_edge} "
                     f"({result.realised_edge_per_contract.normalize()}/contract)")
    elif result.realised_edge:
        parts.append(f"edge {result.realised_edge}")
    if result.fees:
        parts.append("fees " + " ".join(f"{v} {f}" for v, f in result.fees.items()))
    if result.unwind_loss:
        parts.append(f"unwind loss {result.unwind_loss}")
    if result.exposed_quantity:
        parts.append(f"EXPOSED {result.exposed_quantity}")
    legs = [f"{leg.name} {leg.result.status.value} {leg.result.filled_quantity}"
            + (f"@{leg.result.average_price}" if leg.result.average_price else "")
            + (f" {leg.latency_ms:.1f}ms" if leg.latency_ms is not None else "")
            for leg in result.legs]
    if legs:
        parts.append("[" + "; ".join(legs) + "]")
    if result.reason:
        parts.append(f"[{result.reason_code}] {result.reason}")
    if result.duplicate:
        parts.append("(duplicate pair key: nothing sent)")
    return "  ".join(parts)


__all__ = [
    "LEG_NAMES",
    "Leg",
    "LegReport",
    "PairRequest",
    "PairResult",
    "PairState",
    "Sequencing",
    "leg_to_dict",
    "pair_from_mapping",
    "pair_result_row",
    "pair_result_to_dict",
    "pair_to_dict",
]
