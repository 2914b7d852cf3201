"""The v1 result envelope (DESIGN §3.5): one JSON object per completed test, the same for every
ATS, the REST API and outbound webhooks.

The envelope is where rounding happens (half away from zero; 1 decimal, z 2 decimals) so that
every consumer shows the same digits. The catalog's reliability is passed through as published.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from jsonschema import Draft202012Validator

from assessments.scoring.result import DimensionScore, Overall, TestScore
from assessments.scoring.rounding import round_half_away

__all__ = [
    "ENVELOPE_SCHEMA_PATH",
    "ENVELOPE_VERSION",
    "EnvelopeError",
    "build_envelope",
    "validate_envelope",
]

ENVELOPE_VERSION = "1"
ENVELOPE_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "result_envelope.v1.json"


class EnvelopeError(ValueError):
    """An envelope does not match the v1 contract; the message lists every problem found."""


def build_envelope(
    score: TestScore,
    *,
    result_id: str | UUID,
    invitation_id: str | UUID,
    sandbox: bool,
    candidate_external_id: str | None,
    candidate_source: str,
    started_at: datetime,
    completed_at: datetime,
    report_url: str,
    duration_seconds: int | None = None,
    norms_group: str | None = None,
    norms_source: str | None = None,
) -> dict[str, Any]:
    """The envelope dict for ``score``.

    Datetimes must be timezone-aware; they are written in UTC with a trailing Z, to the second.
    ``duration_seconds`` defaults to whole seconds between start and completion (pass the
    attempt's active time instead if pauses should not count). ``norms_group``/``norms_source``
    override what the catalog says (e.g. once a local norm replaces the published one).
    Callers that publish the envelope should run validate_envelope on it; tests always do.
    """
    start = _utc(started_at, "started_at")
    end = _utc(completed_at, "completed_at")
    if end < start:
        raise ValueError(f"completed_at {end.isoformat()} is before started_at {start.isoformat()}")
    if duration_seconds is None:
        duration_seconds = int((end - start).total_seconds())
    return {
        "envelope_version": ENVELOPE_VERSION,
        "result_id": str(result_id),
        "invitation_id": str(invitation_id),
        "sandbox": bool(sandbox),
        "test": {
            "slug": score.test_slug,
            "name": score.test_name,
            "version": str(score.test_version),
            "evidence": score.evidence,
        },
        "candidate": {"external_id": candidate_external_id, "source": candidate_source},
        "started_at": _timestamp(start),
        "completed_at": _timestamp(end),
        "duration_seconds": duration_seconds,
        "dimensions": [_dimension(dim) for dim in score.dimensions],
        "overall": _overall(score.overall),
        "quality": {
            "flags": list(score.flags),
            "completion_ratio": round_half_away(score.completion_ratio, 1),
        },
        "norms": {
            "group": norms_group if norms_group is not None else score.norm_group,
            "source": norms_source if norms_source is not None else score.norm_source,
        },
        "report_url": report_url,
    }


def validate_envelope(envelope: Any) -> None:
    """Raise EnvelopeError listing every way ``envelope`` departs from the v1 schema."""
    problems = [
        f"{_path(error.absolute_path)}: {error.message}"
        for error in sorted(_validator().iter_errors(envelope), key=lambda e: list(e.path))
    ]
    if not problems and isinstance(envelope, dict):
        problems = _semantic_problems(envelope)
    if problems:
        raise EnvelopeError("result envelope is not valid v1:\n  " + "\n  ".join(problems))


def _semantic_problems(envelope: dict[str, Any]) -> list[str]:
    """What the schema cannot say: counts that must agree, keys that must be unique."""
    problems = []
    seen: set[str] = set()
    for i, dim in enumerate(envelope["dimensions"]):
        if dim["key"] in seen:
            problems.append(f"dimensions[{i}].key: duplicate dimension {dim['key']!r}")
        seen.add(dim["key"])
        if dim["items_answered"] > dim["items_total"]:
            problems.append(f"dimensions[{i}].items_answered: more than items_total")
        ci = dim["ci90_t"]
        if ci is not None and ci[0] > ci[1]:
            problems.append(f"dimensions[{i}].ci90_t: lower bound above upper bound")
    if _parse(envelope["completed_at"]) < _parse(envelope["started_at"]):
        problems.append("completed_at: before started_at")
    return problems


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(ENVELOPE_SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _path(parts: Any) -> str:
    out = "envelope"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _dimension(dim: DimensionScore) -> dict[str, Any]:
    return {
        "key": dim.key,
        "name": dim.name,
        "raw": _round(dim.raw, 1),
        "items_answered": dim.items_answered,
        "items_total": dim.items_total,
        "z": _round(dim.z, 2),
        "t_score": _round(dim.t_score, 1),
        "percentile": _round(dim.percentile, 1),
        "score": dim.score,
        "sten": dim.sten,
        "band": dim.band,
        "reliability": dim.reliability,
        "sem_t": _round(dim.sem_t, 1),
        "ci90_t": None
        if dim.ci90_t is None
        else [round_half_away(dim.ci90_t[0], 1), round_half_away(dim.ci90_t[1], 1)],
    }


def _overall(overall: Overall | None) -> dict[str, Any] | None:
    if overall is None:
        return None
    return {"score": overall.score, "label": overall.label}


def _round(value: float | None, ndigits: int) -> float | None:
    return None if value is None else round_half_away(value, ndigits)


def _utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {moment.isoformat()})")
    return moment.astimezone(UTC)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
