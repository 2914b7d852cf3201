"""Score a closed attempt and store its Result (the v1 envelope), in the caller's transaction.

Scoring is pure and fast (assessments.scoring); it runs in-process the moment an attempt is
closed, so the Result row, the `result_created` signal's outbox rows (integrations) and the
attempt's new status commit together or not at all.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction

from .envelope import build_envelope, validate_envelope
from .models import Attempt, CatalogTest, Result
from .scoring import score_test
from .signals import result_created


def report_url(result_public_id) -> str:
    return f"{settings.SITE_URL}/r/{result_public_id}"


def record_result(attempt: Attempt) -> Result:
    """Score `attempt` (already closed, with started_at/completed_at) and save its Result."""
    invitation = attempt.invitation
    catalog_test = CatalogTest.objects.get(pk=attempt.invitation_test.catalog_test_id)
    answers, seconds = {}, {}
    for item_id, value, secs in attempt.responses.values_list("item_id", "value", "seconds"):
        answers[item_id] = value
        seconds[item_id] = max(0.0, float(secs))
    score = score_test(catalog_test.definition, answers, seconds or None)
    public_id = uuid.uuid4()
    candidate = invitation.candidate
    envelope = build_envelope(
        score, result_id=public_id, invitation_id=invitation.public_id,
        sandbox=invitation.sandbox,
        candidate_external_id=invitation.external_id or candidate.external_id or None,
        candidate_source=invitation.source, started_at=attempt.started_at,
        completed_at=attempt.completed_at, report_url=report_url(public_id))
    validate_envelope(envelope)
    with transaction.atomic():
        result = Result.objects.create(
            org_id=attempt.org_id, public_id=public_id, invitation=invitation, attempt=attempt,
            catalog_test=catalog_test, envelope=envelope, created_at=attempt.completed_at)
        result_created.send(sender=Result, result=result)
    return result
