"""Candidate pages through Django's test client (no JavaScript): every state, and bad input.

The browser tests (tests/browser/) drive the same pages with JavaScript in Chromium.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from assessments import invitations as svc
from assessments.envelope import validate_envelope
from assessments.models import (
    Attempt,
    AttemptStatus,
    Invitation,
    InvitationStatus,
    Response,
    Result,
)
from assessments.signals import result_created
from tenants.context import tenant_context
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

MINI = "big-five-mini-ipip-20"  # 20 Likert items: 4 pages
ICAR = "cognitive-reasoning-icar16"  # 8 ability items: 2 pages
TIMED = "icar16-timed-test"  # a test-only timed variant (60 s); shipped files are not altered


@pytest.fixture(autouse=True)
def _catalog(settings):
    settings.CANDIDATE_TOKEN_RATE_LIMIT = "10000/m"
    settings.CANDIDATE_ANSWER_RATE_LIMIT = "10000/m"
    catalog_test(MINI), catalog_test(ICAR)
    catalog_test(ICAR, slug=TIMED, name="Timed reasoning", time_limit_seconds=60)


@pytest.fixture
def client():
    # A fresh address per test keeps rate-limit windows (in Redis) apart.
    return Client(REMOTE_ADDR=_random_ip())


def _random_ip() -> str:
    return "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))


def _invite(org, tests=(MINI,), **kwargs):
    kwargs.setdefault("send_email", False)
    return svc.create_invitation(org, candidate={"email": "ada@example.com", "first_name": "Ada"},
                                 tests=list(tests), source="manual", **kwargs)


def _reload(invitation):
    with tenant_context(invitation.org_id):
        return Invitation.objects.get(pk=invitation.pk)


def _answers(org, invitation, position=1):
    with tenant_context(org):
        return dict(Response.objects.filter(
            attempt__invitation=invitation, attempt__invitation_test__position=position)
            .values_list("item_id", "value"))


def _items(slug):
    from assessments.models import CatalogTest

    return [item["id"] for item in CatalogTest.objects.get(slug=slug, is_current=True)
            .definition["items"]]


def _begin(client, raw, position=1):
    assert client.get(f"/a/{raw}").status_code == 302
    assert client.post("/a/consent", {"consent": "on"}).status_code == 302
    response = client.post(f"/a/t/{position}/")
    assert response.status_code == 302 and response.url == f"/a/t/{position}/items"


def _post_page(client, position, page, answers, **extra):
    return client.post(f"/a/t/{position}/items", {"page": page, **answers, **extra})


def _json(client, position, body, **headers):
    return client.post(f"/a/t/{position}/answer", json.dumps(body) if not isinstance(
        body, bytes | str) else body, content_type="application/json", **headers)


def _finish_test(client, slug, position, value):
    ids = _items(slug)
    pages = [ids[i:i + 5] for i in range(0, len(ids), 5)]
    response = None
    for number, page in enumerate(pages, start=1):
        response = _post_page(client, position, number, {i: value(i) for i in page})
        assert response.status_code == 302, response.content.decode()[:500]
    return response


class FormContract(HTMLParser):
    """Collects fieldsets with their legend and radios, and labels, from an item page."""

    def __init__(self):
        super().__init__()
        self.fieldsets, self.labels, self.current, self.in_legend = [], set(), None, False
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "fieldset":
            self.current = {"legend": "", "radios": []}
            self.fieldsets.append(self.current)
        elif tag == "legend":
            self.in_legend = True
        elif tag == "input" and attrs.get("type") == "radio" and self.current is not None:
            self.current["radios"].append(attrs)
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])

    def handle_endtag(self, tag):
        if tag == "legend":
            self.in_legend = False
        elif tag == "fieldset":
            self.current = None

    def handle_data(self, data):
        if self.in_legend and self.current is not None:
            self.current["legend"] += data


# Entry -------------------------------------------------------------------------------------------

def test_the_token_is_exchanged_for_a_session_and_a_token_free_url(client, org_a):
    invitation, raw = _invite(org_a)
    response = client.get(f"/a/{raw}")
    assert response.status_code == 302 and response.url == "/a/"
    assert raw not in response.url
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert _reload(invitation).status == InvitationStatus.OPENED
    page = client.get("/a/")
    assert page.status_code == 200 and raw not in page.content.decode()
    # Opening again keeps the status (opened once) and works from any device.
    other = Client(REMOTE_ADDR="10.8.0.1")
    assert other.get(f"/a/{raw}").status_code == 302
    assert _reload(invitation).opened_at == _reload(invitation).opened_at


@pytest.mark.parametrize("token", ["A" * 43, "short-but-valid-chars", "x" * 128])
def test_an_unknown_token_gets_a_friendly_404(client, org_a, token):
    response = client.get(f"/a/{token}")
    assert response.status_code == 404
    body = response.content.decode()
    assert "This link does not work" in body and response["Cache-Control"] == "no-store"


def test_an_expired_link_gets_410_with_the_org_contact_and_is_marked_expired(client, org_a):
    invitation, raw = _invite(org_a)
    with tenant_context(org_a):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"/a/{raw}")
    assert response.status_code == 410
    body = response.content.decode()
    assert "This link has expired" in body and "owner@alpha.test" in body
    assert _reload(invitation).status == InvitationStatus.EXPIRED


def test_a_cancelled_link_gets_410(client, org_a):
    invitation, raw = _invite(org_a)
    svc.cancel_invitation(invitation)
    response = client.get(f"/a/{raw}")
    assert response.status_code == 410 and "cancelled" in response.content.decode()


def test_a_resent_invitation_invalidates_the_old_link(client, org_a):
    invitation, raw = _invite(org_a)
    new_raw = svc.resend_invitation(invitation)
    assert client.get(f"/a/{raw}").status_code == 404
    assert client.get(f"/a/{new_raw}").status_code == 302


def test_without_a_session_pages_and_answers_are_refused(client, org_a):
    for url in ("/a/", "/a/t/1/", "/a/t/1/items", "/a/done"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Your session has ended" in response.content.decode()
    response = _json(client, 1, {"item": "MINI-01", "value": "3", "page": 1})
    assert response.status_code == 403 and response.json()["error"]["code"] == "no_session"


def test_a_tampered_session_is_refused_and_nothing_leaks(client, org_a, org_b):
    invitation, raw = _invite(org_a)
    client.get(f"/a/{raw}")
    session = client.session
    session["assay_candidate"] = {"org": org_b.pk, "inv": str(invitation.public_id)}
    session.save()
    assert client.get("/a/").status_code == 403  # another org's context finds nothing (RLS)
    session["assay_candidate"] = {"org": "x", "inv": None}
    session.save()
    assert client.get("/a/").status_code == 403
    client.cookies["sessionid"] = "forged-session-key"
    assert client.get("/a/t/1/items").status_code == 403


# Welcome and consent -----------------------------------------------------------------------------

def test_welcome_names_org_tests_time_privacy_and_asks_consent(client, org_a):
    org_a.retention_days = 120
    org_a.save(update_fields=["retention_days"])
    invitation, raw = _invite(org_a, tests=(MINI, ICAR))
    client.get(f"/a/{raw}")
    body = client.get("/a/").content.decode()
    for text in ("Alpha", "Hello Ada", "Big Five quick screen (Mini-IPIP, 20 items)",
                 "General reasoning (ICAR text items, 8 items)", "about <strong>10 minutes",
                 "Privacy notice", "Who is responsible for your data", "120 days",
                 "owner@alpha.test", 'type="checkbox" name="consent"'):
        assert text in body, text
    assert '<html lang="en">' in body


def test_consent_is_required_before_anything_is_stored(client, org_a):
    invitation, raw = _invite(org_a)
    client.get(f"/a/{raw}")
    response = client.post("/a/consent", {})
    assert response.status_code == 400
    assert "Please tick the box" in response.content.decode()
    assert client.get("/a/t/1/").status_code == 302  # back to the welcome page
    assert client.post("/a/t/1/").status_code == 302
    response = _json(client, 1, {"item": "MINI-01", "value": "3", "page": 1})
    assert response.status_code == 403 and response.json()["error"]["code"] == "no_consent"
    assert _post_page(client, 1, 1, {"MINI-01": "3"}).status_code == 302
    assert _answers(org_a, invitation) == {}
    assert _reload(invitation).consented_at is None
    client.post("/a/consent", {"consent": "on"})
    assert _reload(invitation).consented_at is not None


# Taking the tests --------------------------------------------------------------------------------

def test_intro_shows_instructions_and_a_practice_item_then_start(client, org_a):
    invitation, raw = _invite(org_a, tests=(ICAR,))
    client.get(f"/a/{raw}")
    response = client.post("/a/consent", {"consent": "on"})
    assert response.url == "/a/t/1/"
    body = client.get("/a/t/1/").content.decode()
    assert "Instructions" in body and "Each question has exactly one correct answer" in body
    assert "Practice question" in body and "what letter comes next" in body
    assert "The correct answer is B: I" in body
    assert "timed" not in body.lower().split("<main")[1].split("instructions")[0]
    client.post("/a/t/1/")
    with tenant_context(org_a):
        attempt = Attempt.objects.get(invitation=invitation)
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.deadline_at is None
    assert _reload(invitation).status == InvitationStatus.STARTED


def test_item_pages_follow_the_form_contract(client, org_a):
    invitation, raw = _invite(org_a, tests=(MINI, ICAR))
    _begin(client, raw)
    body = client.get("/a/t/1/items").content.decode()
    parser = FormContract()
    parser.feed(body)
    assert parser.lang == "en"
    assert [f["legend"].split(".", 1)[0].strip() for f in parser.fieldsets] == [
        "1", "2", "3", "4", "5"]
    for fieldset, item_id in zip(parser.fieldsets, _items(MINI)[:5], strict=True):
        assert "Am the life of the party" in parser.fieldsets[0]["legend"]
        assert [r["name"] for r in fieldset["radios"]] == [item_id] * 5
        assert [r["value"] for r in fieldset["radios"]] == ["1", "2", "3", "4", "5"]
        assert all(r["id"] in parser.labels for r in fieldset["radios"])
    assert re.search(r'<progress id="progress-test" max="20" value="0">', body)
    assert re.search(r'<progress id="progress-all" max="28" value="0">', body)
    assert "Questions 1–5 of 20" in body
    assert 'All tests: <span id="progress-all-text">0 of 28</span> answered' in body


def test_a_full_completion_without_javascript_scores_every_test(client, org_a):
    invitation, raw = _invite(org_a, tests=(MINI, ICAR), redirect_url="https://jobs.example/ok")
    created = []

    def receiver(sender, result, **kwargs):
        created.append(result.pk)

    result_created.connect(receiver)
    try:
        _begin(client, raw)
        last = _finish_test(client, MINI, 1, lambda i: "4")
        assert last.url == "/a/t/2/"  # on to the next test's introduction
        assert client.post("/a/t/2/").url == "/a/t/2/items"
        body = client.get("/a/t/2/items").content.decode()
        assert "20 of 28</span> answered" in body
        assert 'name="VR.04" id="VR.04-D" value="D"' in body
        last = _finish_test(client, ICAR, 2, lambda i: "A")
    finally:
        result_created.disconnect(receiver)
    assert last.url == "/a/done"
    done = client.get("/a/done")
    assert done.status_code == 200
    assert "Thank you, Ada" in done.content.decode()
    assert 'href="https://jobs.example/ok"' in done.content.decode()
    invitation = _reload(invitation)
    assert invitation.status == InvitationStatus.COMPLETED and invitation.completed_at
    with tenant_context(org_a):
        results = list(Result.objects.filter(invitation=invitation).order_by("pk"))
        assert sorted(created) == [r.pk for r in results]
        assert [r.catalog_test.slug for r in results] == [MINI, ICAR]
        assert set(Attempt.objects.filter(invitation=invitation)
                   .values_list("status", flat=True)) == {"completed"}
    for result in results:
        validate_envelope(result.envelope)
        assert result.envelope["invitation_id"] == str(invitation.public_id)
        assert result.envelope["candidate"]["source"] == "manual"
    assert results[0].envelope["quality"]["completion_ratio"] == 1.0
    from assessments.models import CatalogTest

    keyed_a = sum(item["answer"] == "A" for item in CatalogTest.objects.get(
        slug=ICAR, is_current=True).definition["items"])
    assert results[1].envelope["dimensions"][0]["raw"] == keyed_a


def test_resume_on_another_device_at_the_first_unanswered_item(client, org_a):
    invitation, raw = _invite(org_a)
    _begin(client, raw)
    ids = _items(MINI)
    assert _post_page(client, 1, 1, {i: "2" for i in ids[:5]}).status_code == 302
    for item in ids[5:7]:
        assert _json(client, 1, {"item": item, "value": "5", "page": 2,
                                 "seconds": 3.5}).status_code == 200
    phone = Client(REMOTE_ADDR="10.7.0.1")
    assert phone.get(f"/a/{raw}").url == "/a/"
    assert phone.get("/a/").url == "/a/t/1/items"
    body = phone.get("/a/t/1/items").content.decode()
    assert "Questions 6–10 of 20" in body
    assert f'name="{ids[5]}" id="{ids[5]}-5" value="5" checked' in body
    assert f'name="{ids[7]}" id="{ids[7]}-5" value="5">' in body  # not answered yet
    # Earlier pages stay reachable; later ones are not.
    assert "Questions 1–5" in phone.get("/a/t/1/items?page=1").content.decode()
    assert "Questions 6–10" in phone.get("/a/t/1/items?page=4").content.decode()
    with tenant_context(org_a):
        seconds = dict(Response.objects.values_list("item_id", "seconds"))
    assert seconds[ids[5]] == 3.5 and all(s >= 0 for s in seconds.values())


def test_an_incomplete_page_keeps_its_answers_and_asks_for_the_rest(client, org_a):
    invitation, raw = _invite(org_a)
    _begin(client, raw)
    ids = _items(MINI)
    response = _post_page(client, 1, 1, {ids[0]: "1", ids[1]: "2"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please answer the highlighted questions" in body and "Please answer</span>" in body
    assert _answers(org_a, invitation) == {ids[0]: "1", ids[1]: "2"}
    assert f'id="{ids[0]}-1" value="1" checked' in body


def test_changing_an_answer_updates_it(client, org_a):
    invitation, raw = _invite(org_a)
    _begin(client, raw)
    _json(client, 1, {"item": "MINI-01", "value": "1", "page": 1})
    response = _json(client, 1, {"item": "MINI-01", "value": 4, "page": 1})
    assert response.status_code == 200 and response.json()["answered"] == 1
    assert _answers(org_a, invitation) == {"MINI-01": "4"}


# Bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "status", "code"), [
    ({"item": "MINI-07", "value": "3", "page": 1}, 400, "item_not_on_page"),
    ({"item": "NOPE-1", "value": "3", "page": 1}, 400, "unknown_item"),
    ({"item": "MINI-01", "value": "6", "page": 1}, 400, "invalid_value"),
    ({"item": "MINI-01", "value": "0", "page": 1}, 400, "invalid_value"),
    ({"item": "MINI-01", "value": True, "page": 1}, 400, "invalid_value"),
    ({"item": "MINI-01", "value": "A", "page": 1}, 400, "invalid_value"),
    ({"item": "MINI-06", "value": "3", "page": 2}, 400, "page_ahead"),
    ({"item": "MINI-01", "value": "3", "page": 9}, 400, "bad_page"),
    ({"item": "MINI-01", "value": "3", "page": "1"}, 400, "bad_page"),
    ({"item": "MINI-01", "value": "3"}, 400, "malformed"),
    ("{not json", 400, "malformed"),
    ("[]", 400, "malformed"),
])
def test_bad_answers_get_a_clear_4xx_and_lose_nothing(client, org_a, body, status, code):
    invitation, raw = _invite(org_a)
    _begin(client, raw)
    assert _json(client, 1, {"item": "MINI-02", "value": "2", "page": 1}).status_code == 200
    response = _json(client, 1, body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert _answers(org_a, invitation) == {"MINI-02": "2"}


def test_oversize_and_non_json_answer_bodies_are_refused(client, org_a):
    invitation, raw = _invite(org_a)
    _begin(client, raw)
    big = json.dumps({"item": "MINI-01", "value": "3", "page": 1, "pad": "x" * 5000})
    assert _json(client, 1, big).status_code == 413
    response = client.post("/a/t/1/answer", {"item": "MINI-01", "value": "3"})
    assert response.status_code == 415
    assert client.get("/a/t/1/answer").status_code == 405


def test_a_form_post_with_stray_or_bad_fields_is_refused_and_keeps_answers(client, org_a):
    invitation, raw = _invite(org_a)
    _begin(client, raw)
    ids = _items(MINI)
    _post_page(client, 1, 1, {ids[0]: "3"})
    for answers in ({ids[6]: "3"}, {"hack": "1"}, {ids[1]: "9"}):
        response = _post_page(client, 1, 1, answers)
        assert response.status_code == 400
        assert 'class="error"' in response.content.decode()
    response = _post_page(client, 1, "x", {ids[1]: "3"})
    assert response.status_code == 400
    assert _answers(org_a, invitation) == {ids[0]: "3"}


def test_answers_to_a_test_that_is_not_current_are_refused(client, org_a):
    invitation, raw = _invite(org_a, tests=(MINI, ICAR))
    _begin(client, raw)
    response = _json(client, 2, {"item": "VR.04", "value": "D", "page": 1})
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_current"
    assert client.get("/a/t/2/items").url == "/a/t/1/items"
    assert client.get("/a/t/7/").status_code == 302


def test_after_completion_answers_are_refused_and_the_token_cannot_be_replayed(client, org_a):
    invitation, raw = _invite(org_a, tests=(ICAR,))
    _begin(client, raw)
    _finish_test(client, ICAR, 1, lambda i: "B")
    before = _answers(org_a, invitation)
    response = _json(client, 1, {"item": "VR.04", "value": "D", "page": 1})
    assert response.status_code == 409 and response.json()["error"]["code"] == "completed"
    response = _post_page(client, 1, 1, {"VR.04": "D"})
    assert response.status_code == 409
    assert "already completed" in response.content.decode()
    assert client.get("/a/t/1/items").url == "/a/done"
    assert _answers(org_a, invitation) == before
    replay = Client(REMOTE_ADDR="10.6.0.1").get(f"/a/{raw}")
    assert replay.status_code == 410
    assert "already completed" in replay.content.decode()


# Timed tests -------------------------------------------------------------------------------------

def test_a_timed_test_has_a_server_deadline_with_extra_time_that_survives_reload(client, org_a):
    invitation, raw = _invite(org_a, tests=(TIMED,), extra_time_percent=50)
    client.get(f"/a/{raw}")
    client.post("/a/consent", {"consent": "on"})
    intro = client.get("/a/t/1/").content.decode()
    assert "This test is timed" in intro and "1.5 minutes" in intro and "50 % extra" in intro
    client.post("/a/t/1/")
    with tenant_context(org_a):
        attempt = Attempt.objects.get(invitation=invitation)
    assert (attempt.deadline_at - attempt.started_at).total_seconds() == 90
    with tenant_context(org_a):
        Attempt.objects.filter(pk=attempt.pk).update(
            started_at=attempt.started_at - timedelta(seconds=30),
            deadline_at=attempt.deadline_at - timedelta(seconds=30))
    body = client.get("/a/t/1/items").content.decode()
    remaining = int(re.search(r'data-remaining="(\d+)"', body).group(1))
    assert 55 <= remaining <= 60
    assert "Time left: <strong id=\"timer-value\">0:5" in body or "1:00" in body


def test_answers_after_the_deadline_are_refused_and_the_attempt_is_scored(client, org_a):
    invitation, raw = _invite(org_a, tests=(TIMED, MINI))
    _begin(client, raw)
    assert _json(client, 1, {"item": "VR.04", "value": "D", "page": 1}).status_code == 200
    with tenant_context(org_a):
        Attempt.objects.filter(invitation=invitation, invitation_test__position=1).update(
            started_at=timezone.now() - timedelta(seconds=70),
            deadline_at=timezone.now() - timedelta(seconds=10))
    response = _json(client, 1, {"item": "VR.16", "value": "A", "page": 1})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "deadline_passed" and "Time is up" in error["message"]
    assert error["redirect"] == "/a/t/2/"
    assert _answers(org_a, invitation) == {"VR.04": "D"}
    with tenant_context(org_a):
        attempt = Attempt.objects.get(invitation=invitation, invitation_test__position=1)
        result = Result.objects.get(attempt=attempt)
    assert attempt.status == AttemptStatus.TIMED_OUT
    assert attempt.completed_at == attempt.deadline_at
    validate_envelope(result.envelope)
    assert result.envelope["dimensions"][0]["raw"] == 1.0  # one right, the rest wrong
    assert result.envelope["dimensions"][0]["items_answered"] == 1
    # The next test goes on as usual; the invitation is still in progress.
    assert client.get("/a/").url == "/a/t/2/"
    assert _reload(invitation).status == InvitationStatus.STARTED


def test_a_page_post_after_the_deadline_is_refused_with_a_friendly_page(client, org_a):
    invitation, raw = _invite(org_a, tests=(TIMED,))
    _begin(client, raw)
    with tenant_context(org_a):
        Attempt.objects.filter(invitation=invitation).update(
            deadline_at=timezone.now() - timedelta(seconds=10))
    response = _post_page(client, 1, 1, {"VR.04": "D"})
    assert response.status_code == 409
    assert "Time is up" in response.content.decode()
    assert _answers(org_a, invitation) == {}
    assert _reload(invitation).status == InvitationStatus.COMPLETED


def test_opening_an_overdue_timed_test_closes_it(client, org_a):
    invitation, raw = _invite(org_a, tests=(TIMED,))
    _begin(client, raw)
    with tenant_context(org_a):
        Attempt.objects.filter(invitation=invitation).update(
            deadline_at=timezone.now() - timedelta(seconds=10))
    response = client.get("/a/t/1/items")
    assert response.status_code == 200 and "Time is up" in response.content.decode()
    assert 'href="/a/done"' in response.content.decode()
    assert _reload(invitation).status == InvitationStatus.COMPLETED


def test_the_sweeper_closes_abandoned_timed_attempts(client, org_a):
    from assessments.attempts import close_overdue_attempts

    invitation, raw = _invite(org_a, tests=(TIMED,))
    _begin(client, raw)
    _json(client, 1, {"item": "VR.04", "value": "D", "page": 1})
    assert close_overdue_attempts(org_a) == 0
    with tenant_context(org_a):
        Attempt.objects.filter(invitation=invitation).update(
            deadline_at=timezone.now() - timedelta(minutes=5))
    assert close_overdue_attempts(org_a) == 1
    with tenant_context(org_a):
        assert Result.objects.filter(invitation=invitation).count() == 1
    assert _reload(invitation).status == InvitationStatus.COMPLETED


def test_a_timeout_post_from_the_countdown_closes_the_attempt(client, org_a):
    invitation, raw = _invite(org_a, tests=(TIMED,))
    _begin(client, raw)
    with tenant_context(org_a):
        Attempt.objects.filter(invitation=invitation).update(deadline_at=timezone.now())
    response = _post_page(client, 1, 1, {"VR.04": "D"}, action="timeout")
    assert response.status_code == 200 and "Time is up" in response.content.decode()
    assert _answers(org_a, invitation) == {"VR.04": "D"}  # within the grace period
    assert _reload(invitation).status == InvitationStatus.COMPLETED


def test_an_invitation_expiring_mid_test_stops_the_pages(client, org_a):
    invitation, raw = _invite(org_a)
    _begin(client, raw)
    with tenant_context(org_a):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/a/t/1/items").status_code == 410
    response = _json(client, 1, {"item": "MINI-01", "value": "3", "page": 1})
    assert response.status_code == 410 and response.json()["error"]["code"] == "expired"


# Headers and limits ------------------------------------------------------------------------------

def test_every_candidate_page_sends_the_security_headers(client, org_a):
    invitation, raw = _invite(org_a)
    entry = client.get(f"/a/{raw}")
    assert entry["Referrer-Policy"] == "no-referrer"  # the one URL with the token
    assert Client().get("/a/" + "Z" * 43)["Referrer-Policy"] == "no-referrer"
    responses = [entry, client.get("/a/"),
                 client.post("/a/consent", {"consent": "on"}), client.get("/a/t/1/"),
                 client.post("/a/t/1/"), client.get("/a/t/1/items"),
                 _json(client, 1, {"item": "MINI-01", "value": "3", "page": 1}),
                 client.get("/a/done"), Client().get("/a/"), Client().get("/a/" + "Z" * 43)]
    for response in responses:
        assert response["Cache-Control"] == "no-store"
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert response["Referrer-Policy"] in ("no-referrer", "same-origin")
        assert response["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style_and_no_third_party_urls(client, org_a):
    invitation, raw = _invite(org_a, tests=(TIMED,))
    _begin(client, raw)
    for url in ("/a/t/1/items",):
        body = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", body)
        assert " style=" not in body and "<style" not in body
        assert not re.search(r"(src|href)=\"https?://", body)


def test_csrf_is_enforced_on_candidate_posts(org_a):
    invitation, raw = _invite(org_a)
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.5.0.1")
    strict.get(f"/a/{raw}")
    assert strict.post("/a/consent", {"consent": "on"}).status_code == 403
    response = strict.post("/a/t/1/answer", "{}", content_type="application/json")
    assert response.status_code == 403
    assert _reload(invitation).consented_at is None


def test_token_exchange_is_rate_limited_per_ip_with_retry_after(org_a, settings):
    # Hour windows and a random address: the test cannot straddle a window or meet old counts.
    settings.CANDIDATE_TOKEN_RATE_LIMIT = "3/h"
    invitation, raw = _invite(org_a)
    ip = Client(REMOTE_ADDR=_random_ip())
    codes = [ip.get(f"/a/{'Q' * 43}").status_code for _ in range(3)]
    assert codes == [404, 404, 404]
    blocked = ip.get(f"/a/{raw}")
    assert blocked.status_code == 429 and 1 <= int(blocked["Retry-After"]) <= 3600
    assert blocked["Cache-Control"] == "no-store"
    assert Client(REMOTE_ADDR=_random_ip()).get(f"/a/{raw}").status_code == 302  # per IP


def test_answer_posts_are_rate_limited_per_ip(org_a, settings):
    invitation, raw = _invite(org_a)
    ip = Client(REMOTE_ADDR=_random_ip())
    _begin(ip, raw)
    settings.CANDIDATE_ANSWER_RATE_LIMIT = "2/h"
    ok = [_json(ip, 1, {"item": "MINI-01", "value": v, "page": 1}).status_code
          for v in ("1", "2")]
    blocked = _json(ip, 1, {"item": "MINI-01", "value": "3", "page": 1})
    assert ok == [200, 200] and blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited" and blocked["Retry-After"]
    assert _answers(org_a, invitation) == {"MINI-01": "2"}
