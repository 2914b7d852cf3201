"""Ability (multiple-choice) scoring: number correct, unanswered is wrong (DESIGN §3.6)."""

from __future__ import annotations

import pytest

from assessments.scoring import clear_compiled_cache, score_test
from assessments.scoring.samples import ability_test

NC_NORM = {"metric": "number_correct", "mean": 2.0, "sd": 1.0, "n": 1000, "source": "hand"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_compiled_cache()
    yield
    clear_compiled_cache()


def _test(**kwargs):
    return ability_test(
        [
            {"key": "vr", "name": "Verbal", "answers": "ABCD", "norms": NC_NORM,
             "reliability": 0.75},
            {"key": "ln", "answers": "FEDC", "norms": None, "reliability": None},
        ],
        **kwargs,
    )  # fmt: skip


def test_number_correct_with_unanswered_counted_wrong() -> None:
    # vr.01 right, vr.02 right, vr.03 wrong, vr.04 unanswered -> 2 correct of 4
    result = score_test(_test(), {"vr.01": "A", "vr.02": "B", "vr.03": "A", "ln.01": "F"})
    vr = result.dimension("vr")
    assert vr.scored and vr.raw == 2.0
    assert (vr.items_answered, vr.items_total) == (3, 4)
    assert vr.z == 0.0 and vr.t_score == 50.0 and vr.percentile == pytest.approx(50.0)
    assert vr.score == 50
    assert vr.sten == 6  # 5.5 rounds away from zero
    assert vr.band == "average"
    assert vr.sem_t == pytest.approx(5.0)  # 10 * sqrt(0.25)
    assert vr.ci90_t == pytest.approx((50.0 - 8.225, 50.0 + 8.225))
    ln = result.dimension("ln")
    assert ln.raw == 1.0 and ln.score is None and ln.items_answered == 1
    assert result.completion_ratio == pytest.approx(4 / 8)
    # ability dimensions are always scored: unanswered items are simply wrong
    assert result.flags == ()


def test_nothing_answered_scores_zero_correct() -> None:
    result = score_test(_test(), {})
    vr = result.dimension("vr")
    assert vr.scored and vr.raw == 0.0 and vr.items_answered == 0
    assert vr.z == pytest.approx(-2.0) and vr.score == 2 and vr.sten == 2 and vr.band == "low"
    assert result.completion_ratio == 0.0


def test_all_correct() -> None:
    answers = {"vr.01": "A", "vr.02": "B", "vr.03": "C", "vr.04": "D"}
    vr = score_test(_test(), answers).dimension("vr")
    assert vr.raw == 4.0 and vr.z == pytest.approx(2.0) and vr.t_score == pytest.approx(70.0)
    assert vr.percentile == pytest.approx(97.72498680518208) and vr.score == 98
    assert vr.sten == 10 and vr.band == "high"  # 9.5 rounds away to 10


def test_overall_from_primary_dimension() -> None:
    result = score_test(_test(primary_dimension="vr"), {"vr.01": "A"})
    assert result.overall is not None
    assert result.overall.score == 16  # z = -1 -> 15.87
    assert result.overall.label == "Verbal: average"  # sten 3.5 -> 4


def test_overall_null_without_primary_dimension() -> None:
    assert score_test(_test(), {"vr.01": "A"}).overall is None


def test_longstring_never_applies_to_ability_tests() -> None:
    test = ability_test([{"key": "x", "answers": "A" * 12}])
    result = score_test(test, {f"x.{i:02d}": "A" for i in range(1, 13)})
    assert result.flags == () and result.longest_run == 0
