"""Likert scoring, hand-computed (DESIGN §3.6)."""

from __future__ import annotations

import math

import pytest

from assessments.scoring import INSUFFICIENT_ITEMS, clear_compiled_cache, score_test
from assessments.scoring.samples import likert_test


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Synthetic tests reuse slug+version with different content; the cache must not leak."""
    clear_compiled_cache()
    yield
    clear_compiled_cache()


MEAN_NORM = {"metric": "mean", "mean": 3.0, "sd": 1.0, "n": 100, "source": "hand"}


def test_reverse_keys_and_standard_scores_by_hand() -> None:
    test = likert_test([{"key": "a", "keyed": "++-+-", "norms": MEAN_NORM, "reliability": 0.84}])
    # scored: 4, 5, 6-2=4, 3, 6-1=5 -> 21 / 5 = 4.2
    result = score_test(test, {"a1": 4, "a2": 5, "a3": 2, "a4": 3, "a5": 1})
    dim = result.dimension("a")
    assert dim.scored and dim.raw == pytest.approx(4.2)
    assert (dim.items_answered, dim.items_total) == (5, 5)
    assert dim.z == pytest.approx(1.2)
    assert dim.t_score == pytest.approx(62.0)
    assert dim.percentile == pytest.approx(88.49303297782918)
    assert dim.score == 88
    assert dim.sten == 8  # 5.5 + 2.4 = 7.9
    assert dim.band == "high"
    assert dim.reliability == 0.84
    assert dim.sem_t == pytest.approx(4.0)  # 10 * sqrt(0.16)
    assert dim.ci90_t == pytest.approx((62.0 - 6.58, 62.0 + 6.58))
    assert result.flags == ()
    assert result.completion_ratio == 1.0


def test_reverse_key_uses_k_plus_one_for_other_scale_lengths() -> None:
    test = likert_test([{"key": "a", "keyed": "--"}], points=7)
    result = score_test(test, {"a1": 7, "a2": 2})  # 8-7=1, 8-2=6
    assert result.dimension("a").raw == pytest.approx(3.5)


def test_string_codes_score_like_integers() -> None:
    test = likert_test([{"key": "a", "keyed": "++-+-", "norms": MEAN_NORM}])
    as_int = score_test(test, {"a1": 4, "a2": 5, "a3": 2, "a4": 3, "a5": 1})
    as_str = score_test(test, {"a1": "4", "a2": "5", "a3": "2", "a4": "3", "a5": "1"})
    assert as_str == as_int


def test_sum_norms_are_divided_by_item_count() -> None:
    sum_norm = {"metric": "sum", "mean": 30.0, "sd": 8.0, "n": 500, "source": "hand"}
    test = likert_test([{"key": "a", "keyed": "+" * 10, "norms": sum_norm, "reliability": 0.8}])
    dim = score_test(test, {f"a{i}": 4 for i in range(1, 11)}).dimension("a")
    # item-mean norm: mean 3.0, sd 0.8; raw 4.0 -> z = 1.25, identical to (40 - 30) / 8
    assert dim.raw == pytest.approx(4.0)
    assert dim.z == pytest.approx(1.25)
    assert dim.t_score == pytest.approx(62.5)
    assert dim.percentile == pytest.approx(89.43502263331446)
    assert dim.score == 89
    assert dim.sten == 8  # 5.5 + 2.5 = 8.0
    assert dim.sem_t == pytest.approx(10 * math.sqrt(0.2))


def test_sum_norms_prorate_when_items_are_missing() -> None:
    sum_norm = {"metric": "sum", "mean": 30.0, "sd": 8.0, "n": 500, "source": "hand"}
    test = likert_test([{"key": "a", "keyed": "+" * 10, "norms": sum_norm}])
    answers = {f"a{i}": 5 for i in range(1, 9)}  # 8 of 10, all 5
    dim = score_test(test, answers).dimension("a")
    assert dim.raw == pytest.approx(5.0)
    assert dim.z == pytest.approx((5.0 - 3.0) / 0.8)  # (50 - 30) / 8 on the prorated sum


@pytest.mark.parametrize(
    ("n_items", "answered", "scored"),
    [
        (5, 5, True),
        (5, 4, True),  # 80 % exactly
        (5, 3, False),
        (10, 8, True),  # 80 % exactly
        (10, 7, False),
        (19, 15, False),  # 78.9 %
        (19, 16, True),
        (100, 80, True),
        (100, 79, False),  # 79 %
        (4, 3, False),  # 75 %: a 4-item facet needs every item
    ],
)
def test_eighty_percent_rule(n_items: int, answered: int, scored: bool) -> None:
    test = likert_test(
        [
            {
                "key": "a",
                "keyed": "+-" * (n_items // 2) + "+" * (n_items % 2),
                "norms": MEAN_NORM,
                "reliability": 0.8,
            },
            {"key": "b", "keyed": "+++++", "norms": MEAN_NORM},
        ]
    )
    # + items answered 4, - items answered 2: every scored value is 4, and no long string
    answers = {f"a{i}": 4 if i % 2 else 2 for i in range(1, answered + 1)}
    answers |= {f"b{i}": 3 for i in range(1, 6)}
    result = score_test(test, answers)
    dim = result.dimension("a")
    assert dim.scored is scored
    assert dim.items_answered == answered and dim.items_total == n_items
    assert result.dimension("b").score == 50
    if scored:
        assert dim.raw == 4.0 and dim.score == 84 and INSUFFICIENT_ITEMS not in result.flags
    else:
        assert dim.raw is None and dim.score is None and dim.z is None
        assert dim.t_score is None and dim.percentile is None and dim.sten is None
        assert dim.band is None and dim.sem_t is None and dim.ci90_t is None
        assert dim.reliability == 0.8  # catalog metadata is still reported
        assert result.flags == (INSUFFICIENT_ITEMS,)
    assert result.completion_ratio == pytest.approx((answered + 5) / (n_items + 5))


@pytest.mark.parametrize(("code", "score", "sten", "band"), [(1, 1, 1, "low"), (5, 99, 10, "high")])
def test_score_and_sten_are_clamped(code: int, score: int, sten: int, band: str) -> None:
    norm = {"metric": "mean", "mean": 3.0, "sd": 0.2, "n": 100, "source": "hand"}
    test = likert_test([{"key": "a", "keyed": "+++++", "norms": norm}])
    dim = score_test(test, {f"a{i}": code for i in range(1, 6)}).dimension("a")
    assert abs(dim.z) == pytest.approx(10.0)
    assert (dim.score, dim.sten, dim.band) == (score, sten, band)
    assert 0.0 <= dim.percentile <= 100.0


@pytest.mark.parametrize(
    ("codes", "sten", "band", "score"),
    [
        ((4, 4, 3, 3), 7, "average", 69),  # z = +0.5: 6.5 rounds to 7 (round() would say 6)
        ((2, 2, 3, 3), 5, "average", 31),  # z = -0.5: 4.5 rounds to 5 (round() would say 4)
        ((3, 3, 3, 3), 6, "average", 50),  # z = 0: 5.5 rounds to 6
    ],
)
def test_sten_ties_round_away_from_zero(
    codes: tuple[int, ...], sten: int, band: str, score: int
) -> None:
    test = likert_test([{"key": "a", "keyed": "++++", "norms": MEAN_NORM}])
    dim = score_test(test, {f"a{i}": c for i, c in enumerate(codes, start=1)}).dimension("a")
    assert (dim.sten, dim.band, dim.score) == (sten, band, score)


@pytest.mark.parametrize(
    ("raw_codes", "band"),
    [((2, 2, 2, 2), "low"), ((3, 3, 2, 2), "average"), ((4, 4, 4, 3), "high")],
)
def test_bands_follow_sten(raw_codes: tuple[int, ...], band: str) -> None:
    # sd 0.5: raw 2 -> z -2 -> sten 1.5 -> 2 low; 2.5 -> z -1 -> 3.5 -> 4 average;
    # 3.75 -> z 1.5 -> 8.5 -> 9 high
    norm = {"metric": "mean", "mean": 3.0, "sd": 0.5, "n": 100, "source": "hand"}
    test = likert_test([{"key": "a", "keyed": "++++", "norms": norm}])
    dim = score_test(test, {f"a{i}": c for i, c in enumerate(raw_codes, start=1)}).dimension("a")
    assert dim.band == band


def test_dimension_without_norms_reports_raw_only() -> None:
    test = likert_test([{"key": "a", "keyed": "+-+", "norms": None, "reliability": 0.7}])
    dim = score_test(test, {"a1": 5, "a2": 5, "a3": 2}).dimension("a")
    assert dim.scored and dim.raw == pytest.approx(8 / 3)
    assert (dim.z, dim.t_score, dim.percentile, dim.score, dim.sten, dim.band) == (None,) * 6
    assert (dim.sem_t, dim.ci90_t) == (None, None)
    assert dim.reliability == 0.7


def test_no_reliability_means_no_sem_or_interval() -> None:
    test = likert_test([{"key": "a", "keyed": "+++", "norms": MEAN_NORM, "reliability": None}])
    dim = score_test(test, {"a1": 3, "a2": 3, "a3": 3}).dimension("a")
    assert dim.score == 50 and dim.reliability is None
    assert dim.sem_t is None and dim.ci90_t is None


def test_none_answers_count_as_unanswered() -> None:
    test = likert_test([{"key": "a", "keyed": "+++++", "norms": MEAN_NORM}])
    result = score_test(test, {"a1": 4, "a2": 4, "a3": 4, "a4": 4, "a5": None})
    assert result.dimension("a").items_answered == 4
    assert result.completion_ratio == pytest.approx(0.8)


def test_overall_is_the_primary_dimension() -> None:
    test = likert_test(
        [
            {"key": "a", "name": "Alpha", "keyed": "+++++", "norms": MEAN_NORM},
            {"key": "b", "keyed": "+++++", "norms": MEAN_NORM},
        ],
        primary_dimension="a",
    )
    answers = {f"a{i}": 5 for i in range(1, 6)} | {f"b{i}": 1 for i in range(1, 6)}
    result = score_test(test, answers)
    assert result.overall is not None
    assert result.overall.score == result.dimension("a").score == 98  # z = 2
    assert result.overall.label == "Alpha: high"


def test_overall_is_null_without_a_primary_dimension() -> None:
    test = likert_test([{"key": "a", "keyed": "+++++", "norms": MEAN_NORM}])
    assert score_test(test, {f"a{i}": 5 for i in range(1, 6)}).overall is None


def test_overall_of_an_unscored_primary_dimension_has_no_score() -> None:
    test = likert_test(
        [{"key": "a", "name": "Alpha", "keyed": "+++++", "norms": MEAN_NORM}],
        primary_dimension="a",
    )
    result = score_test(test, {"a1": 5})
    assert result.overall is not None and result.overall.score is None
    assert "not scored" in result.overall.label


def test_overall_of_an_unnormed_primary_dimension_has_no_score() -> None:
    test = likert_test(
        [{"key": "a", "name": "Alpha", "keyed": "+++++", "norms": None}], primary_dimension="a"
    )
    result = score_test(test, {f"a{i}": 4 for i in range(1, 6)})
    assert result.overall is not None and result.overall.score is None
    assert result.overall.label.startswith("Alpha")


def test_compiled_test_is_cached_by_slug_and_version() -> None:
    from assessments.scoring import compile_test

    test = likert_test([{"key": "a", "keyed": "+++"}], slug="cached", version="7")
    assert compile_test(test) is compile_test(dict(test))
    assert compile_test(test) is not compile_test({**test, "version": "8"})
    assert score_test(compile_test(test), {"a1": 2}) == score_test(test, {"a1": 2})
