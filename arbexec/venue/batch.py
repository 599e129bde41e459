"""The batch contract: batch answers matched to their orders by identity, never by position.

A venue may answer a batch in any order, leave entries out, repeat one, or add one for
another order. Each order gets the first answer that names its identity (order hash,
client order id); an order none names has no answer (the caller makes it ambiguous and
looks it up, never takes a neighbour's answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from attrs import frozen

T = TypeVar("T")


@frozen
class BatchMatch(Generic[T]):
    """Each order with its own answer (None: the venue said nothing attributable)."""

    pairs: tuple[tuple[T, Any | None], ...]
    #: answers naming no identity, or one already answered
    unattributed: int
    #: answers naming an identity that is not in the batch
    foreign: int


def match_by_identity(
    orders: Sequence[T],
    answers: Iterable[Any],
    *,
    order_key: Callable[[T], str],
    answer_key: Callable[[Any], str | None],
    normalise: Callable[[str], str] = lambda key: key,
) -> BatchMatch[T]:
    """Pair ``orders`` with ``answers`` by ``order_key(order) == answer_key(answer)`` (both
    passed through ``normalise``, e.g. ``str.lower`` for hex hashes)."""
    wanted = {normalise(order_key(order)) for order in orders}
    by_key: dict[str, Any] = {}
    unattributed = foreign = 0
    for answer in answers:
        key = answer_key(answer)
        key = normalise(key) if key else None
        if not key or key in by_key:
            unattributed += 1
        elif key not in wanted:
            foreign += 1
        else:
            by_key[key] = answer
    pairs = tuple((order, by_key.get(normalise(order_key(order)))) for order in orders)
    return BatchMatch(pairs, unattributed, foreign)
