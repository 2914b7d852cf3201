"""Response-quality flags (DESIGN §3.6; CATALOG.md §4.6 for where the checks come from).

Flags never change a score; they tell the recruiter to read it with care.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .compile import CompiledTest
from .errors import ScoringInputError

__all__ = [
    "INSUFFICIENT_ITEMS",
    "LONGSTRING",
    "LONGSTRING_RUN",
    "TOO_FAST",
    "longest_run",
    "median_seconds",
]

TOO_FAST = "too_fast"
LONGSTRING = "longstring"
INSUFFICIENT_ITEMS = "insufficient_items"
# Johnson's longstring index; ~ the length of one IPIP-50 scale (CATALOG.md §4.6).
LONGSTRING_RUN = 10


def longest_run(responses: Sequence[int]) -> int:
    """Longest run of identical answers in presentation order; 0 marks an unanswered item,
    which ends a run (a skipped item is not "the same answer")."""
    best = run = 0
    previous = 0
    for value in responses:
        if value and value == previous:
            run += 1
        else:
            run = 1 if value else 0
        previous = value
        if run > best:
            best = run
    return best


def median_seconds(test: CompiledTest, item_seconds: Mapping[str, Any]) -> float | None:
    """Median seconds per item over the items that have a timing; None when none do."""
    index = test.item_index
    values: list[float] = []
    for item_id, seconds in item_seconds.items():
        if item_id not in index:
            raise ScoringInputError(
                f"timing for item {item_id!r}, which is not in test {test.slug!r}"
            )
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ScoringInputError(
                f"item {item_id!r}: time {seconds!r} is not a non-negative number of seconds"
            )
        values.append(seconds)
    if not values:
        return None
    values.sort()
    mid = len(values) // 2
    if len(values) % 2:
        return float(values[mid])
    return (values[mid - 1] + values[mid]) / 2.0
