"""Lever end to end, every piece real and in its own process or thread (issue 4, DESIGN §2):

gunicorn serving Assay (subprocess), a Celery worker (subprocess), the fake Lever (HTTP server on
a free port, sending signed webhooks to gunicorn), an SMTP server capturing email, PostgreSQL
with row-level security and Redis. The test only talks HTTP to them, like an admin, Lever and a
candidate would, and reads the database to compare what Lever holds with what we stored.

Why gunicorn and not pytest-django's `live_server`: live_server runs in a thread of the test
process, sharing its settings and database connection handling; gunicorn is what production and
`make run` serve with, in its own processes with their own connections as the application role,
so RLS, sessions, CSRF and the webhook intake are exercised exactly as deployed.

Select with `-m e2e`; they run in the normal suite.
"""

from __future__ import annotations

import time

import pytest

from assessments.models import Invitation, Result
from integrations.models import Connection, Delivery, InboundEvent, StageMapping
from integrations.providers.lever.fake import seed_id
from tenants.context import tenant_context
from tests.conftest import subprocess_env
from tests.e2e.stack import (
    Browser,
    SmtpCapture,
    WebServer,
    candidate_link,
    free_port,
    oauth_connect,
    save_mapping,
    sign_in,
    take_assessment,
    wait_until,
)
from tests.integrations.lever.conftest import control
from tests.rls_rows import catalog_test

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker]

TEST = "big-five-mini-ipip-20"
PHONE_SCREEN = seed_id("stage:Phone Screen")
ONSITE = seed_id("stage:On-site interview")
ADA = seed_id("opp:ada")
ADA_EMAIL = "ada@example.com"
# The org owner has the email of a Lever user, so that user is preselected for perform_as.
OWNER_EMAIL, OWNER_PASSWORD = "riley.recruiter@example.com", "pw-123456!"


class Stack:
    def __init__(self, web: WebServer, smtp: SmtpCapture, fake, org):
        self.web, self.smtp, self.fake, self.org = web, smtp, fake, org

    def state(self) -> dict:
        return control(self.fake, "GET", "state")

    def written(self, opportunity: str) -> tuple[list, list, list]:
        state = self.state()
        return ([f for f in state["feedback"] if f["opportunityId"] == opportunity],
                [n for n in state["notes"] if n["opportunityId"] == opportunity],
                state["tags"].get(opportunity, []))


@pytest.fixture
def stack(transactional_db, make_org, fake_lever, monkeypatch, tmp_path, request):
    catalog_test(TEST)
    org = make_org("alpha", owner_email=OWNER_EMAIL)
    smtp = SmtpCapture().start()
    port = free_port()
    # Read by subprocess_env(): the worker and the web server get the same environment.
    for name, value in {"SITE_URL": f"http://127.0.0.1:{port}", "EMAIL_URL": smtp.url,
                        "FAKE_LEVER_URL": fake_lever.url, "ACCOUNT_EMAIL_VERIFICATION": "optional",
                        "DEBUG": "false"}.items():
        monkeypatch.setenv(name, value)
    web = None
    try:
        request.getfixturevalue("celery_worker")  # flushes the test Redis first
        web = WebServer(subprocess_env(), port, log_path=tmp_path / "gunicorn.log")
        web.wait_ready()
        yield Stack(web, smtp, fake_lever, org)
    finally:
        if web is not None:
            web.stop()
        smtp.stop()


def connect_and_map(stack: Stack) -> tuple[Browser, Connection]:
    """The admin signs in, connects Lever (OAuth through the fake's consent page) and maps
    Phone Screen to one short test, all over HTTP."""
    admin = Browser(stack.web.url)
    sign_in(admin, OWNER_EMAIL, OWNER_PASSWORD)
    landed = oauth_connect(admin)
    assert "Lever is connected" in landed.text
    with tenant_context(stack.org):
        connection = Connection.objects.get()
    assert connection.status == "active" and connection.webhook_secret
    assert connection.config["perform_as"] == seed_id(f"user:{OWNER_EMAIL}")
    [hook] = stack.state()["webhooks"]
    assert hook["url"] == f"{stack.web.url}/integrations/lever/{connection.public_id}/webhook"
    save_mapping(admin, connection, stage_id=PHONE_SCREEN, tests=[TEST])
    with tenant_context(stack.org):
        mapping = StageMapping.objects.get()
    assert (mapping.stage_id, mapping.tests) == (PHONE_SCREEN, [TEST])
    return admin, connection


