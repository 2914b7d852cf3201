"""The console: manual invitations, resend and cancel actions, results as a table."""

from __future__ import annotations

import pytest
from django.core import mail

from assessments import attempts
from assessments.invitations import create_invitation, hash_token
from assessments.models import Invitation, InvitationStatus, Result
from tenants.context import platform_context, tenant_context
from tenants.models import Membership, User
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

MINI = "big-five-mini-ipip-20"
ICAR = "cognitive-reasoning-icar16"


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    catalog_test(MINI), catalog_test(ICAR)


def _user(org, role):
    with platform_context("test"):
        if role == "owner":
            return Membership.objects.get(org=org, role="owner").user
        user = User.objects.create_user(f"{role}@{org.slug}.test", "pw-123456!", is_staff=True)
        Membership.objects.create(org=org, user=user, role=role)
        return user


def _invite(org, email="ada@example.com", **kwargs):
    kwargs.setdefault("send_email", False)
    return create_invitation(org, candidate={"email": email}, tests=[MINI], source="manual",
                             **kwargs)


def test_a_recruiter_creates_a_manual_invitation_and_sees_the_link_once(
        client, org_a, django_capture_on_commit_callbacks):
    client.force_login(_user(org_a, "recruiter"))
    page = client.get("/admin/assessments/invitation/add/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="big-five-mini-ipip-20"' in body and "New manual invitation" in body
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/admin/assessments/invitation/add/", {
            "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper",
            "tests": [ICAR, MINI], "expires_in_days": 7, "extra_time_percent": 50,
            "send_email": "on"}, follow=True)
    assert response.status_code == 200
    assert len(callbacks) == 1  # the email is queued on commit
    page = response.content.decode()
    assert "Candidate link (shown once)" in page
    with tenant_context(org_a):
        invitation = Invitation.objects.get(candidate__email="grace@example.com")
        assert invitation.source == "manual" and invitation.extra_time_percent == 50
        assert invitation.created_by.email == "recruiter@alpha.test"
        assert [t.catalog_test.slug for t in invitation.tests.all()] == [MINI, ICAR] or [
            t.catalog_test.slug for t in invitation.tests.all()] == [ICAR, MINI]
    token = page.split("/a/")[1][:43]
    assert hash_token(token) == invitation.token_hash


def test_the_form_refuses_bad_input_with_400(client, org_a):
    client.force_login(_user(org_a, "owner"))
    response = client.post("/admin/assessments/invitation/add/", {
        "email": "not-an-email", "tests": ["no-such-test"], "expires_in_days": 0,
        "extra_time_percent": 0})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid email address" in body and "no-such-test" in body
    with tenant_context(org_a):
        assert not Invitation.objects.exists()


def test_a_viewer_cannot_create_or_act(client, org_a):
    invitation, _ = _invite(org_a)
    client.force_login(_user(org_a, "viewer"))
    assert client.get("/admin/assessments/invitation/add/").status_code == 403
    client.post("/admin/assessments/invitation/", {
        "action": "cancel", "_selected_action": [invitation.pk]})
    with tenant_context(org_a):
        assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.CREATED


def test_list_shows_only_own_org_with_status_tests_and_filters(client, org_a, org_b):
    _invite(org_a, "mine@example.com")
    _invite(org_b, "theirs@example.com")
    client.force_login(_user(org_a, "owner"))
    body = client.get("/admin/assessments/invitation/?status__exact=created").content.decode()
    assert "mine@example.com" in body and "theirs@example.com" not in body
    assert "Big Five quick screen" in body and "Created" in body


def test_resend_and_cancel_actions(client, org_a):
    invitation, raw = _invite(org_a)
    client.force_login(_user(org_a, "owner"))
    response = client.post("/admin/assessments/invitation/", {
        "action": "resend", "_selected_action": [invitation.pk]}, follow=True)
    assert "Resent 1 invitation" in response.content.decode()
    with tenant_context(org_a):
        invitation.refresh_from_db()
    assert invitation.token_hash != hash_token(raw)
    response = client.post("/admin/assessments/invitation/", {
        "action": "cancel", "_selected_action": [invitation.pk]}, follow=True)
    assert "Cancelled 1 invitation" in response.content.decode()
    response = client.post("/admin/assessments/invitation/", {
        "action": "resend", "_selected_action": [invitation.pk]}, follow=True)
    assert "cannot be resent" in response.content.decode()
    with tenant_context(org_a):
        assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.CANCELLED


def test_the_invitation_page_shows_delivery_errors_and_attempts(client, org_a):
    invitation, _ = _invite(org_a)
    with tenant_context(org_a):
        Invitation.objects.filter(pk=invitation.pk).update(
            status=InvitationStatus.DELIVERY_FAILED,
            last_email_error="SMTPRecipientsRefused: 550 no such mailbox")
    client.force_login(_user(org_a, "owner"))
    body = client.get(f"/admin/assessments/invitation/{invitation.pk}/change/").content.decode()
    assert "550 no such mailbox" in body and "Delivery failed" in body
    assert "Big Five quick screen" in body and "Pending" in body
    assert mail.outbox == []


def test_results_show_the_envelope_as_a_table_of_dimensions(client, org_a):
    invitation, _ = _invite(org_a)
    with tenant_context(org_a):
        Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.OPENED)
        attempt = invitation.attempts.select_related(
            "invitation__candidate", "invitation_test__catalog_test").get()
        layout = attempts.layout_for(attempt.invitation_test.catalog_test)
        attempts.start(attempt, layout)
        for number, page in enumerate(layout.pages, start=1):
            attempts.save_answers(attempt, layout, {i.id: "5" for i in page}, page=number)
        result = attempts.close(attempt)
    client.force_login(_user(org_a, "viewer"))
    listing = client.get("/admin/assessments/result/").content.decode()
    assert "ada@example.com" in listing and "Big Five quick screen" in listing
    body = client.get(f"/admin/assessments/result/{result.pk}/change/").content.decode()
    for name in ("Extraversion", "Agreeableness", "Conscientiousness", "Percentile", "Sten"):
        assert name in body
    dims = Result.objects.none()  # readable only; nothing to save
    assert not dims.exists()
    assert client.get(f"/admin/assessments/result/{result.pk}/delete/").status_code == 403
    assert f'href="/r/{result.public_id}"' in body
