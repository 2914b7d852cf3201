"""What the engine returns: plain frozen values, unrounded, ready for the envelope or a report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["DimensionScore", "Overall", "TestScore"]


class DimensionScore(NamedTuple):
    """One dimension, unrounded (the envelope rounds; reports may show more precision).

    A NamedTuple rather than a frozen dataclass because a score builds one per dimension (30 for
    the IPIP-NEO-120) and a frozen dataclass costs ~1.6 us to construct against ~0.3 us here -
    a third of the whole scoring budget. Equally immutable.

    ``scored`` is False when fewer than 80 % of the dimension's items were answered; then raw and
    every standard score are None. When the dimension is scored but the catalog has no norm for
    it, only ``raw`` (and ``reliability``) are set.
    """

    key: str
    name: str
    scored: bool
    raw: float | None
    items_answered: int
    items_total: int
    z: float | None
    t_score: float | None
    percentile: float | None
    score: int | None
    sten: int | None
    band: str | None
    reliability: float | None
    sem_t: float | None
    ci90_t: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class Overall:
    score: int | None
    label: str


@dataclass(frozen=True, slots=True)
class TestScore:
    """The scored attempt: what build_envelope needs, plus diagnostics for reports.

    ``flags`` are in a fixed order (too_fast, longstring, insufficient_items); ``longest_run`` and
    ``median_item_seconds`` are the figures behind the longstring and too_fast flags.
    """

    __test__ = False  # not a pytest test class, despite the name
    test_slug: str
    test_name: str
    test_version: str
    evidence: str | None
    dimensions: tuple[DimensionScore, ...]
    overall: Overall | None
    flags: tuple[str, ...]
    completion_ratio: float
    items_answered: int
    items_total: int
    longest_run: int
    median_item_seconds: float | None
    norm_group: str | None
    norm_source: str | None

    def dimension(self, key: str) -> DimensionScore:
        for dim in self.dimensions:
            if dim.key == key:
                return dim
        raise KeyError(key)
