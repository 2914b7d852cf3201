"""Tally ability (multiple-choice) answers: number correct, unanswered counts as wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .compile import CompiledTest
from .errors import ScoringInputError, unknown_item_error

__all__ = ["tally_ability"]


def tally_ability(test: CompiledTest, answers: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """Per-dimension number correct and number answered.

    An answer is one of the item's option keys (a string, exact case); None means "not answered".
    Anything else raises, naming the item, before a score exists.
    """
    index = test.item_index
    item_options = test.item_options
    item_dimension = test.item_dimension
    n_dims = len(test.dimensions)
    correct = [0] * n_dims
    counts = [0] * n_dims
    for item_id, key in answers.items():
        i = index.get(item_id)
        if i is None:
            raise unknown_item_error(test.slug, test.version, item_id)
        if key is None:
            continue
        options = item_options[i]
        hit = options.get(key) if type(key) is str else None
        if hit is None:
            raise ScoringInputError(
                f"item {item_id!r}: answer {key!r} is not one of its options ({', '.join(options)})"
            )
        dim = item_dimension[i]
        correct[dim] += hit
        counts[dim] += 1
    return correct, counts
