"""Properties that must hold for every valid answer set, not just the hand-picked ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.envelope import build_envelope, validate_envelope
from assessments.scoring import score_test
from assessments.scoring.samples import ability_test, likert_test

# Unique slugs: the compiled-test cache is keyed by slug+version and other modules clear it.
LIKERT = likert_test(
    [
        {"key": "s", "keyed": "+-++-+", "reliability": 0.8,
         "norms": {"metric": "sum", "mean": 19.0, "sd": 4.5, "n": 50, "source": "p"}},
        {"key": "m", "keyed": "--+-+", "reliability": None,
         "norms": {"metric": "mean", "mean": 3.2, "sd": 0.7, "n": 50, "source": "p"}},
        {"key": "n", "keyed": "+-+-", "reliability": 0.7, "norms": None},
    ],
    slug="property-likert",
    primary_dimension="s",
)  # fmt: skip
ABILITY = ability_test(
    [
        {"key": "v", "answers": "ABCDEF", "reliability": 0.6,
         "norms": {"metric": "number_correct", "mean": 3.1, "sd": 1.4, "n": 80, "source": "p"}},
        {"key": "w", "answers": "FFA", "reliability": None, "norms": None},
    ],
    slug="property-ability",
)  # fmt: skip
LIKERT_ITEMS = {item["id"]: item for item in LIKERT["items"]}
ABILITY_ITEMS = {item["id"]: item for item in ABILITY["items"]}
LIKERT_CODE = st.one_of(
    st.integers(min_value=1, max_value=5), st.sampled_from(["1", "2", "3", "4", "5"]), st.none()
)
OPTION = st.sampled_from(list("ABCDEF"))
SECONDS = st.floats(min_value=0, max_value=600, allow_nan=False)


def _answers(items: dict, code: st.SearchStrategy) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional={item_id: code for item_id in items})


def _timings(items: dict) -> st.SearchStrategy[dict | None]:
    return st.none() | st.fixed_dictionaries({}, optional={item_id: SECONDS for item_id in items})


STANDARD = ("raw", "z", "t_score", "percentile", "score", "sten")


@settings(max_examples=300)
@given(
    answers=_answers(LIKERT_ITEMS, LIKERT_CODE),
    item_id=st.sampled_from(sorted(LIKERT_ITEMS)),
    low=st.integers(min_value=1, max_value=4),
)
def test_likert_scores_move_with_keyed_items(answers: dict, item_id: str, low: int) -> None:
    """Raising one answer never lowers a '+' dimension nor raises a '-' one; nothing else moves."""
    item = LIKERT_ITEMS[item_id]
    lower = score_test(LIKERT, answers | {item_id: low})
    higher = score_test(LIKERT, answers | {item_id: low + 1})
    for before, after in zip(lower.dimensions, higher.dimensions, strict=True):
        if before.key != item["dimension"]:
            assert before == after
            continue
        assert before.scored == after.scored
        for field in STANDARD:
            a, b = getattr(before, field), getattr(after, field)
            assert (a is None) == (b is None)
            if a is None:
                continue
            if item["keyed"] == "+":
                assert b >= a, (field, a, b)
            else:
                assert b <= a, (field, a, b)
        if before.raw is not None:
            assert before.raw != after.raw  # one step on one item always changes the mean


@settings(max_examples=200)
@given(
    answers=_answers(ABILITY_ITEMS, OPTION),
    item_id=st.sampled_from(sorted(ABILITY_ITEMS)),
    wrong=OPTION,
)
def test_ability_correct_answer_never_scores_lower(answers: dict, item_id: str, wrong: str) -> None:
    right = ABILITY_ITEMS[item_id]["answer"]
    worse = score_test(ABILITY, answers | {item_id: wrong})
    better = score_test(ABILITY, answers | {item_id: right})
    dim = ABILITY_ITEMS[item_id]["dimension"]
    a, b = worse.dimension(dim), better.dimension(dim)
    assert b.raw - a.raw == (0 if wrong == right else 1)
    assert a.score is None or b.score >= a.score


def _envelope(result):
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    return build_envelope(
        result,
        result_id="res_1",
        invitation_id="inv_1",
        sandbox=True,
        candidate_external_id=None,
        candidate_source="api",
        started_at=start,
        completed_at=start + timedelta(minutes=7),
        report_url="https://assay.example/r/res_1",
    )


@settings(max_examples=150)
@given(answers=_answers(LIKERT_ITEMS, LIKERT_CODE), timings=_timings(LIKERT_ITEMS))
def test_any_valid_likert_answer_set_scores_into_a_valid_envelope(
    answers: dict, timings: dict | None
) -> None:
    result = score_test(LIKERT, answers, timings)
    answered = sum(v is not None for v in answers.values())
    assert result.items_answered == answered
    assert result.completion_ratio == answered / len(LIKERT_ITEMS)
    for dim in result.dimensions:
        assert dim.scored == (dim.items_answered * 5 >= dim.items_total * 4)
        if dim.raw is not None:
            assert 1.0 <= dim.raw <= 5.0
        if dim.score is not None:
            assert 1 <= dim.score <= 99 and 1 <= dim.sten <= 10
    validate_envelope(_envelope(result))


@settings(max_examples=100)
@given(answers=_answers(ABILITY_ITEMS, OPTION), timings=_timings(ABILITY_ITEMS))
def test_any_valid_ability_answer_set_scores_into_a_valid_envelope(
    answers: dict, timings: dict | None
) -> None:
    result = score_test(ABILITY, answers, timings)
    for dim in result.dimensions:
        assert dim.scored and 0 <= dim.raw <= dim.items_total
    validate_envelope(_envelope(result))
