"""Proposals over the whole catalogue: every pair of venues, open markets only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from itertools import combinations

from arbexec.catalog.matcher import DEFAULT_MAX_TIME_GAP, DEFAULT_PROPOSE_SCORE, Match, propose
from arbexec.catalog.store import Catalog


def catalogue_matches(catalog: Catalog, venues: Iterable[str] = (), *,
                      min_score: float = DEFAULT_PROPOSE_SCORE,
                      max_time_gap: timedelta = DEFAULT_MAX_TIME_GAP) -> Iterator[Match]:
    """Candidates between the open markets of each two venues (all catalogued venues
    unless ``venues`` names some)."""
    names = sorted(set(venues) or set(catalog.counts()))
    for first, second in combinations(names, 2):
        side_b = list(catalog.listings(second))
        if not side_b:
            continue
        yield from propose(catalog.listings(first), side_b, min_score=min_score,
                           max_time_gap=max_time_gap)
