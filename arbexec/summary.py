"""The end-of-run summary: what happened to every request, with money and latency figures,
and what still needs a person (UNKNOWN orders left, EXPOSED pairs, a halt during the run)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from attrs import define, field

from arbexec.model import ExecutionResult, OrderStatus, Side


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in [0, 100]) of an unsorted list."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@define
class RunSummary:
    statuses: Counter[str] = field(factory=Counter)
    duplicates: int = 0
    invalid: int = 0
    bought: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    contracts: Decimal = Decimal(0)
    latencies_ms: list[float] = field(factory=list)
    ack_latencies_ms: list[float] = field(factory=list)
    wall_seconds: float = 0.0
    errors: int = 0  # requests whose execution raised (a bug), reported on stderr
    journal_problem: str | None = None  # the journal stopped taking orders: exit non-zero
    partial: int = 0  # filled in part, whatever their state (resting, cancelled, expired)
    reasons: Counter[str] = field(factory=Counter)  # reason codes of non-duplicates
    by_venue: dict[str, Counter[str]] = field(factory=dict)  # venue -> status -> count
    duplicate_ids: list[str] = field(factory=list)
    pair_states: Counter[str] = field(factory=Counter)
    exposed_pairs: list[str] = field(factory=list)
    #: filled in at the end of the run, from the journal
    journal: str | None = None
    still_open: int = 0  # resting on their venues (OPEN, PARTIALLY_FILLED)
    unknown_left: list[str] = field(factory=list)  # request ids still UNKNOWN or PENDING
    halted_during_run: str | None = None  # the halt's reason, if the run was halted

    def add(self, result: ExecutionResult) -> None:
        self.statuses[result.status.value] += 1
        if result.venue:
            self.by_venue.setdefault(result.venue, Counter())[result.status.value] += 1
        if result.duplicate:
            self.duplicates += 1
            self.duplicate_ids.append(result.request_id)
            return
        if result.reason_code:
            self.reasons[result.reason_code] += 1
        if result.reason_code == "invalid_request":
            self.invalid += 1
        if (result.quantity is not None and 0 < result.filled_quantity < result.quantity):
            self.partial += 1
        if result.average_price is not None and result.filled_quantity:
            notional = result.filled_quantity * result.average_price
            if result.side is Side.SELL:
                self.sold += notional
            else:
                self.bought += notional
            self.contracts += result.filled_quantity
        self.fees += result.fees
        if result.latency_final_ms is not None and result.status is not OrderStatus.DENIED:
            self.latencies_ms.append(result.latency_final_ms)
        if result.latency_ack_ms is not None:
            self.ack_latencies_ms.append(result.latency_ack_ms)

    def add_pair(self, pair_id: str, state: str, duplicate: bool) -> None:
        self.pair_states[state] += 1
        if state == "EXPOSED" and not duplicate:
            self.exposed_pairs.append(pair_id)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + self.errors

    @property
    def attention(self) -> list[str]:
        """What a person must look at: empty when the run ended cleanly."""
        needs = []
        if self.unknown_left:
            needs.append(f"{len(self.unknown_left)} order(s) still UNKNOWN (the venue has not "
                         "confirmed them): `arbexec reconcile`")
        if self.exposed_pairs:
            needs.append(f"pair(s) EXPOSED: {', '.join(self.exposed_pairs)} (`arbexec pairs`)")
        if self.halted_during_run:
            needs.append(f"trading was halted during the run: {self.halted_during_run} "
                         "(`arbexec status`; `arbexec resume` lifts it)")
        if self.errors:
            needs.append(f"{self.errors} request(s) failed with an error (see stderr): "
                         "`arbexec reconcile`")
        return needs

    def as_dict(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "requests": self.total,
            "statuses": dict(sorted(self.statuses.items())),
            "partially_filled": self.partial,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "journal_problem": self.journal_problem,
            "invalid_lines": self.invalid,
            "contracts_filled": _plain(self.contracts),
            "notional_bought": _plain(self.bought),
            "notional_sold": _plain(self.sold),
            "fees": _plain(self.fees),
            "latency_ms": {
                "p50": _round(percentile(lat, 50)),
                "p90": _round(percentile(lat, 90)),
                "p99": _round(percentile(lat, 99)),
                "max": _round(max(lat) if lat else None),
            },
            "wall_seconds": round(self.wall_seconds, 3),
            "requests_per_second": (
                round(self.total / self.wall_seconds, 1) if self.wall_seconds > 0 else None
            ),
            "reasons": dict(sorted(self.reasons.items())),
            "by_venue": {v: dict(sorted(c.items())) for v, c in sorted(self.by_venue.items())},
            "duplicate_requests": list(self.duplicate_ids),
            "pairs": dict(sorted(self.pair_states.items())),
            "exposed_pairs": list(self.exposed_pairs),
            "still_open": self.still_open,
            "unknown_left": list(self.unknown_left),
            "halted_during_run": self.halted_during_run,
            "journal": self.journal,
            "needs_attention": self.attention,
        }

    def render(self) -> str:
        d = self.as_dict()
        order = ["FILLED", "PARTIALLY_FILLED", "OPEN", "CANCELLED", "EXPIRED", "DENIED",
                 "REJECTED", "UNKNOWN", "PENDING"]
        counts = ", ".join(f"{s.lower().replace('_', ' ')} {self.statuses[s]}"
                           for s in order if self.statuses.get(s))
        lat = d["latency_ms"]
        lines = [
            "",
            f"Summary: {d['requests']} requests in {d['wall_seconds']}s"
            + (f" ({d['requests_per_second']}/s)" if d["requests_per_second"] else ""),
            f"  outcomes:  {counts or 'none'}",
        ]
        if self.partial:
            lines.append(f"  partially filled: {self.partial} (some contracts filled; the rest "
                         "cancelled, expired or resting)")
        if self.by_venue:
            lines.append("  by venue:  " + "; ".join(
                f"{venue} " + ", ".join(f"{s.lower().replace('_', ' ')} {c[s]}"
                                        for s in order if c.get(s))
                for venue, c in sorted(self.by_venue.items())))
        if self.reasons:
            lines.append("  reasons:   " + ", ".join(
                f"{code} {n}" for code, n in sorted(self.reasons.items(),
                                                    key=lambda item: (-item[1], item[0]))))
        if self.pair_states:
            lines.append("  pairs:     " + ", ".join(
                f"{state.lower()} {n}" for state, n in sorted(self.pair_states.items())))
        if self.duplicates:
            shown = ", ".join(self.duplicate_ids[:10]) + (
                f" and {len(self.duplicate_ids) - 10} more" if len(self.duplicate_ids) > 10
                else "")
            lines.append(f"  duplicates: {self.duplicates} (idempotency key already executed; "
                         f"nothing sent): {shown}")
        if self.errors:
            lines.append(f"  errors:    {self.errors} (see stderr; run `arbexec reconcile`)")
        if self.journal_problem:
            lines.append(f"  JOURNAL:   {self.journal_problem}; later requests were DENIED "
                         "and nothing was sent for them; orders already sent were followed")
        if self.invalid:
            lines.append(f"  invalid lines: {self.invalid} (recorded as DENIED)")
        lines.append(f"  filled:    {d['contracts_filled']} contracts; bought "
                     f"${money_text(self.bought)}, sold ${money_text(self.sold)}; fees "
                     f"${money_text(self.fees)}")
        if lat["p50"] is not None:
            lines.append(f"  latency:   p50 {lat['p50']}ms  p90 {lat['p90']}ms  "
                         f"p99 {lat['p99']}ms  max {lat['max']}ms (request to final or report)")
        if self.journal is not None:
            lines.append(f"  journal:   {self.journal}")
            if self.still_open:
                lines.append(f"  still open: {self.still_open} order(s) resting on their venues "
                             "(`arbexec orders --open`; `arbexec cancel-all` cancels them)")
        for need in self.attention:
            lines.append(f"  ATTENTION: {need}")
        return "\n".join(lines)


def _plain(value: Decimal) -> str:
    """Exact, without trailing zeros or exponent: 472.63000 -> 472.63, 0E-8 -> 0."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def money_text(value: Decimal) -> str:
    """Dollars, exact, with at least cents: 10.2 -> 10.20, 20.7904 -> 20.7904."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        normal = normal.quantize(Decimal("0.01"))
    return f"{normal:f}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