def move(stack: Stack, stage: str) -> list[dict]:
    return control(stack.fake, "POST", f"opportunities/{ADA}/stage", stage_id=stage)["data"][
        "deliveries"]


def fire_stage_change_five_times(stack: Stack) -> None:
    """Ada enters Phone Screen: the delivery, Lever retrying it twice (same token), and Ada
    moved out and back in twice (new tokens, same open invitation)."""
    [first] = move(stack, PHONE_SCREEN)
    control(stack.fake, "POST", f"deliveries/{first['token']}/redeliver")
    control(stack.fake, "POST", f"deliveries/{first['token']}/redeliver")
    for _ in range(2):
        move(stack, ONSITE)
        move(stack, PHONE_SCREEN)

    def settled():
        deliveries = stack.state()["deliveries"]
        with tenant_context(stack.org):
            pending = InboundEvent.objects.filter(status="pending").exists()
        return (len(deliveries) == 7 and all(d["status"] == "delivered" for d in deliveries)
                and not pending)

    try:
        wait_until(settled, 30, what="every webhook delivered and processed")
    except AssertionError:
        with tenant_context(stack.org):
            events = list(InboundEvent.objects.values_list("status", "outcome"))
        sent = [(d["status"], len(d["attempts"])) for d in stack.state()["deliveries"]]
        raise AssertionError(f"not settled: deliveries {sent}; events {events}") from None
    with tenant_context(stack.org):
        events = list(InboundEvent.objects.values_list("status", "outcome"))
    # 5 deliveries into Phone Screen with 3 distinct tokens, plus 2 moves to On-site.
    assert len(events) == 5 and all(status == "processed" for status, _ in events)
    assert sum("created" in outcome for _, outcome in events) == 1


def assert_lever_holds_the_result(stack: Stack, connection) -> Result:
    def both_written():
        forms, notes, tags = stack.written(ADA)
        return (forms, notes, tags) if forms and notes and "Assay: completed" in tags else None

    wait_until(both_written, 45, 0.2, what="the feedback form, the note and the tags in Lever")
    time.sleep(1.0)  # anything written twice would show up now
    forms, notes, tags = stack.written(ADA)
    assert (len(forms), len(notes)) == (1, 1)
    assert tags.count("Assay: invited") == 1 and tags.count("Assay: completed") == 1
    with tenant_context(stack.org):
        result = Result.objects.get()
        envelope = result.envelope
    fields = {f["text"]: f["value"] for f in forms[0]["fields"]}
    assert forms[0]["user"] == connection.config["perform_as"]
    for dim in envelope["dimensions"]:
        assert fields[dim["name"]] == str(dim["score"]), dim["key"]
    assert fields["Report"] == envelope["report_url"]
    assert f"Assay result {envelope['result_id']}" in fields["Summary"]
    note = notes[0]["fields"][0]["value"]
    assert envelope["report_url"] in note
    for dim in envelope["dimensions"]:
        assert f"{dim['name']} {dim['score']}" in note
    return result


def give_verdict_in_the_console(stack: Stack, admin, invitation, action: str) -> None:
    page = admin.go("GET", "/admin/assessments/invitation/")
    done = admin.submit(page, "/admin/assessments/invitation/",
                        {"action": action, "_selected_action": [invitation.pk]})
    assert done.status_code == 200 and "Verdict recorded" in done.text, done.status_code


def rating_in_lever(stack: Stack) -> str | None:
    forms = stack.written(ADA)[0]
    return next(f["value"] for f in forms[0]["fields"] if f["text"] == "Assessment rating")


