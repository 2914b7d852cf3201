"""Tally Likert answers per dimension (DESIGN §3.6: reverse keys use k + 1 - r)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .compile import CompiledTest
from .errors import ScoringInputError, unknown_item_error

__all__ = ["tally_likert"]

_CODE_TYPES = (int, str)


def tally_likert(
    test: CompiledTest, answers: Mapping[str, Any]
) -> tuple[list[int], list[int], list[int]]:
    """Per-dimension sums of keyed scores, per-dimension answer counts, and the raw response
    (0 = unanswered) of each item in presentation order, which the longstring check needs.

    Codes are accepted as int or numeric string ("4"), as HTML forms send them; bools and floats
    are refused even though True == 1 and 4.0 == 4 would match the lookup. None means "not
    answered". Any bad answer raises before anything is returned, so nothing is half-scored.
    """
    index = test.item_index
    codes = test.likert_codes
    item_dimension = test.item_dimension
    item_reversed = test.item_reversed
    flip = test.points + 1
    n_dims = len(test.dimensions)
    sums = [0] * n_dims
    counts = [0] * n_dims
    responses = [0] * len(test.item_ids)
    for item_id, code in answers.items():
        i = index.get(item_id)
        if i is None:
            raise unknown_item_error(test.slug, test.version, item_id)
        if code is None:
            continue
        try:
            value = codes.get(code)
        except TypeError:
            value = None
        if value is None or type(code) not in _CODE_TYPES:
            raise ScoringInputError(
                f"item {item_id!r}: response {code!r} is not an allowed code "
                f"(1..{test.points}, as an integer or a numeric string)"
            )
        responses[i] = value
        dim = item_dimension[i]
        sums[dim] += flip - value if item_reversed[i] else value
        counts[dim] += 1
    return sums, counts, responses
