"""What people and syncs do to the pairs file: merge proposals, review, deactivate.

A proposal never overwrites a review: pairs already accepted, rejected or deactivated keep
their status, inversion and reason when the matcher proposes them again (only their score
and flags are refreshed). An accepted pair whose market closed or changed (title, close
time, rules) since it was proposed becomes ``inactive`` with the reason; a person who
still wants it re-accepts it, which records the market as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from arbexec.catalog.listing import MarketListing, MarketStatus
from arbexec.catalog.matcher import Match
from arbexec.catalog.pairfile import MarketRef, MatchedPair, PairStatus
from arbexec.catalog.store import Catalog
from arbexec.errors import UserError
from arbexec.model import now_utc


def ref_of(listing: MarketListing) -> MarketRef:
    closes = listing.close_time.isoformat() if listing.close_time else ""
    return MarketRef(venue=listing.venue, market=listing.market, title=listing.title,
                     closes_at=closes, rules_digest=listing.rules_digest)


def pair_of(match: Match) -> MatchedPair:
    """The proposal for a match, its sides in venue order so its id is stable."""
    a, b = (match.a, match.b) if match.a.key <= match.b.key else (match.b, match.a)
    return MatchedPair(a=ref_of(a), b=ref_of(b), inverted=match.inverted,
                       score=match.score, flags=match.flags)


def merge_proposals(existing: Iterable[MatchedPair],
                    matches: Iterable[Match]) -> tuple[list[MatchedPair], int]:
    """The pairs file with ``matches`` proposed; returns it and how many pairs are new."""
    pairs = {p.id: p for p in existing}
    added = 0
    for match in matches:
        proposal = pair_of(match)
        known = pairs.get(proposal.id)
        if known is None:
            pairs[proposal.id] = proposal
            added += 1
        elif known.status is PairStatus.PROPOSED:
            pairs[proposal.id] = proposal  # nobody decided yet: the latest view stands
        else:
            pairs[proposal.id] = attrs.evolve(known, score=proposal.score, flags=proposal.flags)
    return list(pairs.values()), added


def _stamp(at: datetime | None) -> str:
    return (at or now_utc()).isoformat(timespec="seconds")


def accept(pair: MatchedPair, catalog: Catalog | None = None, *,
           at: datetime | None = None) -> MatchedPair:
    """Accepted as the markets are now (their close time and rules recorded afresh)."""
    a, b = pair.a, pair.b
    if catalog is not None:
        found_a, found_b = catalog.get(a.venue, a.market), catalog.get(b.venue, b.market)
        a = ref_of(found_a) if found_a is not None else a
        b = ref_of(found_b) if found_b is not None else b
    return attrs.evolve(pair, a=a, b=b, status=PairStatus.ACCEPTED, reason="",
                        reviewed_at=_stamp(at))


def invert(pair: MatchedPair, catalog: Catalog | None = None, *,
           at: datetime | None = None) -> MatchedPair:
    """The person says the polarity is the other way round: flip it and accept."""
    return accept(attrs.evolve(pair, inverted=not pair.inverted), catalog, at=at)


def reject(pair: MatchedPair, reason: str, *, at: datetime | None = None) -> MatchedPair:
    return attrs.evolve(pair, status=PairStatus.REJECTED, reason=reason,
                        reviewed_at=_stamp(at))


def find_pair(pairs: list[MatchedPair], ref: str) -> int:
    """The index of the pair with this id, or with an id starting with ``ref`` (unique)."""
    exact = [i for i, p in enumerate(pairs) if p.id == ref]
    found = exact or [i for i, p in enumerate(pairs) if p.id.startswith(ref)]
    if not found:
        raise UserError(f"no pair {ref!r} in the pairs file (see `arbexec pairs review "
                        "--list`)")
    if len(found) > 1:
        raise UserError(f"{ref!r} names {len(found)} pairs; give more of the id")
    return found[0]


def change_of(ref: MarketRef, now: MarketListing | None) -> str:
    """Why a reviewed side no longer stands, or '' if it does (or is not in the catalogue)."""
    if now is None:
        return ""
    where = f"{ref.venue}:{ref.market}"
    if now.status not in (MarketStatus.OPEN, MarketStatus.UNOPENED, MarketStatus.UNKNOWN):
        return f"{where} is {now.status.value} ({now.venue_status or 'venue status'})"
    if ref.title and now.title != ref.title:
        return f"{where} title changed from {ref.title!r} to {now.title!r}"
    closes = now.close_time.isoformat() if now.close_time else ""
    if ref.closes_at and closes != ref.closes_at:
        return f"{where} close time moved from {ref.closes_at} to {closes or 'none'}"
    if ref.rules_digest and now.rules_digest != ref.rules_digest:
        return f"{where} rules text changed"
    return ""


def deactivate_changed(pairs: Iterable[MatchedPair], catalog: Catalog, *,
                       at: datetime | None = None) -> tuple[list[MatchedPair], list[MatchedPair]]:
    """Accepted pairs whose market closed or changed become inactive with the reason.
    Returns every pair and those just deactivated."""
    out, changed = [], []
    for pair in pairs:
        if pair.status is PairStatus.ACCEPTED:
            reasons = [r for r in (change_of(ref, catalog.get(ref.venue, ref.market))
                                   for ref in (pair.a, pair.b)) if r]
            if reasons:
                pair = attrs.evolve(pair, status=PairStatus.INACTIVE, reason="; ".join(reasons),
                                    reviewed_at=_stamp(at))
                changed.append(pair)
        out.append(pair)
    return out, changed
