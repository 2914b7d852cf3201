"""Greenhouse end to end, every piece real and in its own process or thread (issue 5):

gunicorn serving Assay, a Celery worker, the fake Greenhouse (calling our partner endpoints with
the org's partner key, hosting the completion PATCH and reading test_status after it, checking
every answer by the brief's rules), an SMTP server capturing email, PostgreSQL with row-level
security and Redis. The test drives Greenhouse through the fake's control API and the candidate
through the pages over HTTP, and compares what Greenhouse ends up holding with the envelope.

Also proven here: the same test sent twice to the same application gives one email and one
partner_interview_id, and a recruiter's verdict PATCHes again so Greenhouse re-reads it.
"""

from __future__ import annotations

import time

import pytest

from assessments.invitations import give_verdict
from assessments.models import Invitation, Result
from integrations import partner_keys
from integrations.models import Connection, Delivery, ExternalAssessment
from integrations.providers.greenhouse import fake as fake_greenhouse
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


class Stack:
    def __init__(self, web: WebServer, smtp: SmtpCapture, fake, org, connection):
        self.web, self.smtp, self.fake, self.org = web, smtp, fake, org
        self.connection = connection

    def control(self, verb: str, path: str, **body) -> dict:
        return fake_control(self.fake, verb, path, body or None)

    def state(self) -> dict:
        return self.control("GET", "state")

    def take_home(self, take_home_id: int) -> dict:
        return next(t for t in self.state()["take_home_tests"] if t["id"] == take_home_id)

    def wait_for(self, take_home_id: int, predicate, what: str) -> None:
        """Poll the fake's take-home test; on timeout, say where our deliveries stand."""
        try:
            wait_until(lambda: predicate(self.take_home(take_home_id)), 30, 0.2, what=what)
        except AssertionError as exc:
            with tenant_context(self.org):
                rows = list(Delivery.objects.values_list("key", "status", "attempts",
                                                         "last_error"))
            raise AssertionError(f"{exc}; deliveries {rows}; Greenhouse holds "
                                 f"{self.take_home(take_home_id)}") from None


@pytest.fixture
def stack(transactional_db, make_org, monkeypatch, tmp_path, request):
    catalog_test(TEST)
    org = make_org("alpha")
    with tenant_context(org):
        connection = Connection.objects.create(org=org, provider="greenhouse", status="active",
                                               is_sandbox=True, name="Greenhouse sandbox")
        key = partner_keys.issue(connection)
    with partner_services(request, monkeypatch, tmp_path) as (web, smtp):
        # Greenhouse is handed our four URLs and the key (the customer's part of the set-up).
        fake = fake_greenhouse.run(partner_url=f"{web.url}/integrations/greenhouse", key=key,
                                   status_read_delay=0.05)
        try:
            yield Stack(web, smtp, fake, org, connection)
        finally:
            fake.stop()


def test_send_test_to_greenhouse_holding_the_result_over_real_http(stack):
    started = time.monotonic()
    listed = stack.control("POST", "list_tests")
    assert listed["errors"] == [] and TEST in [t["partner_test_id"] for t in listed["tests"]]

    # A recruiter clicks "Send Test"; then sends it again to the same application.
    sent = stack.control("POST", "send_test", partner_test_id=TEST)
    assert sent["status"] == 200 and sent["errors"] == [], sent
    take_home = sent["take_home_test"]
    again = stack.control("POST", "send_test", partner_test_id=TEST,
                          application_id=take_home["application_id"])
    assert again["status"] == 200 and again["errors"] == [], again
    assert again["resent"] is True and again["same_partner_interview_id"] is True
    interview = take_home["partner_interview_id"]

    address = take_home["candidate"]["email"]
    email = wait_until(lambda: stack.smtp.to(address), 20, what="the invitation email")
    time.sleep(1.0)  # a second email would arrive now
    assert len(stack.smtp.messages) == 1 and len(email) == 1
    with tenant_context(stack.org):
        [assessment] = ExternalAssessment.objects.select_related("invitation")
        invitation = assessment.invitation
    assert str(assessment.public_id) == interview and invitation.sandbox
    assert assessment.state["url"] == take_home["url"]

    # Before completion, Greenhouse sees a pending status (and no PATCH was sent).
    status = stack.control("POST", "test_status", partner_interview_id=interview)
    assert status["errors"] == [] and status["body"]["partner_status"] == "invited"

    answers = take_assessment(stack.web.url, candidate_link(email[0]))
    assert len(answers) == 20
    with tenant_context(stack.org):
        invitation = Invitation.objects.get(pk=invitation.pk)
        envelope = Result.objects.get().envelope
    assert invitation.status == "completed"

    # Our PATCH arrives; the fake reads test_status after it and keeps the result.
    stack.wait_for(take_home["id"], lambda t: t["result"], "the result in Greenhouse")
    time.sleep(1.0)  # a second PATCH would show now
    record = stack.take_home(take_home["id"])
    assert len(record["patches"]) == 1 and record["status"] == "complete"
    after_patch = [r for r in record["status_reads"] if r["trigger"] == "patch"]
    assert len(after_patch) == 1 and after_patch[0]["done"] and after_patch[0]["errors"] == []
    result = record["result"]
    assert result["partner_profile_url"] == f"{stack.web.url}/r/{invitation.public_id}"
    scored = [d for d in envelope["dimensions"] if d["score"] is not None]
    overall = (envelope["overall"] or {}).get("score")
    assert result["partner_score"] == (overall if overall is not None else scored[0]["score"])
    for dim in envelope["dimensions"]:
        assert result["metadata"][dim["name"]] == dim["score"], dim["key"]
    assert result["metadata"]["Verdict"] is None
    with tenant_context(stack.org):
        [delivery] = Delivery.objects.all()
        assert delivery.kind == "greenhouse.patch" and delivery.status == "delivered"
        assert list(delivery.tries.values_list("ok", flat=True)) == [True]

    # The recruiter's verdict: another PATCH, and Greenhouse re-reads the metadata.
    with tenant_context(stack.org):
        give_verdict(invitation, "up")
    stack.wait_for(take_home["id"], lambda t: t["result"]["metadata"]["Verdict"] == "Thumbs up",
                   "the verdict in Greenhouse")
    record = stack.take_home(take_home["id"])
    assert len(record["patches"]) == 2
    state = stack.state()
    assert state["violations"] == [], state["violations"]
    assert [r["status"] for r in state["received"]] == [200, 200]
    assert len(stack.smtp.messages) == 1
    with tenant_context(stack.org):
        assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
        connection = Connection.objects.get(pk=stack.connection.pk)
    assert connection.last_error == "" and connection.last_inbound_at is not None
    assert time.monotonic() - started < 90
