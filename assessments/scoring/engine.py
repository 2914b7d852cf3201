"""score_test: answers in, TestScore out. Pure: no I/O, no clock, no database.

Scoring happens in-process at the moment the last answer is saved (DESIGN §2, flow 3), inside the
transaction that writes the result and its outbox rows, so it has to be fast and must never
half-succeed: every answer is checked before any score exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import erf, sqrt
from typing import Any

from .ability import tally_ability
from .compile import LIKERT, CompiledDimension, CompiledTest, compile_test
from .errors import ScoringInputError
from .likert import tally_likert
from .quality import (
    INSUFFICIENT_ITEMS,
    LONGSTRING,
    LONGSTRING_RUN,
    TOO_FAST,
    longest_run,
    median_seconds,
)
from .result import DimensionScore, Overall, TestScore
from .rounding import round_half_away_int

__all__ = ["score_test"]

_SQRT2 = sqrt(2.0)


def score_test(
    test: Mapping[str, Any] | CompiledTest,
    answers: Mapping[str, Any],
    item_seconds: Mapping[str, Any] | None = None,
) -> TestScore:
    """Score one completed (or abandoned) attempt at ``test``.

    ``test`` is a catalog test dict (compiled and cached by slug+version) or a CompiledTest.
    ``answers`` maps item id -> response code: 1..k (int or numeric string) for Likert items, an
    option key for ability items; missing items (or None) are unanswered. ``item_seconds`` maps
    item id -> seconds spent, and only feeds the too_fast flag.

    Raises ScoringInputError, naming the item, for an unknown item id, a code outside the item's
    allowed codes, or a bad timing.
    """
    compiled = compile_test(test)
    if not isinstance(answers, Mapping):
        raise ScoringInputError(f"answers must be a mapping of item id to code, not {answers!r}")

    likert = compiled.kind == LIKERT
    if likert:
        totals, counts, responses = tally_likert(compiled, answers)
        run = longest_run(responses)
    else:
        totals, counts = tally_ability(compiled, answers)
        run = 0

    median = None if item_seconds is None else median_seconds(compiled, item_seconds)

    dimensions = []
    insufficient = False
    for dim in compiled.dimensions:
        answered = counts[dim.index]
        if likert:
            # 80 % exactly is scored: answered / n >= 4 / 5, in integers to avoid float error.
            if answered * 5 < dim.n_items * 4:
                insufficient = True
                dimensions.append(_unscored(dim, answered))
                continue
            raw = totals[dim.index] / answered
        else:
            raw = float(totals[dim.index])
        dimensions.append(_standardise(dim, raw, answered))

    flags = []
    floor = compiled.min_seconds_per_item
    if median is not None and floor is not None and median < floor:
        flags.append(TOO_FAST)
    if run >= LONGSTRING_RUN:
        flags.append(LONGSTRING)
    if insufficient:
        flags.append(INSUFFICIENT_ITEMS)

    answered_total = sum(counts)
    return TestScore(
        test_slug=compiled.slug,
        test_name=compiled.name,
        test_version=compiled.version,
        evidence=compiled.evidence,
        dimensions=tuple(dimensions),
        overall=_overall(compiled, dimensions),
        flags=tuple(flags),
        completion_ratio=answered_total / compiled.n_items,
        items_answered=answered_total,
        items_total=compiled.n_items,
        longest_run=run,
        median_item_seconds=median,
        norm_group=compiled.norm_group,
        norm_source=compiled.norm_source,
    )


def _standardise(dim: CompiledDimension, raw: float, answered: int) -> DimensionScore:
    """DESIGN §3.6 standard scores. The formulas are norms.py's, written out here because this
    runs once per dimension per score and the function calls were a fifth of the budget;
    test_scoring_norms pins the two to the same results."""
    mean = dim.norm_mean
    if mean is None:
        return DimensionScore(
            dim.key, dim.name, True, raw, answered, dim.n_items,
            None, None, None, None, None, None, dim.reliability, None, None,
        )  # fmt: skip
    z = (raw - mean) / dim.norm_sd
    t = 50.0 + 10.0 * z
    pct = 50.0 * (1.0 + erf(z / _SQRT2))
    score = round_half_away_int(pct)
    score = 1 if score < 1 else 99 if score > 99 else score
    level = round_half_away_int(5.5 + 2.0 * z)
    level = 1 if level < 1 else 10 if level > 10 else level
    band = "low" if level <= 3 else "average" if level <= 7 else "high"
    half = dim.ci90_half_width
    return DimensionScore(
        dim.key, dim.name, True, raw, answered, dim.n_items,
        z, t, pct, score, level, band,
        dim.reliability, dim.sem_t, None if half is None else (t - half, t + half),
    )  # fmt: skip


def _unscored(dim: CompiledDimension, answered: int) -> DimensionScore:
    return DimensionScore(
        dim.key, dim.name, False, None, answered, dim.n_items,
        None, None, None, None, None, None, dim.reliability, None, None,
    )  # fmt: skip


def _overall(compiled: CompiledTest, dimensions: list[DimensionScore]) -> Overall | None:
    """The primary dimension's score, labelled with its band; null when the catalog names none."""
    if compiled.primary_dimension is None:
        return None
    dim = dimensions[compiled.primary_dimension]
    if not dim.scored:
        return Overall(score=None, label=f"{dim.name}: not scored (too few items answered)")
    if dim.band is None:
        return Overall(score=None, label=f"{dim.name}: no norm yet (raw score only)")
    return Overall(score=dim.score, label=f"{dim.name}: {dim.band}")
