"""The outbox delivery "greenhouse.patch": tell Greenhouse to read test_status again.

Written when an invitation completes (once per assessment) and after each recruiter verdict
(once per verdict time), in the transaction that made the change, so by the time a worker runs
this the result is committed and test_status already shows it (pitfall 16). The PATCH has no
body: what Greenhouse gets is whatever test_status answers when it calls back.

The URL is the assessment's stored `url` (the latest send_test's), checked again here: a
connection switched from sandbox to production must not call a host it no longer may. The key
is the newest partner key issued (kept encrypted); if Greenhouse refuses it (401) and an older
key is still kept, that one is tried too, since the customer may not have pasted the new key
into Greenhouse yet during a rotation.
"""

from __future__ import annotations

import logging

from django.conf import settings

from integrations.errors import AuthError, PermanentProviderError
from integrations.http import build_user_agent
from integrations.models import ExternalAssessment
from integrations.partner import callback_url_problem

from .client import GreenhouseClient

log = logging.getLogger("integrations.greenhouse.callback")


def client_for(key: str, **options) -> GreenhouseClient:
    return GreenhouseClient(key, user_agent=build_user_agent("1", settings.SITE_URL), **options)


def deliver_patch(adapter, delivery) -> None:
    """Outbox handler for kind "greenhouse.patch"; raises integrations.errors on failure."""
    connection = delivery.connection
    assessment = (ExternalAssessment.objects
                  .filter(connection=connection, public_id=delivery.payload["assessment_id"])
                  .first())
    if assessment is None:
        raise PermanentProviderError(f"assessment {delivery.payload['assessment_id']} no longer "
                                     "exists; nothing to notify Greenhouse of")
    url = (assessment.state or {}).get("url")
    problem = callback_url_problem(connection, url, settings.GREENHOUSE_CALLBACK_DOMAINS)
    if problem:
        raise PermanentProviderError(f"not sending the completion PATCH: {problem}")
    keys = adapter.keys()
    if not keys:
        raise AuthError("no partner key is kept for the Greenhouse PATCH: issue a new partner "
                        "key, enter it in Greenhouse, then retry")
    for number, key in enumerate(keys, start=1):
        try:
            with client_for(key) as client:
                status = client.notify_completed(url)
        except AuthError as exc:
            if number < len(keys):
                log.info("integrations.greenhouse.patch.older_key assessment=%s: the newest key "
                         "was refused, trying the previous one", assessment.public_id)
                continue
            raise AuthError("Greenhouse refused the partner key on the completion PATCH: enter "
                            f"the newest key in Greenhouse, then retry ({exc.message})",
                            status_code=exc.status_code) from exc
        log.info("integrations.greenhouse.patch.sent assessment=%s reason=%s status=%s",
                 assessment.public_id, delivery.payload.get("reason"), status)
        return