def test_stage_change_to_feedback_form_over_real_http(stack):
    started = time.monotonic()
    admin, connection = connect_and_map(stack)
    fire_stage_change_five_times(stack)

    email = wait_until(lambda: stack.smtp.to(ADA_EMAIL), 20, what="the invitation email")
    time.sleep(1.0)
    assert len(stack.smtp.messages) == 1 and len(email) == 1
    with tenant_context(stack.org):
        invitation = Invitation.objects.get()
    assert invitation.source_ref["opportunity_id"] == ADA and invitation.sandbox
    wait_until(lambda: "Assay: invited" in stack.written(ADA)[2], 20, what="the invited tag")

    answers = take_assessment(stack.web.url, candidate_link(email[0]))
    assert len(answers) == 20
    with tenant_context(stack.org):
        invitation.refresh_from_db()
    assert invitation.status == "completed"

    result = assert_lever_holds_the_result(stack, connection)
    with tenant_context(stack.org):
        delivery = Delivery.objects.get(kind="lever.result")
        tries = list(delivery.tries.values_list("ok", flat=True))
        assert set(Delivery.objects.values_list("kind", "status")) == {
            ("lever.result", "delivered"), ("lever.tags", "delivered")}
        assert Delivery.objects.filter(kind="lever.tags").count() == 2
    assert delivery.payload["envelope"] == result.envelope
    assert delivery.status == "delivered" and tries == [True]

    # The recruiter's verdict updates the form's rating in Lever and adds one note.
    assert rating_in_lever(stack) is None
    give_verdict_in_the_console(stack, admin, invitation, "thumbs_up")
    wait_until(lambda: rating_in_lever(stack) == "3 - Hire", 20, 0.2,
               what="the Hire rating on the Lever form")
    give_verdict_in_the_console(stack, admin, invitation, "thumbs_down")
    wait_until(lambda: rating_in_lever(stack) == "2 - No Hire", 20, 0.2,
               what="the No Hire rating on the Lever form")
    time.sleep(1.0)
    forms, notes, _ = stack.written(ADA)
    verdict_notes = [n for n in notes if n["fields"][0]["value"].startswith("Assay verdict")]
    assert len(forms) == 1 and len(verdict_notes) == 2
    assert time.monotonic() - started < 60


def test_lever_failing_then_throttling_still_gets_everything_once(stack):
    """The fake answers 503 to the first writes, then 429 with Retry-After: every write arrives,
    each exactly once. A 503 that outlasts the client's quick in-call retries costs an outbox
    try (backoff); a Retry-After too long to sleep in a worker is honoured by the outbox."""
    started = time.monotonic()
    _, connection = connect_and_map(stack)
    # The first write (the "invited" tag): three 503s beat the client's three quick attempts,
    # then a 429 with a short Retry-After is slept through within the next try.
    control(stack.fake, "POST", "faults", status=503, count=3, method="POST", paths=r"/addTags$")
    control(stack.fake, "POST", "faults", status=429, count=1, retry_after=1, method="POST",
            paths=r"/addTags$")
    move(stack, PHONE_SCREEN)
    email = wait_until(lambda: stack.smtp.to(ADA_EMAIL), 20, what="the invitation email")

    def invited_delivered():
        with tenant_context(stack.org):
            return Delivery.objects.filter(kind="lever.tags", status="delivered").exists()

    wait_until(invited_delivered, 25, 0.2, what="the invited tag, after its retries")
    # The result's first write: a 429 asking for 12 s, longer than a worker sleeps in a call.
    control(stack.fake, "POST", "faults", status=429, count=1, retry_after=12, method="POST",
            paths=r"^/v1/feedback_templates$")
    answers = take_assessment(stack.web.url, candidate_link(email[0]), seed=2)
    assert len(answers) == 20

    assert_lever_holds_the_result(stack, connection)
    assert stack.state()["faults"] == []  # every injected fault was met
    with tenant_context(stack.org):
        tries = {d.payload.get("event", "result"): list(d.tries.order_by("started_at"))
                 for d in Delivery.objects.all()}
        assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert [t.ok for t in tries["invited"]] == [False, True]
    assert tries["invited"][0].error.startswith("TransientProviderError")
    assert [t.ok for t in tries["completed"]] == [True]
    result_tries = tries["result"]
    assert [(t.ok, t.status_code) for t in result_tries] == [(False, 429), (True, None)]
    waited = (result_tries[1].started_at - result_tries[0].started_at).total_seconds()
    assert waited >= 12
    assert len(stack.smtp.messages) == 1
    assert time.monotonic() - started < 60
