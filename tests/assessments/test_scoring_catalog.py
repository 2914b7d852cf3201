"""Every catalog test validates, and scores random answer sets into schema-valid envelopes.

Runs over assessments/catalog/*.json. While that folder is still empty, it runs over the research
pack (shared/catalog/tests, beside the repository or at /work/shared) upgraded to the catalog
format; if neither is there, it skips rather than fail.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assessments.catalog_validation import validate_catalog_test
from assessments.envelope import build_envelope, validate_envelope
from assessments.scoring import clear_compiled_cache, compile_test, score_test
from assessments.scoring.samples import random_answers, upgrade_research_pack

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "assessments" / "catalog"
RESEARCH_PACKS = [REPO.parent / "shared" / "catalog" / "tests", Path("/work/shared/catalog/tests")]


def _catalog_cases() -> list[Any]:
    files = sorted(CATALOG.glob("*.json"))
    if files:
        return [pytest.param(path, False, id=path.stem) for path in files]
    for pack in RESEARCH_PACKS:
        files = sorted(pack.glob("*.json"))
        if files:
            return [pytest.param(path, True, id=f"research-pack:{path.stem}") for path in files]
    return [pytest.param(None, False, id="no-catalog", marks=pytest.mark.skip("no catalog files"))]


CASES = _catalog_cases()


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_compiled_cache()
    yield
    clear_compiled_cache()


def _load(path: Path, upgrade: bool) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return upgrade_research_pack(data) if upgrade else data


def _envelope(result, seed: int) -> dict[str, Any]:
    start = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    return build_envelope(
        result,
        result_id=f"res_{seed}",
        invitation_id=f"inv_{seed}",
        sandbox=bool(seed % 2),
        candidate_external_id=f"cand-{seed}",
        candidate_source="greenhouse",
        started_at=start,
        completed_at=start + timedelta(seconds=60 + seed),
        report_url=f"https://assay.example/r/res_{seed}",
    )


@pytest.mark.parametrize(("path", "upgrade"), CASES)
def test_catalog_file_validates(path: Path, upgrade: bool) -> None:
    test = _load(path, upgrade)
    assert validate_catalog_test(test, path.name) == []
    if not upgrade:
        assert test["slug"] == path.stem, "file name must be <slug>.json"


@pytest.mark.parametrize(("path", "upgrade"), CASES)
def test_catalog_file_scores_into_valid_envelopes(path: Path, upgrade: bool) -> None:
    test = _load(path, upgrade)
    compiled = compile_test(test)
    rng = random.Random(path.stem)
    for seed, fraction in enumerate((1.0, 1.0, 0.9, 0.5, 0.0)):
        answers = random_answers(test, rng, answered=fraction)
        timings = {item_id: rng.uniform(0.2, 20.0) for item_id in answers}
        result = score_test(test, answers, timings)
        assert len(result.dimensions) == len(test["dimensions"])
        assert result.items_total == compiled.n_items == len(test["items"])
        assert result.items_answered == len(answers)
        if fraction == 1.0:
            assert result.completion_ratio == 1.0
            assert all(dim.scored for dim in result.dimensions)
            normed = [(d.get("norms") or {}).get("mean") is not None for d in test["dimensions"]]
            assert [dim.score is not None for dim in result.dimensions] == normed
        primary = test.get("primary_dimension")
        assert (result.overall is None) == (primary is None)
        validate_envelope(_envelope(result, seed))


@pytest.mark.parametrize(("path", "upgrade"), CASES)
def test_catalog_file_answers_as_form_strings(path: Path, upgrade: bool) -> None:
    """A browser posts every code as a string; scoring must not care."""
    test = _load(path, upgrade)
    answers = random_answers(test, random.Random(7))
    as_strings = {item_id: str(code) for item_id, code in answers.items()}
    assert score_test(test, as_strings) == score_test(test, answers)
