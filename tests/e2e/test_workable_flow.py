"""Workable end to end over real HTTP (issue 5): gunicorn serving Assay, a Celery worker, the
fake Workable on a free port and an SMTP server, each in its own process or thread.

The fake plays Workable: it lists our tests and posts an assessment with our partner key as its
Bearer token, and takes our `PUT <callback_url>` with the token Workable issued, checking every
call against the brief's rules (`violations`). The candidate takes the test through the
candidate pages' plain form posts. Extra path: an invitation that expires (the real worker's
expiry task) ends with Workable holding `expired`.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import Invitation, Result
from assessments.tasks import expire_org_invitations
from integrations import partner_keys
from integrations.models import Connection, Delivery
from integrations.providers.workable import fake as fake_workable
from integrations.providers.workable.adapter import WorkableAdapter
from tenants.context import tenant_context
from tests.e2e.stack import (
    SmtpCapture,
    WebServer,
    candidate_link,
    fake_control,
    partner_services,
    take_assessment,
    wait_until,
)
from tests.rls_rows import catalog_test

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker]

TEST = "self-efficacy-ipip"  # 10 items, a primary dimension: the envelope has an overall score
WORKABLE_TOKEN = "wk-e2e-issued-token"
CANDIDATE = {"first_name": "Lakita", "last_name": "Marrero", "email": "lakita@example.com",
             "phone": "+30 210 000 0000"}


class Stack:
    def __init__(self, web: WebServer, smtp: SmtpCapture, fake, org, connection):
        self.web, self.smtp, self.fake, self.org = web, smtp, fake, org
        self.connection = connection

    def control(self, verb: str, path: str, **body):
        return fake_control(self.fake, verb, path, body or None)

    def state(self) -> dict:
        return self.control("GET", "state")

    def record(self, fake_id: str) -> dict:
        return self.control("GET", f"assessments/{fake_id}")

    def deliveries(self) -> list[tuple[str, str, int]]:
        with tenant_context(self.org):
            return [(d.payload["body"]["status"], d.status, d.tries.count())
                    for d in Delivery.objects.order_by("pk")]


@pytest.fixture
def stack(transactional_db, make_org, monkeypatch, tmp_path, request):
    catalog_test(TEST)
    org = make_org("alpha")
    with tenant_context(org):
        connection = Connection(org=org, provider="workable", status="active",
                                is_sandbox=True, name="Workable sandbox")
        WorkableAdapter(connection).set_credential(WORKABLE_TOKEN)
        connection.save()
        key = partner_keys.issue(connection)
    with partner_services(request, monkeypatch, tmp_path) as (web, smtp):
        # Workable is given our partner key (it presents it to us) and issues its own token
        # (we present it on callbacks): two different tokens, brief §7.27.
        fake = fake_workable.run("127.0.0.1", 0, partner_url=f"{web.url}/integrations/workable",
                                 provider_token=key, workable_tokens=[WORKABLE_TOKEN])
        try:
            yield Stack(web, smtp, fake, org, connection)
        finally:
            fake.stop()


def send_assessment(stack: Stack) -> dict:
    """Workable lists our tests, then sends the chosen one to the candidate."""
    listed = stack.control("POST", "tests")
    assert listed["status"] == 200 and listed["errors"] == [], listed
    assert TEST in [t["id"] for t in listed["tests"]]
    created = stack.control("POST", "assessments", test_id=TEST, candidate=CANDIDATE,
                            job_shortcode="GROOV005", job_title="AI Engineer")
    assert created["status"] == 201 and created["errors"] == [], created
    wait_until(lambda: stack.record(created["id"])["status"] == "pending", 20,
               what="the pending callback in Workable")
    return created


def test_workable_sends_a_test_and_gets_the_result(stack):
    started = time.monotonic()
    created = send_assessment(stack)
    fake_id, assessment_id = created["id"], created["body"]["assessment_id"]

    # Workable sends the same request again (a retry, a double click): same id, no 2nd email.
    again = stack.control("POST", "assessments", callback_url=created["callback_url"],
                          test_id=TEST, candidate=CANDIDATE)
    assert again["status"] == 200 and again["errors"] == [], again
    assert again["body"]["assessment_id"] == assessment_id

    email = wait_until(lambda: stack.smtp.to(CANDIDATE["email"]), 20,
                       what="the invitation email")
    time.sleep(1.0)
    assert len(stack.smtp.messages) == 1 and len(email) == 1
    with tenant_context(stack.org):
        invitation = Invitation.objects.get()
    assert invitation.source == "workable" and invitation.sandbox
    assert invitation.source_ref["assessment_id"] == assessment_id

    answers = take_assessment(stack.web.url, candidate_link(email[0]))
    assert len(answers) == 10

    record = wait_until(lambda: (r := stack.record(fake_id))["status"] == "completed" and r,
                        30, 0.2, what="the completed callback in Workable")
    time.sleep(1.0)  # anything sent twice, or out of order, would show now
    with tenant_context(stack.org):
        [envelope] = [r.envelope for r in Result.objects.filter(invitation=invitation)]
    assert record["results_url"] == f"{stack.web.url}/r/{invitation.public_id}"
    result = record["assessment"]
    assert result["score"] == envelope["overall"]["score"] is not None
    assert result["details"] == {d["name"]: d["score"] for d in envelope["dimensions"]}
    assert result["details"] and "grade" not in result
    assert result["summary"].startswith(envelope["test"]["name"])
    hours, minutes, seconds = (int(part) for part in result["duration"].split(":"))
    assert hours * 3600 + minutes * 60 + seconds == envelope["duration_seconds"]

    state = stack.state()
    assert state["violations"] == []
    callbacks = [c for c in state["received"] if c["id"] == fake_id]
    assert [c["body"]["status"] for c in callbacks] == ["pending", "completed"]
    assert all(c["headers"]["authorization"] == f"Bearer {WORKABLE_TOKEN}" for c in callbacks)
    assert stack.deliveries() == [("pending", "delivered", 1), ("completed", "delivered", 1)]
    assert time.monotonic() - started < 60


def test_an_expired_invitation_ends_expired_in_workable(stack):
    created = send_assessment(stack)
    wait_until(lambda: stack.smtp.to(CANDIDATE["email"]), 20, what="the invitation email")
    with tenant_context(stack.org):
        Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    expire_org_invitations.apply_async(kwargs={"org_id": stack.org.pk})  # the real worker

    record = wait_until(lambda: (r := stack.record(created["id"]))["status"] == "expired" and r,
                        30, 0.2, what="the expired callback in Workable")
    time.sleep(1.0)
    with tenant_context(stack.org):
        assert Invitation.objects.get().status == "expired"
    assert record["results_url"] is None and record["assessment"] is None
    assert stack.state()["violations"] == []
    assert stack.deliveries() == [("pending", "delivered", 1), ("expired", "delivered", 1)]

    # The same callback_url again cannot revive an assessment Workable holds as expired.
    again = stack.control("POST", "assessments", callback_url=created["callback_url"],
                          test_id=TEST, candidate=CANDIDATE)
    assert again["status"] == 409 and again["errors"] == [], again
    assert "already expired" in again["body"]["message"]
    assert len(stack.smtp.messages) == 1
