"""Quality flags: too_fast, longstring, insufficient_items, each on and off (DESIGN §3.6)."""

from __future__ import annotations

import pytest

from assessments.scoring import (
    INSUFFICIENT_ITEMS,
    LONGSTRING,
    TOO_FAST,
    clear_compiled_cache,
    score_test,
)
from assessments.scoring.compile import compile_test
from assessments.scoring.quality import longest_run, median_seconds
from assessments.scoring.samples import ability_test, likert_test


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_compiled_cache()
    yield
    clear_compiled_cache()


def _twelve(min_seconds: float = 1.0):
    return likert_test(
        [{"key": "a", "keyed": "+-" * 6}, {"key": "b", "keyed": "++++"}],
        min_seconds_per_item=min_seconds,
    )


def _varied() -> dict[str, int]:
    codes = [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3, 2]
    ids = [f"a{i}" for i in range(1, 13)] + [f"b{i}" for i in range(1, 5)]
    return dict(zip(ids, codes, strict=True))


def test_clean_attempt_has_no_flags() -> None:
    result = score_test(_twelve(), _varied(), {k: 4.0 for k in _varied()})
    assert result.flags == ()
    assert result.median_item_seconds == 4.0


@pytest.mark.parametrize(
    ("seconds", "flagged"),
    [(0.9, True), (0.999, True), (1.0, False), (2.5, False)],
)
def test_too_fast_is_median_below_the_floor(seconds: float, flagged: bool) -> None:
    timings = {k: seconds for k in _varied()}
    result = score_test(_twelve(min_seconds=1.0), _varied(), timings)
    assert (TOO_FAST in result.flags) is flagged


def test_too_fast_uses_the_median_not_the_mean() -> None:
    # 9 of 16 items at 0.5 s and 7 very slow ones: mean is large, median 0.5 s
    timings = {k: (0.5 if i < 9 else 60.0) for i, k in enumerate(_varied())}
    assert score_test(_twelve(), _varied(), timings).flags == (TOO_FAST,)
    # 8 fast and 8 at 3 s: median is (0.5 + 3) / 2 = 1.75 s
    timings = {k: (0.5 if i < 8 else 3.0) for i, k in enumerate(_varied())}
    result = score_test(_twelve(), _varied(), timings)
    assert result.flags == () and result.median_item_seconds == pytest.approx(1.75)


def test_too_fast_needs_timings() -> None:
    assert score_test(_twelve(min_seconds=100), _varied()).flags == ()
    assert score_test(_twelve(min_seconds=100), _varied(), {}).flags == ()
    assert score_test(_twelve(min_seconds=100), _varied(), {}).median_item_seconds is None


def test_too_fast_on_ability_tests() -> None:
    test = ability_test([{"key": "x", "answers": "ABCD"}], min_seconds_per_item=3.0)
    answers = {"x.01": "A", "x.02": "A", "x.03": "C", "x.04": "A"}
    fast = score_test(test, answers, {k: 2.0 for k in answers})
    slow = score_test(test, answers, {k: 3.0 for k in answers})
    assert fast.flags == (TOO_FAST,) and slow.flags == ()


def test_longstring_at_ten_in_a_row() -> None:
    answers = _varied() | {f"a{i}": 3 for i in range(1, 11)}  # a1..a10 all "3", a11 is 4
    answers["a11"] = 4
    result = score_test(_twelve(), answers)
    assert result.longest_run == 10 and result.flags == (LONGSTRING,)


def test_no_longstring_at_nine_in_a_row() -> None:
    answers = _varied() | {f"a{i}": 3 for i in range(1, 10)}
    answers["a10"] = 4
    result = score_test(_twelve(), answers)
    assert result.longest_run == 9 and result.flags == ()


def test_longstring_counts_answers_as_given_not_as_keyed() -> None:
    # a-items alternate +/-; answering "5" everywhere is straight-lining although the scored
    # values alternate 5, 1, 5, 1 ...
    answers = {f"a{i}": 5 for i in range(1, 13)} | {f"b{i}": 2 for i in range(1, 5)}
    result = score_test(_twelve(), answers)
    assert LONGSTRING in result.flags and result.longest_run == 12


def test_longstring_runs_across_dimensions_in_presentation_order() -> None:
    answers = _varied() | {f"a{i}": 2 for i in range(7, 13)} | {f"b{i}": 2 for i in range(1, 5)}
    assert score_test(_twelve(), answers).longest_run == 10  # a7..a12 then b1..b4


def test_an_unanswered_item_breaks_a_run() -> None:
    answers = {f"a{i}": 3 for i in range(1, 13)} | {f"b{i}": 3 for i in range(1, 5)}
    del answers["a6"]
    result = score_test(_twelve(), answers)
    assert result.longest_run == 10 and result.flags == (LONGSTRING,)  # a7..b4
    del answers["a12"]
    assert score_test(_twelve(), answers).longest_run == 5


def test_insufficient_items_flag() -> None:
    answers = {k: v for k, v in _varied().items() if k not in ("b3", "b4")}  # b: 2 of 4
    result = score_test(_twelve(), answers)
    assert result.flags == (INSUFFICIENT_ITEMS,)
    assert not result.dimension("b").scored and result.dimension("a").scored


def test_all_three_flags_in_a_stable_order() -> None:
    answers = {f"a{i}": 4 for i in range(1, 13)}
    result = score_test(_twelve(), answers, {k: 0.2 for k in answers})
    assert result.flags == (TOO_FAST, LONGSTRING, INSUFFICIENT_ITEMS)


@pytest.mark.parametrize(
    ("responses", "run"),
    [([], 0), ([0, 0], 0), ([1], 1), ([1, 1, 2, 2, 2], 3), ([2, 0, 2], 1), ([3] * 11, 11)],
)
def test_longest_run(responses: list[int], run: int) -> None:
    assert longest_run(responses) == run


def test_median_seconds_odd_and_even() -> None:
    compiled = compile_test(_twelve())
    assert median_seconds(compiled, {"a1": 3, "a2": 1, "a3": 2}) == 2.0
    assert median_seconds(compiled, {"a1": 3, "a2": 1, "a3": 2, "a4": 10}) == 2.5
