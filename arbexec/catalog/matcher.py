"""Propose pairs of markets on two venues that may be one contract, with a score and flags.

Candidates must close (or resolve) within ``max_time_gap`` of each other; that gate also
keeps the work small (markets are bucketed by close day). Among those, the titles are
compared with rapidfuzz's token-set ratio and the facts of ``features`` (numbers, dates,
direction, scope, sources, outcome labels) are compared one by one. A disagreement is a
flag, never a silent discount: look-alike titles are where different contracts hide.

A proposal with a high score and no flag is what ``arbexec pairs review
--accept-unflagged`` accepts; everything else waits for a person. ``inverted`` means YES
on one venue is NO on the other (opposite direction at the same threshold, a negated
title, or the other team's outcome label); it is also a flag, so it is always reviewed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from attrs import frozen
from rapidfuzz import fuzz, process

from arbexec.catalog.features import DateMention, Features, features
from arbexec.catalog.listing import MarketListing

#: Flags, with what each means for the person reviewing.
FLAGS = {
    "inverted": "YES on one venue is NO on the other",
    "threshold_differs": "the titles name different numbers (thresholds, ranges)",
    "date_differs": "the titles name different dates or periods",
    "direction_differs": "one asks above, the other below, at different thresholds",
    "source_differs": "the markets resolve from different sources",
    "rules_differ": "one resolves on touching a level, the other on a level at a time",
    "scope_differs": "one is a single game (or part of one), the other a series or season",
    "outcome_differs": "the outcome labels name different subjects",
    "names_differ": "each title names someone or something the other does not",
    "close_time_differs": "the close times are more than a day and a half apart",
    "time_unknown": "a market has no close or resolution time to compare",
}
DEFAULT_MIN_SCORE = 0.80  # accepted by default from here, when unflagged
DEFAULT_PROPOSE_SCORE = 0.55  # proposed for review from here
DEFAULT_MAX_TIME_GAP = timedelta(days=3)
_CLOSE_SLACK = timedelta(hours=36)
_TITLE_CUTOFF = 55.0  # token-set ratio below which a candidate is not scored at all
_PER_MARKET = 5  # candidates kept per market before scoring


@frozen
class Match:
    a: MarketListing
    b: MarketListing
    score: float
    flags: tuple[str, ...]
    inverted: bool

    @property
    def unflagged(self) -> bool:
        return not self.flags


def _times(listing: MarketListing) -> list[datetime]:
    return [t for t in (listing.close_time, listing.resolution_time, listing.expiration_time)
            if t is not None]


def time_gap(a: MarketListing, b: MarketListing) -> timedelta | None:
    """The smallest distance between the markets' close, resolution and expiry times."""
    ta, tb = _times(a), _times(b)
    if not ta or not tb:
        return None
    return min(abs(x - y) for x in ta for y in tb)


def _dates_agree(da: tuple[DateMention, ...], db: tuple[DateMention, ...]) -> bool:
    if not da and not db:
        return True
    if not da or not db:
        return True  # one title names no date: the close-time gate decides
    if len(da) != len(db):
        return False
    used: set[int] = set()
    for mention in da:
        for i, other in enumerate(db):
            if i not in used and mention.same_moment(other) and _qualifiers_agree(
                    mention.qualifier, other.qualifier):
                used.add(i)
                break
        else:
            return False
    return True


def _qualifiers_agree(qa: str, qb: str) -> bool:
    """"by June 30" is a window up to a date; "on June 30" is that day alone."""
    window = {"by", "before", "until", "through", "by end of", "end of"}
    return (qa in window) == (qb in window) or not qa or not qb


def _subjects(fa: Features, fb: Features) -> str:
    """'same', 'inverted', 'differs' or '' (nothing to compare)."""
    if not fa.yes_subject or not fb.yes_subject:
        return ""

    def close(x: str, y: str) -> bool:
        return bool(x and y) and (fuzz.token_set_ratio(x, y) >= 80 or x in y or y in x)

    if close(fa.yes_subject, fb.yes_subject):
        return "same"
    if close(fa.no_subject, fb.yes_subject) or close(fa.yes_subject, fb.no_subject):
        return "inverted"
    return "differs"


