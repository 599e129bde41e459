"""The file of matched pairs: markets on two venues that a person says are one contract.

Pairs are proposed by the matcher and never trusted until reviewed; only ``accepted`` pairs
are scanned or traded. The file is plain TOML so a user can edit it and keep it in git:

    [[pairs]]
    id = "polymarket:0xab..~kalshi:KXBTC-26DEC31-B100000"
    status = "accepted"        # proposed | accepted | rejected | inactive
    inverted = false           # true: YES on a is NO on b
    a = { venue = "polymarket", market = "0xab...", title = "Bitcoin above $100k on Dec 31?" }
    b = { venue = "kalshi", market = "KXBTC-26DEC31-B100000", title = "Bitcoin above 100,000?" }
    score = 0.93
    flags = ["date_differs"]   # what the matcher found suspicious
    reason = ""                # why rejected or deactivated
    reviewed_at = "2026-12-02T01:00:00+00:00"

``market`` is the id an order request uses on that venue (Kalshi ticker, Polymarket
condition id or token id, paper market).
"""

from __future__ import annotations

import enum
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from arbexec.errors import ConfigError
from arbexec.tomlfile import read_toml


class PairStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INACTIVE = "inactive"  # was accepted; a market closed or changed (``reason`` says which)


@attrs.frozen
class MarketRef:
    """One side of a pair: a market as an order request names it, and its title for people.

    ``closes_at`` and ``rules_digest`` are the market's close time and a digest of its rules
    text when the pair was proposed: a sync that finds them changed deactivates the pair."""

    venue: str
    market: str
    title: str = ""
    closes_at: str = ""
    rules_digest: str = ""


@attrs.frozen
class MatchedPair:
    """Two markets believed to be one contract, and what a person decided about them."""

    a: MarketRef
    b: MarketRef
    status: PairStatus = PairStatus.PROPOSED
    inverted: bool = False
    score: float = 0.0
    flags: tuple[str, ...] = ()
    reason: str = ""
    reviewed_at: str = ""
    id: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", pair_id(self.a, self.b))

    def hedge_outcome(self, a_outcome: str) -> str:
        """The outcome on ``b`` that pays exactly when ``a_outcome`` on ``a`` does not."""
        same = {"YES": "NO", "NO": "YES"}[a_outcome]
        return a_outcome if self.inverted else same


def pair_id(a: MarketRef, b: MarketRef) -> str:
    """A stable id from the two markets, so a re-proposed pair keeps its review."""
    return f"{a.venue}:{a.market}~{b.venue}:{b.market}"


_KEYS = {"id", "status", "inverted", "a", "b", "score", "flags", "reason", "reviewed_at"}


def load_pairs(path: Path) -> list[MatchedPair]:
    """Every pair in the file (missing file: none), or a ``ConfigError`` naming the entry."""
    if not path.exists():
        return []
    data = read_toml(path, what="pairs file")
    entries = data.get("pairs", [])
    if not isinstance(entries, list):
        raise ConfigError("`pairs` must be an array of tables ([[pairs]])", source=str(path))
    return [_pair_from(entry, f"{path}: pairs[{i}]") for i, entry in enumerate(entries)]


def accepted(pairs: Iterable[MatchedPair]) -> list[MatchedPair]:
    return [p for p in pairs if p.status is PairStatus.ACCEPTED]


def save_pairs(path: Path, pairs: Iterable[MatchedPair]) -> None:
    """Write the file atomically (a crash leaves the old file or the new one, never half)."""
    lines = ["# Matched markets across venues (arbexec pairs review). Only status = \"accepted\"",
             "# pairs are scanned or traded. inverted = true: YES on a is NO on b.", ""]
    for p in pairs:
        lines += ["[[pairs]]", f"id = {_q(p.id)}", f"status = {_q(p.status.value)}",
                  f"inverted = {'true' if p.inverted else 'false'}",
                  f"a = {_ref(p.a)}", f"b = {_ref(p.b)}", f"score = {p.score:.4f}",
                  f"flags = [{', '.join(_q(f) for f in p.flags)}]",
                  f"reason = {_q(p.reason)}", f"reviewed_at = {_q(p.reviewed_at)}", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _ref(ref: MarketRef) -> str:
    extra = "".join(f", {key} = {_q(value)}" for key, value in (
        ("closes_at", ref.closes_at), ("rules_digest", ref.rules_digest)) if value)
    return (f"{{ venue = {_q(ref.venue)}, market = {_q(ref.market)}, "
            f"title = {_q(ref.title)}{extra} }}")


def _pair_from(entry: Any, where: str) -> MatchedPair:
    if not isinstance(entry, dict):
        raise ConfigError("each pair must be a table", source=where)
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}; valid keys are {', '.join(sorted(_KEYS))}",
                          source=where)
    try:
        status = PairStatus(entry.get("status", "proposed"))
    except ValueError:
        raise ConfigError(f"status {entry.get('status')!r} is not one of "
                          f"{', '.join(s.value for s in PairStatus)}", source=where) from None
    flags = entry.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ConfigError("flags must be a list of strings", source=where)
    if not isinstance(entry.get("inverted", False), bool):
        raise ConfigError("inverted must be true or false", source=where)
    score = entry.get("score", 0.0)
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise ConfigError("score must be a number", source=where)
    return MatchedPair(a=_ref_from(entry.get("a"), f"{where}.a"),
                       b=_ref_from(entry.get("b"), f"{where}.b"), status=status,
                       inverted=entry.get("inverted", False), score=float(score),
                       flags=tuple(flags), reason=str(entry.get("reason", "")),
                       reviewed_at=str(entry.get("reviewed_at", "")),
                       id=str(entry.get("id", "")))


def _ref_from(data: Any, where: str) -> MarketRef:
    if not isinstance(data, dict) or not isinstance(data.get("venue"), str) or not isinstance(
            data.get("market"), str) or not data["venue"] or not data["market"]:
        raise ConfigError("must be a table with venue and market strings, e.g. "
                          '{ venue = "kalshi", market = "KXBTC-26DEC31-B100000" }', source=where)
    return MarketRef(venue=data["venue"], market=data["market"], title=str(data.get("title", "")),
                     closes_at=str(data.get("closes_at", "")),
                     rules_digest=str(data.get("rules_digest", "")))
