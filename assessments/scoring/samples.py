"""Small catalog tests and answer sets, for tests, the benchmark and demo data.

Lives in the package rather than under tests/ because the benchmark and seed_demo need the same
random answer sets, and because ``upgrade_research_pack`` documents in code how a file from the
research pack (shared/catalog/tests) maps onto the catalog format the engine reads.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from typing import Any

from .compile import LIKERT, compile_test

__all__ = [
    "ability_test",
    "likert_test",
    "random_answers",
    "upgrade_research_pack",
]

_LIKERT_LABELS = {
    5: ("Very Inaccurate", "Moderately Inaccurate", "Neither Accurate Nor Inaccurate",
        "Moderately Accurate", "Very Accurate"),
}  # fmt: skip


def likert_test(
    dimensions: Sequence[Mapping[str, Any]],
    *,
    slug: str = "synthetic-likert",
    version: str = "1",
    points: int = 5,
    primary_dimension: str | None = None,
    min_seconds_per_item: float = 1.0,
    evidence: str = "validated",
) -> dict[str, Any]:
    """A Likert catalog test. Each dimension spec: ``key``, ``keyed`` (a string of '+'/'-', one
    per item; item ids are key + 1-based position), optional ``norms`` (catalog norms object or
    None) and ``reliability`` (alpha or None). Items are presented dimension by dimension."""
    labels = _LIKERT_LABELS.get(points) or tuple(f"Point {v}" for v in range(1, points + 1))
    items = [
        {"id": f"{spec['key']}{n}", "text": f"Statement {n} about {spec['key']}.",
         "dimension": spec["key"], "keyed": sign}
        for spec in dimensions
        for n, sign in enumerate(spec["keyed"], start=1)
    ]  # fmt: skip
    return {
        "slug": slug,
        "name": f"Synthetic {slug}",
        "version": version,
        "evidence": evidence,
        "primary_dimension": primary_dimension,
        "min_seconds_per_item": min_seconds_per_item,
        "instructions": "Describe yourself as you generally are now.",
        "example_item": {"id": "example", "text": "Enjoy a good meal.", "keyed": "+"},
        "response_format": {
            "type": f"likert_{points}",
            "options": [{"value": v, "label": labels[v - 1]} for v in range(1, points + 1)],
        },
        "time_limit_seconds": None,
        "dimensions": [_dimension(spec, len(spec["keyed"])) for spec in dimensions],
        "items": items,
        "n_items": len(items),
    }


def ability_test(
    dimensions: Sequence[Mapping[str, Any]],
    *,
    slug: str = "synthetic-ability",
    version: str = "1",
    options: str = "ABCDEF",
    primary_dimension: str | None = None,
    min_seconds_per_item: float = 3.0,
    evidence: str = "validated",
) -> dict[str, Any]:
    """A multiple-choice catalog test. Each dimension spec: ``key``, ``answers`` (a string of
    option keys, one per item), optional ``norms`` (metric number_correct) and ``reliability``."""
    items = [
        {
            "id": f"{spec['key']}.{n:02d}",
            "stem": f"Question {n} about {spec['key']}?",
            "options": [{"key": k, "text": f"Option {k}"} for k in options],
            "answer": answer,
            "dimension": spec["key"],
        }
        for spec in dimensions
        for n, answer in enumerate(spec["answers"], start=1)
    ]
    return {
        "slug": slug,
        "name": f"Synthetic {slug}",
        "version": version,
        "evidence": evidence,
        "primary_dimension": primary_dimension,
        "min_seconds_per_item": min_seconds_per_item,
        "instructions": "Choose the best answer to each question.",
        "example_item": {
            "id": "example",
            "stem": "What is 2 + 2?",
            "options": [{"key": "A", "text": "3"}, {"key": "B", "text": "4"}],
            "answer": "B",
        },
        "response_format": {"type": "multiple_choice"},
        "time_limit_seconds": None,
        "dimensions": [_dimension(spec, len(spec["answers"])) for spec in dimensions],
        "items": items,
        "n_items": len(items),
    }


def _dimension(spec: Mapping[str, Any], n_items: int) -> dict[str, Any]:
    alpha = spec.get("reliability")
    return {
        "key": spec["key"],
        "name": spec.get("name", spec["key"].replace("_", " ").title()),
        "description": f"Synthetic dimension {spec['key']}.",
        "n_items": n_items,
        "norms": copy.deepcopy(spec.get("norms")),
        "reliability": None if alpha is None else {"alpha": alpha, "source": "synthetic"},
    }


def random_answers(
    test: Mapping[str, Any], rng: random.Random, answered: float = 1.0
) -> dict[str, int | str]:
    """A valid answer set: each item answered with probability ``answered`` (1.0 = all), with a
    uniformly random code (int for Likert, option key for ability)."""
    compiled = compile_test(test)
    answers: dict[str, int | str] = {}
    for i, item_id in enumerate(compiled.item_ids):
        if answered < 1.0 and rng.random() >= answered:
            continue
        if compiled.kind == LIKERT:
            answers[item_id] = rng.randint(1, compiled.points)
        else:
            answers[item_id] = rng.choice(list(compiled.item_options[i]))
    return answers


def upgrade_research_pack(data: Mapping[str, Any]) -> dict[str, Any]:
    """A research-pack test file (shared/catalog/tests/*.json) with the fields the product's
    catalog adds: evidence, primary_dimension, min_seconds_per_item, instructions, example_item,
    a normalised response_format.type, and null norms where the pack has no mean/sd.

    Guesses (evidence from slug/status, primary = the only dimension) are good enough for tests;
    the product catalog (assessments/catalog) states them explicitly.
    """
    test = copy.deepcopy(dict(data))
    response = test["response_format"]
    ability = response["type"].startswith("multiple_choice")
    if ability:
        test["response_format"] = {"type": "multiple_choice"}
    elif response["type"].startswith("likert_"):
        response["type"] = f"likert_{len(response['options'])}"
    for dim in test["dimensions"]:
        norms = dim.get("norms")
        if norms is not None and (norms.get("mean") is None or norms.get("sd") is None):
            dim["norms"] = None
    normed = any(dim.get("norms") for dim in test["dimensions"])
    if "proxy" in test["slug"] or "proxy" in str(test.get("status", "")):
        evidence = "proxy"
    else:
        evidence = "validated" if normed else "experimental"
    test.setdefault("evidence", evidence)
    only = test["dimensions"][0]["key"] if len(test["dimensions"]) == 1 else None
    test.setdefault("primary_dimension", only)
    test.setdefault("min_seconds_per_item", 3.0 if ability else 1.0)
    test.setdefault("instructions", "Answer every question as well as you can.")
    first = {k: v for k, v in test["items"][0].items() if k != "dimension"}
    test.setdefault("example_item", {**first, "id": "example"})
    return test