def compare(a: MarketListing, b: MarketListing, *, fa: Features | None = None,
            fb: Features | None = None) -> Match:
    """Score two markets believed comparable and flag every disagreement."""
    fa = fa or features(a)
    fb = fb or features(b)
    flags: list[str] = []
    title = fuzz.token_set_ratio(fa.words, fb.words) / 100
    inverted = False
    if fa.direction and fb.direction and fa.direction != fb.direction:
        if fa.numbers == fb.numbers:
            inverted = True
        else:
            flags.append("direction_differs")
    if fa.negated != fb.negated:
        inverted = not inverted
    subjects = _subjects(fa, fb)
    if subjects == "inverted":
        inverted = not inverted
    elif subjects == "differs":
        flags.append("outcome_differs")
    numbers_agree = fa.numbers == fb.numbers or not fa.numbers or not fb.numbers
    if not numbers_agree and "direction_differs" not in flags:
        flags.append("threshold_differs")
    dates_agree = _dates_agree(fa.dates, fb.dates) and (
        not fa.years or not fb.years or bool(fa.years & fb.years))
    if not dates_agree:
        flags.append("date_differs")
    if (fa.names - fb.tokens) and (fb.names - fa.tokens) and subjects != "same":
        flags.append("names_differ")
    if fa.sources and fb.sources and not fa.sources & fb.sources:
        flags.append("source_differs")
    if fa.settles and fb.settles and fa.settles != fb.settles:
        flags.append("rules_differ")
    if fa.scope != fb.scope and {"series", "part"} & {fa.scope, fb.scope}:
        flags.append("scope_differs")
    gap = time_gap(a, b)
    if gap is None:
        flags.append("time_unknown")
        closeness = 0.5
    else:
        if gap > _CLOSE_SLACK:
            flags.append("close_time_differs")
        closeness = max(0.0, 1 - gap / DEFAULT_MAX_TIME_GAP)
    if inverted:
        flags.insert(0, "inverted")
    outcome_score = {"same": 1.0, "inverted": 0.8, "differs": 0.0, "": 0.8}[subjects]
    score = (0.6 * title + 0.12 * float(numbers_agree) + 0.1 * float(dates_agree)
             + 0.08 * outcome_score + 0.1 * closeness)
    return Match(a, b, round(score, 4), tuple(dict.fromkeys(flags)), inverted)


def _day(listing: MarketListing) -> int | None:
    times = _times(listing)
    return None if not times else times[0].toordinal()


def propose(side_a: Iterable[MarketListing], side_b: Iterable[MarketListing], *,
            max_time_gap: timedelta = DEFAULT_MAX_TIME_GAP,
            min_score: float = DEFAULT_PROPOSE_SCORE) -> Iterator[Match]:
    """Candidate pairs (a from ``side_a``, b from ``side_b``), best first per market of a:
    within ``max_time_gap`` of each other and scoring at least ``min_score``."""
    by_day: dict[int | None, list[tuple[MarketListing, Features]]] = defaultdict(list)
    for b in side_b:
        by_day[_day(b)].append((b, features(b)))
    reach = max_time_gap.days + 1
    pools: dict[int | None, tuple[list[tuple[MarketListing, Features]], list[str]]] = {}
    for a in side_a:
        day = _day(a)
        if day not in pools:  # the markets of the days around this one, built once a day
            pool: list[tuple[MarketListing, Features]] = []
            if day is None:
                for entries in by_day.values():
                    pool.extend(entries)
            else:
                for d in range(day - reach, day + reach + 1):
                    pool.extend(by_day.get(d, ()))
                pool.extend(by_day.get(None, ()))
            pools[day] = (pool, [fb.words for _, fb in pool])
        pool, words = pools[day]
        if not pool:
            continue
        fa = features(a)
        found = process.extract(fa.words, words, scorer=fuzz.token_set_ratio,
                                score_cutoff=_TITLE_CUTOFF, limit=_PER_MARKET)
        for _, _, index in found:
            b, fb = pool[index]
            gap = time_gap(a, b)
            if gap is not None and gap > max_time_gap:
                continue
            match = compare(a, b, fa=fa, fb=fb)
            if match.score >= min_score:
                yield match


def accepted_by_default(match: Match, min_score: float = DEFAULT_MIN_SCORE) -> bool:
    return match.unflagged and match.score >= min_score
