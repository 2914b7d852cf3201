"""Load `assessments/catalog/*.json` into CatalogTest rows: validate all, then write all.

Rules (issue: catalog and scoring engine):
- every file is validated first (assessments/catalog_validation.py); any problem aborts the
  whole load with messages naming file and field, and nothing is written;
- tests are upserted by slug + version; a changed file with the same version is updated in place
  only while no row references that version (results, attempts); otherwise the author must bump
  the version, because old results must stay scoreable exactly as they were;
- the newest loaded version of a slug is the current one; versions are never deleted, and a slug
  whose file disappeared is marked retired.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from .catalog_validation import validate_catalog_test
from .models import CatalogTest

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"


class CatalogLoadError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s) in the catalog")
        self.problems = problems


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def read_catalog(directory: Path) -> list[tuple[str, dict]]:
    files = sorted(directory.glob("*.json"))
    if not files:
        raise CatalogLoadError([f"{directory}: no catalog files (*.json) found"])
    problems, tests = [], []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{path.name}: (file): not readable JSON: {exc}")
            continue
        errors = validate_catalog_test(data, path.name)
        if not errors and data.get("slug") != path.stem:
            errors = [f"{path.name}: slug: {data.get('slug')!r} must match the file name"]
        problems.extend(errors)
        tests.append((path.name, data))
    if problems:
        raise CatalogLoadError(problems)
    return tests


def _is_referenced(test: CatalogTest) -> bool:
    for relation in test._meta.related_objects:
        if relation.related_model._default_manager.filter(**{relation.field.name: test}).exists():
            return True
    return False


def _fields(data: dict, digest: str) -> dict:
    return {
        "name": data["name"], "construct": data.get("construct", ""),
        "evidence": data["evidence"], "estimated_minutes": data.get("estimated_minutes"),
        "time_limit_seconds": data.get("time_limit_seconds"), "item_count": len(data["items"]),
        "definition": data, "content_hash": digest,
    }


def load_catalog(directory: Path = CATALOG_DIR) -> LoadReport:
    """Validate every file, then upsert them all in one transaction (callers set the context)."""
    tests = read_catalog(directory)
    report = LoadReport()
    problems: list[str] = []
    with transaction.atomic():
        for filename, data in tests:
            slug, version, digest = data["slug"], str(data["version"]), content_hash(data)
            row = CatalogTest.objects.filter(slug=slug, version=version).first()
            if row is None:
                CatalogTest.objects.filter(slug=slug, is_current=True).update(is_current=False)
                CatalogTest.objects.create(slug=slug, version=version, is_current=True,
                                           **_fields(data, digest))
                report.created.append(slug)
            elif row.content_hash == digest and row.is_current and row.retired_at is None:
                report.unchanged.append(slug)
            elif row.content_hash != digest and _is_referenced(row):
                problems.append(f"{filename}: version: content changed but version {version!r} "
                                "is referenced by results; give the new content a new version")
            else:
                CatalogTest.objects.filter(slug=slug, is_current=True).exclude(pk=row.pk).update(
                    is_current=False)
                for name, value in _fields(data, digest).items():
                    setattr(row, name, value)
                row.is_current, row.retired_at, row.loaded_at = True, None, timezone.now()
                row.save()
                report.updated.append(slug)
        present = {data["slug"] for _, data in tests}
        gone = CatalogTest.objects.filter(retired_at__isnull=True).exclude(slug__in=present)
        report.retired = sorted(set(gone.values_list("slug", flat=True)))
        gone.update(retired_at=timezone.now(), is_current=False)
        if problems:
            transaction.set_rollback(True)
            raise CatalogLoadError(problems)
    return report
