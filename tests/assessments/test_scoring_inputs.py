"""Bad input raises ScoringInputError naming the item, and scores nothing (DESIGN §3.6, §4)."""

from __future__ import annotations

import math

import pytest

from assessments.scoring import CatalogError, ScoringInputError, clear_compiled_cache, score_test
from assessments.scoring.samples import ability_test, likert_test


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_compiled_cache()
    yield
    clear_compiled_cache()


def _likert():
    return likert_test([{"key": "a", "keyed": "+-+"}], slug="likert-in", version="1")


def _ability():
    return ability_test([{"key": "x", "answers": "BC"}], options="ABCD", slug="ability-in")


def test_scoring_input_error_is_a_value_error() -> None:
    assert issubclass(ScoringInputError, ValueError)


@pytest.mark.parametrize("code", [0, 6, -1, "0", "6", "", " 3", "3.0", "three", 3.0, True, None])
def test_likert_codes_outside_the_scale(code: object) -> None:
    if code is None:  # None is "unanswered", not an error
        assert score_test(_likert(), {"a2": code}).items_answered == 0
        return
    with pytest.raises(ScoringInputError, match=r"item 'a2': response .* is not an allowed code"):
        score_test(_likert(), {"a1": 3, "a2": code, "a3": 4})


def test_unhashable_code_is_an_input_error_not_a_type_error() -> None:
    with pytest.raises(ScoringInputError, match="'a1'"):
        score_test(_likert(), {"a1": [3]})


@pytest.mark.parametrize("key", ["a", "E", "", 1, "AB", True])
def test_ability_answers_must_be_option_keys(key: object) -> None:
    with pytest.raises(ScoringInputError, match=r"item 'x.02': answer .* not one of its options"):
        score_test(_ability(), {"x.01": "B", "x.02": key})


def test_ability_message_lists_the_options() -> None:
    with pytest.raises(ScoringInputError, match=r"\(A, B, C, D\)"):
        score_test(_ability(), {"x.01": "Z"})


def test_unknown_item_is_named() -> None:
    with pytest.raises(ScoringInputError, match=r"item 'zz9' is not in test 'likert-in'"):
        score_test(_likert(), {"a1": 3, "zz9": 3})


def test_answers_for_another_test() -> None:
    with pytest.raises(ScoringInputError, match=r"item 'x.01' .* another test"):
        score_test(_likert(), {"x.01": "B"})


def test_answers_must_be_a_mapping() -> None:
    with pytest.raises(ScoringInputError, match="mapping"):
        score_test(_likert(), [("a1", 3)])  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf, "2", True, None])
def test_bad_timings(seconds: object) -> None:
    with pytest.raises(ScoringInputError, match=r"item 'a1': time"):
        score_test(_likert(), {"a1": 3}, {"a1": seconds})


def test_timing_for_unknown_item() -> None:
    with pytest.raises(ScoringInputError, match=r"timing for item 'q7'"):
        score_test(_likert(), {"a1": 3}, {"q7": 2.0})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"response_format": {"type": "slider"}}, "unsupported response_format.type"),
        ({"response_format": {"type": "likert_1"}}, "at least 2 points"),
        ({"primary_dimension": "nope"}, "primary_dimension 'nope'"),
        ({"slug": None, "version": None}, None),
    ],
)
def test_uncompilable_catalog_tests_raise_catalog_error(patch: dict, message: str | None) -> None:
    test = _likert() | patch
    with pytest.raises(CatalogError, match=message):
        score_test(test, {})


def test_catalog_error_for_item_with_unknown_dimension() -> None:
    test = _likert()
    test["items"][0]["dimension"] = "ghost"
    with pytest.raises(CatalogError, match="item 'a1' names unknown dimension 'ghost'"):
        score_test(test, {})


def test_catalog_error_for_bad_norms() -> None:
    test = _likert()
    test["dimensions"][0]["norms"] = {"metric": "sum", "mean": 10, "sd": 0, "source": "x"}
    with pytest.raises(CatalogError, match="sd > 0"):
        score_test(test, {})
