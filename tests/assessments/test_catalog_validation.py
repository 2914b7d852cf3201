"""Catalog validation: each problem is reported with the file and the field (and item/dimension)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assessments.catalog_validation import main, validate_catalog_test
from assessments.scoring.samples import ability_test, likert_test

FILE = "catalog/sample.json"
SUM_NORM = {"metric": "sum", "mean": 12.0, "sd": 3.0, "n": 100, "source": "s"}
NC_NORM = {"metric": "number_correct", "mean": 1.5, "sd": 0.9, "n": 100, "source": "s"}


def _likert() -> dict[str, Any]:
    return likert_test(
        [
            {"key": "calm", "keyed": "+-+-", "norms": SUM_NORM, "reliability": 0.8},
            {"key": "drive", "keyed": "++--", "norms": None, "reliability": None},
        ],
        slug="valid-likert",
        primary_dimension="calm",
    )


def _ability() -> dict[str, Any]:
    return ability_test(
        [{"key": "vr", "answers": "ACB", "norms": NC_NORM, "reliability": 0.6}],
        slug="valid-ability",
        options="ABCD",
    )


def test_valid_tests_have_no_problems() -> None:
    assert validate_catalog_test(_likert(), FILE) == []
    assert validate_catalog_test(_ability(), FILE) == []


def test_research_pack_shape_of_unnormed_dimensions_is_accepted() -> None:
    test = _likert()
    test["dimensions"][1]["norms"] = {"mean": None, "sd": None, "n": None, "source": "none yet"}
    test["dimensions"][1]["reliability"] = {"alpha": None, "source": "not captured"}
    test["dimensions"][0]["item_mean"] = 3.0  # extra research keys are fine
    test["items"][0]["source"] = "IPIP"
    assert validate_catalog_test(test, FILE) == []


Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    def mutate(test: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = test
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(test: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = test
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return mutate


LIKERT_CASES = [
    ("unknown dimension", _set("items/2/dimension", "calmness"),
     "items[2].dimension (item 'calm3'): unknown dimension 'calmness'"),
    ("duplicate item id", _set("items/5/id", "calm1"),
     "items[5].id: duplicate item id 'calm1' (also items[0])"),
    ("duplicate dimension key", _set("dimensions/1/key", "calm"),
     "dimensions[1].key: duplicate dimension key 'calm' (also dimensions[0])"),
    ("missing keyed", _drop("items/3/keyed"), "items[3].keyed (item 'calm4'): is required"),
    ("bad keyed", _set("items/3/keyed", "R"), "items[3].keyed (item 'calm4'): 'R' is not one of"),
    ("sd zero", _set("dimensions/0/norms/sd", 0),
     "dimensions[0].norms.sd (dimension 'calm'): must be > 0, got 0"),
    ("sd negative", _set("dimensions/0/norms/sd", -2.5),
     "dimensions[0].norms.sd (dimension 'calm'): must be > 0, got -2.5"),
    ("mean without sd", _set("dimensions/0/norms/sd", None),
     "dimensions[0].norms (dimension 'calm'): mean and sd must both be numbers or both be null"),
    ("norm metric missing", _drop("dimensions/0/norms/metric"),
     "dimensions[0].norms.metric (dimension 'calm'): is required"),
    ("ability metric on likert", _set("dimensions/0/norms/metric", "number_correct"),
     "dimensions[0].norms.metric (dimension 'calm'): a Likert test is normed on 'sum' or"),
    ("primary unknown", _set("primary_dimension", "serenity"),
     "primary_dimension: 'serenity' is not a dimension key (calm, drive)"),
    ("codes not 1..k", _set("response_format/options/0/value", 0),
     "response_format.options: likert_5 needs option values exactly 1..5"),
    ("k does not match options", _set("response_format/type", "likert_7"),
     "response_format.options: likert_7 needs option values exactly 1..7"),
    ("response type unknown", _set("response_format/type", "slider"),
     "response_format.type: must be 'likert_<k>' (e.g. 'likert_5') or 'multiple_choice'"),
    ("n_items mismatch", _set("dimensions/1/n_items", 5),
     "dimensions[1].n_items (dimension 'drive'): says 5 but 4 items belong to it"),
    ("total n_items mismatch", _set("n_items", 9), "n_items: says 9 but the file has 8 items"),
    ("dimension without items", lambda t: t["dimensions"].append(
        {**t["dimensions"][1], "key": "empty"}),
     "dimensions[2] (dimension 'empty'): no item belongs to this dimension"),
    ("evidence", _set("evidence", "anecdotal"), "evidence: 'anecdotal' is not one of"),
    ("floor missing", _drop("min_seconds_per_item"), "min_seconds_per_item: is required"),
    ("floor negative", _set("min_seconds_per_item", -1), "min_seconds_per_item: -1 is less than"),
    ("primary missing", _drop("primary_dimension"), "primary_dimension: is required"),
    ("instructions missing", _drop("instructions"), "instructions: is required"),
    ("reliability above 1", _set("dimensions/0/reliability/alpha", 1.2),
     "dimensions[0].reliability.alpha (dimension 'calm'): 1.2 is greater than the maximum"),
    ("composite facet", _set("composites", [{"key": "C", "name": "C", "facets": ["calm", "x"]}]),
     "composites[0].facets: 'x' is not a dimension key"),
    ("example id clash", _set("example_item/id", "drive2"),
     "example_item.id: 'drive2' is also a scored item's id"),
    ("item id with space", _set("items/0/id", "calm 1"), "items[0].id (item 'calm 1'):"),
    ("slug", _set("slug", "Big Five"), "slug: 'Big Five' does not match"),
]  # fmt: skip

ABILITY_CASES = [
    ("missing answer", _drop("items/1/answer"), "items[1].answer (item 'vr.02'): is required"),
    ("answer not an option", _set("items/1/answer", "E"),
     "items[1].answer (item 'vr.02'): 'E' is not among its option keys (A, B, C, D)"),
    ("duplicate option", _set("items/0/options/1/key", "A"),
     "items[0].options (item 'vr.01'): duplicate option keys A"),
    ("missing options", _drop("items/2/options"), "items[2].options (item 'vr.03'): is required"),
    ("likert metric on ability", _set("dimensions/0/norms/metric", "sum"),
     "dimensions[0].norms.metric (dimension 'vr'): an ability test is normed on"),
    ("example answer", _set("example_item/answer", "Z"),
     "example_item.answer: 'Z' is not among its option keys (A, B)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in LIKERT_CASES],
)
def test_likert_problems_name_file_and_field(mutate: Mutation, expected: str) -> None:
    test = _likert()
    mutate(test)
    problems = validate_catalog_test(test, FILE)
    assert problems, "expected a problem"
    assert all(p.startswith(f"{FILE}: ") for p in problems)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in ABILITY_CASES],
)
def test_ability_problems_name_file_and_field(mutate: Mutation, expected: str) -> None:
    test = _ability()
    mutate(test)
    problems = validate_catalog_test(test, FILE)
    assert all(p.startswith(f"{FILE}: ") for p in problems)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    test = _likert()
    test["items"][0]["dimension"] = "ghost"
    del test["items"][1]["keyed"]
    test["dimensions"][0]["norms"]["sd"] = 0
    problems = validate_catalog_test(test, FILE)
    assert len(problems) >= 3
    assert any("ghost" in p for p in problems)
    assert any("items[1].keyed" in p for p in problems)
    assert any("norms.sd" in p for p in problems)


def test_problems_in_item_order() -> None:
    test = _likert()
    for i in (2, 7):
        del test["items"][i]["keyed"]
    problems = validate_catalog_test(test, FILE)
    assert [p.split(": ")[1] for p in problems] == [
        "items[2].keyed (item 'calm3')",
        "items[7].keyed (item 'drive4')",
    ]


def test_top_level_must_be_an_object() -> None:
    expected = f"{FILE}: (top level): must be a JSON object, not list"
    assert validate_catalog_test([], FILE) == [expected]


def test_cli_reports_and_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_likert()))
    bad = tmp_path / "bad.json"
    broken = _likert()
    broken["primary_dimension"] = "nope"
    bad.write_text(json.dumps(broken))
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{not json")

    assert main([str(good)]) == 0
    assert "1 file(s) OK" in capsys.readouterr().out

    assert main([str(good), str(bad), str(garbled)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: primary_dimension: 'nope' is not a dimension key" in out
    assert f"{garbled}: (file): cannot read JSON" in out
    assert str(good) not in out

    assert main([]) == 2
