"""The matcher on the labelled set: precision and recall, polarity, and the flags that
must catch each kind of look-alike. docs/markets.md quotes the figures printed here."""

from __future__ import annotations

from collections import Counter

import pytest
from labelled import labelled

from arbexec.catalog.matcher import (
    DEFAULT_MAX_TIME_GAP,
    DEFAULT_MIN_SCORE,
    DEFAULT_PROPOSE_SCORE,
    Match,
    accepted_by_default,
    compare,
    propose,
    time_gap,
)

#: the flag each kind of look-alike negative must carry (any one of them)
EXPECTED = {
    "threshold": {"threshold_differs", "direction_differs"},
    "date": {"date_differs"},
    "source": {"source_differs"},
    "rules": {"rules_differ"},
    "scope": {"scope_differs"},
    "outcome": {"outcome_differs", "names_differ"},
}


def _evaluated() -> list[tuple[Match, bool, str, str]]:
    out = []
    for a, b, label, why in labelled():
        gap = time_gap(a, b)
        gated = gap is not None and gap > DEFAULT_MAX_TIME_GAP
        match = compare(a, b)
        out.append((match, not gated and match.score >= DEFAULT_PROPOSE_SCORE, label, why))
    return out


def figures(min_score: float = DEFAULT_MIN_SCORE) -> dict[str, float]:
    rows = _evaluated()
    true = [r for r in rows if r[2] in ("same", "inverted")]
    same = [r for r in rows if r[2] == "same"]
    negatives = [r for r in rows if r[2] == "different"]
    auto = [r for r in rows if r[1] and accepted_by_default(r[0], min_score)]
    proposed_true = [r for r in true if r[1]]
    return {
        "pairs": len(rows),
        "auto_accepted": len(auto),
        "auto_precision": sum(r[2] == "same" for r in auto) / len(auto),
        "auto_recall": sum(r[2] == "same" for r in auto) / len(same),
        "proposal_recall": len(proposed_true) / len(true),
        "polarity_right": sum(r[0].inverted == (r[2] == "inverted")
                              for r in proposed_true) / len(proposed_true),
        "negatives_held": sum(not r[1] or bool(r[0].flags) for r in negatives) / len(negatives),
        "proposal_precision": len(proposed_true) / sum(r[1] for r in rows),
    }


def test_the_labelled_set_is_big_and_mixed() -> None:
    labels = Counter(label for _, _, label, _ in labelled())
    assert sum(labels.values()) >= 60
    assert labels["same"] >= 20 and labels["inverted"] >= 8 and labels["different"] >= 30


def test_accepted_by_default_proposals_are_precise_and_true_pairs_are_found() -> None:
    found = figures()
    print("matcher figures:", {k: round(v, 3) for k, v in found.items()})
    assert found["auto_precision"] >= 0.95
    assert found["proposal_recall"] >= 0.9
    assert found["polarity_right"] == 1.0
    assert found["negatives_held"] == 1.0
    assert found["auto_recall"] >= 0.8


@pytest.mark.parametrize("floor", [0.70, 0.75, 0.85])
def test_precision_holds_at_other_floors(floor: float) -> None:
    print(floor, {k: round(v, 3) for k, v in figures(floor).items()})
    assert figures(floor)["auto_precision"] >= 0.95


def test_every_inverted_pair_is_flagged_inverted_and_never_accepted_by_default() -> None:
    for match, proposed, label, _ in _evaluated():
        if label == "inverted":
            assert proposed and match.inverted, (match.a.title, match.b.title)
            assert "inverted" in match.flags and not accepted_by_default(match)


@pytest.mark.parametrize("why", sorted(EXPECTED))
def test_each_kind_of_look_alike_carries_its_flag(why: str) -> None:
    cases = [(m, p) for m, p, label, w in _evaluated() if label == "different" and w == why]
    assert cases
    for match, proposed in cases:
        assert not proposed or EXPECTED[why] & set(match.flags), (
            why, match.a.title, match.b.title, match.flags)


def test_propose_finds_the_pairs_among_all_markets_and_gates_by_time() -> None:
    """Candidate generation over the whole set (each Polymarket market against every
    Kalshi market) proposes the true pairs, and nothing closing weeks apart."""
    items = labelled()
    side_a = {a.market: a for a, _, _, _ in items}
    side_b = {b.market: b for _, b, _, _ in items}
    found = {(m.a.market, m.b.market): m for m in propose(side_a.values(), side_b.values())}
    for a, b, label, _ in items:
        if label in ("same", "inverted"):
            assert (a.market, b.market) in found, (a.title, b.title)
    for match in found.values():
        gap = time_gap(match.a, match.b)
        assert gap is not None and gap <= DEFAULT_MAX_TIME_GAP
