"""The v1 result envelope: exact shape, rounding, and schema checks (DESIGN §3.5)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from assessments.envelope import (
    ENVELOPE_SCHEMA_PATH,
    EnvelopeError,
    build_envelope,
    validate_envelope,
)
from assessments.scoring import clear_compiled_cache, score_test
from assessments.scoring.samples import likert_test

START = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_compiled_cache()
    yield
    clear_compiled_cache()


def _score(primary: str | None = "a"):
    test = likert_test(
        [
            {"key": "a", "name": "Alpha", "keyed": "++-+-", "reliability": 0.84,
             "norms": {"metric": "mean", "mean": 3.0, "sd": 1.0, "n": 10, "source": "Hand norms"}},
            {"key": "b", "name": "Beta", "keyed": "+++++", "reliability": 0.7, "norms": None},
            {"key": "c", "name": "Gamma", "keyed": "+++++", "reliability": None,
             "norms": {"metric": "sum", "mean": 15.0, "sd": 3.0, "n": 10, "source": "Hand norms"}},
        ],
        slug="envelope-test",
        primary_dimension=primary,
    )  # fmt: skip
    answers = {"a1": 4, "a2": 5, "a3": 2, "a4": 3, "a5": 1}  # raw 4.2, z 1.2
    answers |= {"b1": 2, "b2": 3, "b3": 3, "b4": 2}  # raw 2.5 (4 of 5)
    answers |= {"c1": 5}  # 1 of 5: not scored
    return score_test(test, answers, {k: 2.0 for k in answers})


def _build(result=None, **overrides):
    kwargs = dict(
        result_id="res_01",
        invitation_id="inv_01",
        sandbox=False,
        candidate_external_id="lever-opp-42",
        candidate_source="lever",
        started_at=START,
        completed_at=START + timedelta(seconds=512, microseconds=900_000),
        report_url="https://assay.example/r/res_01",
    )
    kwargs.update(overrides)
    return build_envelope(result or _score(), **kwargs)


def test_envelope_exact() -> None:
    envelope = _build()
    assert envelope == {
        "envelope_version": "1",
        "result_id": "res_01",
        "invitation_id": "inv_01",
        "sandbox": False,
        "test": {
            "slug": "envelope-test",
            "name": "Synthetic envelope-test",
            "version": "1",
            "evidence": "validated",
        },
        "candidate": {"external_id": "lever-opp-42", "source": "lever"},
        "started_at": "2025-05-01T12:00:00Z",
        "completed_at": "2025-05-01T12:08:32Z",
        "duration_seconds": 512,
        "dimensions": [
            {
                "key": "a", "name": "Alpha", "raw": 4.2, "items_answered": 5, "items_total": 5,
                "z": 1.2, "t_score": 62.0, "percentile": 88.5, "score": 88, "sten": 8,
                "band": "high", "reliability": 0.84, "sem_t": 4.0, "ci90_t": [55.4, 68.6],
            },
            {
                "key": "b", "name": "Beta", "raw": 2.5, "items_answered": 4, "items_total": 5,
                "z": None, "t_score": None, "percentile": None, "score": None, "sten": None,
                "band": None, "reliability": 0.7, "sem_t": None, "ci90_t": None,
            },
            {
                "key": "c", "name": "Gamma", "raw": None, "items_answered": 1, "items_total": 5,
                "z": None, "t_score": None, "percentile": None, "score": None, "sten": None,
                "band": None, "reliability": None, "sem_t": None, "ci90_t": None,
            },
        ],
        "overall": {"score": 88, "label": "Alpha: high"},
        "quality": {"flags": ["insufficient_items"], "completion_ratio": 0.7},  # 10 / 15
        "norms": {"group": "general", "source": "Hand norms"},
        "report_url": "https://assay.example/r/res_01",
    }  # fmt: skip
    validate_envelope(envelope)
    json.dumps(envelope, allow_nan=False)  # plain JSON, no NaN


def test_envelope_rounding_is_half_away_from_zero() -> None:
    test = likert_test(
        [{"key": "a", "keyed": "++++", "reliability": 0.75,
          "norms": {"metric": "mean", "mean": 2.6, "sd": 2.0, "n": 9, "source": "s"}}],
        slug="rounding-envelope",
    )  # fmt: skip
    result = score_test(test, {"a1": 2, "a2": 2, "a3": 2, "a4": 3})
    dim = result.dimensions[0]
    assert (dim.raw, dim.t_score, dim.ci90_t) == (2.25, 48.25, (40.025, 56.475))
    envelope = _build(result)
    out = envelope["dimensions"][0]
    assert out["raw"] == 2.3  # round(2.25, 1) would give 2.2
    assert out["t_score"] == 48.3  # round(48.25, 1) would give 48.2
    assert out["z"] == -0.18
    assert out["percentile"] == 43.1
    assert out["sem_t"] == 5.0
    assert out["ci90_t"] == [40.0, 56.5]  # 40.025 -> 40.0, 56.475 -> 56.5 (on the decimal)
    validate_envelope(envelope)


def test_overall_is_null_without_primary_dimension() -> None:
    envelope = _build(_score(primary=None))
    assert envelope["overall"] is None
    validate_envelope(envelope)


def test_datetimes_are_written_in_utc_with_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    envelope = _build(
        started_at=datetime(2025, 5, 1, 14, 0, 0, 250_000, tzinfo=plus_two),
        completed_at=datetime(2025, 5, 1, 14, 1, 0, tzinfo=plus_two),
    )
    assert envelope["started_at"] == "2025-05-01T12:00:00Z"
    assert envelope["completed_at"] == "2025-05-01T12:01:00Z"
    assert envelope["duration_seconds"] == 59


def test_ids_may_be_uuids_and_duration_may_be_given() -> None:
    rid, iid = uuid.uuid4(), uuid.uuid4()
    envelope = _build(result_id=rid, invitation_id=iid, duration_seconds=300, sandbox=True)
    assert envelope["result_id"] == str(rid) and envelope["invitation_id"] == str(iid)
    assert envelope["duration_seconds"] == 300 and envelope["sandbox"] is True
    validate_envelope(envelope)


def test_norms_can_be_overridden() -> None:
    envelope = _build(norms_group="Local: sales", norms_source="Our applicants 2025, N=800")
    assert envelope["norms"] == {"group": "Local: sales", "source": "Our applicants 2025, N=800"}


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="started_at must be timezone-aware"):
        _build(started_at=datetime(2025, 5, 1, 12, 0))


def test_completion_before_start_is_refused() -> None:
    with pytest.raises(ValueError, match="before started_at"):
        _build(completed_at=START - timedelta(seconds=1))


def _broken(mutate) -> dict:
    envelope = copy.deepcopy(_build())
    mutate(envelope)
    return envelope


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda e: e.pop("report_url"), "'report_url' is a required property"),
        (lambda e: e.update(extra=1), "Additional properties"),
        (lambda e: e.update(envelope_version="2"), "envelope.envelope_version"),
        (lambda e: e["test"].update(colour="red"), "envelope.test"),
        (lambda e: e.update(started_at="2025-05-01 12:00:00"), "envelope.started_at"),
        (lambda e: e.update(completed_at="2025-05-01T12:00:00+00:00"), "envelope.completed_at"),
        (lambda e: e.update(duration_seconds=1.5), "envelope.duration_seconds"),
        (lambda e: e["dimensions"][0].update(score=100), "envelope.dimensions[0].score"),
        (lambda e: e["dimensions"][0].update(band="medium"), "envelope.dimensions[0].band"),
        (lambda e: e["dimensions"][0].pop("sten"), "envelope.dimensions[0]"),
        (lambda e: e["dimensions"][1].update(score=50), "envelope.dimensions[1]"),
        (lambda e: e.update(dimensions=[]), "envelope.dimensions"),
        (lambda e: e["quality"].update(flags=["slow"]), "envelope.quality.flags[0]"),
        (lambda e: e["quality"].update(completion_ratio=1.5), "completion_ratio"),
        (lambda e: e.update(overall={"score": 50}), "envelope.overall"),
        (lambda e: e.update(report_url="/r/1"), "envelope.report_url"),
        (lambda e: e.update(sandbox="no"), "envelope.sandbox"),
        (lambda e: e["dimensions"][1].update(key="a"), "duplicate dimension 'a'"),
        (lambda e: e["dimensions"][0].update(items_answered=9), "more than items_total"),
        (lambda e: e["dimensions"][0].update(ci90_t=[60.0, 50.0]), "lower bound above"),
        (lambda e: e.update(completed_at="2025-05-01T11:00:00Z"), "completed_at: before"),
    ],
)
def test_validate_envelope_rejects(mutate, where: str) -> None:
    with pytest.raises(EnvelopeError, match="not valid v1") as caught:
        validate_envelope(_broken(mutate))
    assert where in str(caught.value)


def test_validate_envelope_rejects_non_objects() -> None:
    with pytest.raises(EnvelopeError):
        validate_envelope([])


def test_schema_file_is_draft_2020_12_and_strict() -> None:
    schema = json.loads(ENVELOPE_SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["dimension"]["additionalProperties"] is False
    assert set(schema["required"]) == {
        "envelope_version", "result_id", "invitation_id", "sandbox", "test", "candidate",
        "started_at", "completed_at", "duration_seconds", "dimensions", "overall", "quality",
        "norms", "report_url",
    }  # fmt: skip
