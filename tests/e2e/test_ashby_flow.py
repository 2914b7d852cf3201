"""Ashby end to end, every piece real (issue 5, DESIGN §2 flows 2 and 3):

gunicorn serving Assay (subprocess), a Celery worker (subprocess), the fake Ashby (HTTP server on
a free port, calling our partner endpoints and hosting assessment.update), an SMTP server
capturing email, PostgreSQL with row-level security and Redis. The test drives the Ashby side
through the fake's control API, takes the assessment through the candidate pages with plain form
posts, and compares what the fake holds with the envelope stored in our database. The fake checks
every rule of the brief on what we answer and send (`violations`).

Select with `-m e2e`; they run in the normal suite.
"""

from __future__ import annotations

import time

import pytest
import requests

from assessments.models import Invitation, Result
from integrations import partner_keys, registry, summary
from integrations.models import Connection, Delivery
from integrations.providers.ashby import fake as fake_ashby
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

TEST = "big-five-mini-ipip-20"
API_KEY = "ashby-e2e-customer-key"
ADA, GRACE = "ada.ashby@example.com", "grace.ashby@example.com"


class Stack:
    def __init__(self, web: WebServer, smtp: SmtpCapture, fake, org, connection):
        self.web, self.smtp, self.fake, self.org = web, smtp, fake, org
        self.connection = connection

    def control(self, path: str, body: dict | None = None, method: str = "POST") -> dict:
        return fake_control(self.fake, method, path, body)

    def state(self) -> dict:
        return self.control("state", method="GET")

    def assessment(self, assessment_id: str) -> dict:
        return next(a for a in self.state()["assessments"]
                    if a["assessment_id"] == assessment_id)

    def start(self, email: str, first_name: str, **spec) -> dict:
        started = self.control("start", {"assessment_type_id": TEST, **spec, "candidate": {
            "email": email, "first_name": first_name, "last_name": "Tester"}})
        assert started["status"] == 200 and started["errors"] == [], started
        return started


@pytest.fixture
def stack(transactional_db, make_org, monkeypatch, tmp_path, request):
    catalog_test(TEST)
    org = make_org("alpha")
    with partner_services(request, monkeypatch, tmp_path) as (web, smtp):
        fake = fake_ashby.run("127.0.0.1", 0, partner_url=f"{web.url}/integrations/ashby",
                              api_keys=[API_KEY])
        try:
            # What the org admin does in the console: a sandbox Ashby connection pointing at the
            # fake, the customer's Ashby API key entered, a partner key issued and handed over.
            with tenant_context(org):
                connection = Connection(org=org, provider="ashby", status="active",
                                        is_sandbox=True, name="Ashby sandbox",
                                        config={"api_url": fake.url})
                registry.adapter(connection).set_credential(API_KEY)
                connection.save()
                key = partner_keys.issue(connection)
            stack = Stack(web, smtp, fake, org, connection)
            stack.control("configure", {"partner_key": key})
            yield stack
        finally:
            fake.stop()


def test_list_start_email_completion_and_result_in_ashby(stack):
    started_at = time.monotonic()
    listed = stack.control("list")
    assert listed["status"] == 200 and listed["errors"] == [], listed
    assert TEST in [t["assessment_type_id"] for t in listed["assessment_types"]]

    started = stack.start(ADA, "Ada")
    aid = started["assessment"]["assessment_id"]
    application = started["request"]["body"]["application"]["ashby_id"]
    assert stack.assessment(aid)["status"] == "Invited"  # start's update_request
    # Ashby retries the start (same application and type): the same assessment, no new email.
    again = stack.start(ADA, "Ada", application_id=application)
    assert again["assessment"]["assessment_id"] == aid

    email = wait_until(lambda: stack.smtp.to(ADA), 20, what="the invitation email")
    time.sleep(1.0)
    assert len(stack.smtp.messages) == 1 and len(email) == 1
    with tenant_context(stack.org):
        invitation = Invitation.objects.get()
    assert invitation.sandbox and invitation.source == "ashby"
    assert invitation.source_ref["assessment_id"] == aid

    answers = take_assessment(stack.web.url, candidate_link(email[0]))
    assert len(answers) == 20
    with tenant_context(stack.org):
        invitation.refresh_from_db()
    assert invitation.status == "completed"

    record = wait_until(lambda: (lambda a: a if a["completed"] else None)(stack.assessment(aid)),
                        30, 0.2, what="the completed assessment in the fake Ashby")
    time.sleep(1.0)  # anything sent twice would show up now
    record = stack.assessment(aid)
    with tenant_context(stack.org):
        envelope = Result.objects.get().envelope
        kinds = sorted(Delivery.objects.values_list("payload__event", "status"))
    overall = (envelope.get("overall") or {}).get("score")
    expected = overall if overall is not None else envelope["dimensions"][0]["score"]
    assert expected == summary.overall_score([envelope])
    assert record["result"]["type"] == "numeric_score" and record["result"]["value"] == expected
    assert record["status"] == "Completed"
    assert record["profile_url"].endswith(f"/r/{invitation.public_id}")
    assert {m["identifier"]: m["value"] for m in record["metadata"]
            if m["identifier"].startswith("dim_")} == {
        f"dim_{d['key']}": d["score"] for d in envelope["dimensions"]}

    updates = record["updates"]
    statuses = [u["body"].get("assessment_status", {}).get("value") for u in updates]
    assert statuses == ["Invited", "Started", "Completed"]
    stamps = [u["body"]["timestamp"] for u in updates]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert kinds == [("completed", "delivered"), ("started", "delivered")]
    assert all(u["headers"].get("user-agent", "").startswith("Assay/")
               for u in updates if u["source"] == "assessment.update")
    assert stack.state()["violations"] == []
    assert time.monotonic() - started_at < 90


def test_ashby_cancels_the_assessment(stack):
    stack.control("configure", {"key_field": "password"})  # the other Basic field this time
    started = stack.start(GRACE, "Grace")
    aid = started["assessment"]["assessment_id"]
    email = wait_until(lambda: stack.smtp.to(GRACE), 20, what="the invitation email")
    link = candidate_link(email[0])

    cancelled = stack.control("cancel", {"assessment_id": aid})
    assert cancelled["status"] == 200 and cancelled["errors"] == [], cancelled
    assert cancelled["body"] == {"success": True, "results": {"assessment_id": aid}}
    with tenant_context(stack.org):
        invitation = Invitation.objects.get()
    assert invitation.status == "cancelled"

    page = requests.get(link, timeout=10)
    assert page.status_code == 410 and "This assessment was cancelled" in page.text

    record = wait_until(
        lambda: (lambda a: a if a["cancelled_reason"] else None)(stack.assessment(aid)),
        30, 0.2, what="the cancelled_reason update in the fake Ashby")
    assert record["cancelled_reason"]["value"] == "Cancelled in Ashby"
    assert record["cancelled"] and not record["completed"]
    # Cancelling again (Ashby retrying) is still a success and sends nothing more.
    assert stack.control("cancel", {"assessment_id": aid})["body"]["success"] is True
    time.sleep(1.0)
    assert len(stack.assessment(aid)["updates"]) == 2  # Invited, then the cancelled_reason
    assert stack.state()["violations"] == []
    with tenant_context(stack.org):
        assert list(Delivery.objects.values_list("payload__event", "status")) == [
            ("cancelled", "delivered")]
