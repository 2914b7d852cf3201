"""Invitation services: creation from any source, tokens, the status machine, cancel, resend,
expiry, and the status signal sent inside the transaction."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assessments import invitations as svc
from assessments.models import (
    Attempt,
    AttemptStatus,
    Candidate,
    Invitation,
    InvitationStatus,
    Source,
)
from assessments.signals import invitation_status_changed
from tenants.context import tenant_context
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

MINI = "big-five-mini-ipip-20"
ICAR = "cognitive-reasoning-icar16"


@pytest.fixture
def tests_loaded(db):
    return [catalog_test(MINI), catalog_test(ICAR)]


def _create(org, **kwargs):
    kwargs.setdefault("candidate", {"email": "Ada@Example.com", "first_name": "Ada",
                                    "last_name": "Lovelace"})
    kwargs.setdefault("tests", [MINI, ICAR])
    kwargs.setdefault("source", Source.MANUAL)
    kwargs.setdefault("send_email", False)
    return svc.create_invitation(org, **kwargs)


def test_create_makes_candidate_ordered_tests_and_pending_attempts(org_a, tests_loaded):
    invitation, raw = _create(org_a, external_id="ext-1", source_ref={"opportunity": "o-1"},
                              extra_time_percent=25)
    with tenant_context(org_a):
        invitation = Invitation.objects.get(pk=invitation.pk)
        assert invitation.status == InvitationStatus.CREATED
        assert invitation.candidate.email == "ada@example.com"
        assert [t.catalog_test.slug for t in invitation.tests.all()] == [MINI, ICAR]
        assert [t.position for t in invitation.tests.all()] == [1, 2]
        assert set(Attempt.objects.filter(invitation=invitation)
                   .values_list("status", flat=True)) == {AttemptStatus.PENDING}
        assert invitation.source_ref == {"opportunity": "o-1"}
        assert invitation.extra_time_percent == 25
    delta = invitation.expires_at - invitation.created_at
    assert delta == timedelta(days=14)


def test_the_raw_token_is_never_stored_only_its_sha256(org_a, tests_loaded):
    invitation, raw = _create(org_a)
    assert len(raw) >= 43  # 32 random bytes, URL-safe base64
    assert invitation.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert svc.candidate_url(raw).endswith(f"/a/{raw}")
    with connection.cursor() as cursor, tenant_context(org_a):
        cursor.execute("SELECT row_to_json(i)::text FROM assessments_invitation i")
        rows = " ".join(r[0] for r in cursor.fetchall())
    assert raw not in rows and invitation.token_hash in rows


def test_tokens_are_unique_per_invitation(org_a, tests_loaded):
    tokens = {_create(org_a, candidate={"email": f"c{i}@x.test"})[1] for i in range(5)}
    assert len(tokens) == 5


def test_same_email_in_one_org_is_one_candidate_but_not_across_orgs(org_a, org_b, tests_loaded):
    _create(org_a)
    _create(org_a, candidate={"email": "ada@example.com", "external_id": "c-9"})
    _create(org_b)
    with tenant_context(org_a):
        assert Candidate.objects.count() == 1
        assert Candidate.objects.get().external_id == "c-9"
    with tenant_context(org_b):
        assert Candidate.objects.count() == 1


def test_unknown_slugs_are_named_and_nothing_is_written(org_a, tests_loaded):
    with pytest.raises(svc.UnknownTests) as err:
        _create(org_a, tests=[MINI, "no-such-test", "nor-this"])
    assert err.value.slugs == ["no-such-test", "nor-this"]
    assert "no-such-test, nor-this" in str(err.value)
    with tenant_context(org_a):
        assert not Invitation.objects.exists() and not Candidate.objects.exists()


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"candidate": {"email": "not-an-email"}}, "invalid_candidate"),
    ({"candidate": "ada@example.com"}, "invalid_candidate"),
    ({"tests": []}, "invalid_tests"),
    ({"tests": [MINI, MINI]}, "invalid_tests"),
    ({"tests": "big-five"}, "invalid_tests"),
    ({"source": "bamboohr"}, "invalid_source"),
    ({"expires_in_days": 0}, "invalid_expiry"),
    ({"expires_in_days": 91}, "invalid_expiry"),
    ({"expires_in_days": "3"}, "invalid_expiry"),
    ({"extra_time_percent": 30}, "invalid_extra_time"),
    ({"redirect_url": "javascript:alert(1)"}, "invalid_redirect_url"),
    ({"source_ref": ["x"]}, "invalid_source_ref"),
    ({"locale": "english please"}, "invalid_locale"),
    ({"external_id": "x" * 201}, "invalid_external_id"),
    ({"candidate": {"email": "a@b.co", "first_name": "x" * 151}}, "invalid_candidate"),
])
def test_bad_requests_are_refused_with_a_code(org_a, tests_loaded, kwargs, code):
    with pytest.raises(svc.InvitationError) as err:
        _create(org_a, **kwargs)
    assert err.value.code == code and err.value.message


def test_every_source_is_accepted_and_kept(org_a, tests_loaded):
    for source in Source.values:
        invitation, _ = _create(org_a, source=source, candidate={"email": f"{source}@x.test"})
        assert invitation.source == source


def test_email_is_queued_only_after_commit(org_a, tests_loaded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        _create(org_a, send_email=True)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        _create(org_a, send_email=False, candidate={"email": "b@x.test"})
    assert callbacks == []


def test_status_signal_is_sent_for_creation_and_each_change(org_a, tests_loaded):
    seen = []

    def receiver(sender, invitation, old_status, new_status, **kwargs):
        seen.append((old_status, new_status, connection.in_atomic_block))

    invitation_status_changed.connect(receiver)
    try:
        invitation, _ = _create(org_a)
        with tenant_context(org_a):
            svc.set_status(invitation, InvitationStatus.SENT)
            svc.set_status(invitation, InvitationStatus.OPENED)
            svc.cancel_invitation(invitation)
    finally:
        invitation_status_changed.disconnect(receiver)
    assert [(o, n) for o, n, _ in seen] == [
        (None, "created"), ("created", "sent"), ("sent", "opened"), ("opened", "cancelled")]
    assert all(in_tx for *_, in_tx in seen)
    with tenant_context(org_a):
        invitation.refresh_from_db()
    assert invitation.sent_at and invitation.opened_at and invitation.cancelled_at


def test_invalid_transitions_are_refused(org_a, tests_loaded):
    invitation, _ = _create(org_a)
    with tenant_context(org_a):
        with pytest.raises(svc.InvitationError):
            svc.set_status(invitation, InvitationStatus.COMPLETED)
        svc.cancel_invitation(invitation)
        assert svc.cancel_invitation(invitation) is False  # idempotent
        invitation.refresh_from_db()
        with pytest.raises(svc.InvitationError):
            svc.set_status(invitation, InvitationStatus.OPENED)


def test_resend_issues_a_new_token_and_queues_an_email(org_a, tests_loaded,
                                                       django_capture_on_commit_callbacks):
    invitation, raw = _create(org_a)
    with django_capture_on_commit_callbacks() as callbacks:
        new_raw = svc.resend_invitation(invitation, extend_days=5)
    assert len(callbacks) == 1 and new_raw != raw
    with tenant_context(org_a):
        invitation.refresh_from_db()
    assert invitation.token_hash == svc.hash_token(new_raw)
    assert invitation.expires_at > timezone.now() + timedelta(days=4)


def test_resend_and_cancel_refuse_finished_invitations(org_a, tests_loaded):
    invitation, _ = _create(org_a)
    with tenant_context(org_a):
        svc.cancel_invitation(invitation)
    with pytest.raises(svc.InvitationError, match="cancelled"):
        svc.resend_invitation(invitation)
    done, _ = _create(org_a, candidate={"email": "done@x.test"})
    with tenant_context(org_a):
        Invitation.objects.filter(pk=done.pk).update(status=InvitationStatus.COMPLETED)
    with pytest.raises(svc.InvitationError, match="completed"):
        svc.cancel_invitation(done)


def test_expire_due_invitations_expires_only_open_ones_past_expiry(org_a, org_b, tests_loaded):
    past = timezone.now() - timedelta(minutes=1)
    due, _ = _create(org_a, candidate={"email": "due@x.test"})
    fresh, _ = _create(org_a, candidate={"email": "fresh@x.test"})
    done, _ = _create(org_a, candidate={"email": "done@x.test"})
    other, _ = _create(org_b, candidate={"email": "other@x.test"})
    with tenant_context(org_a):
        Invitation.objects.filter(pk__in=[due.pk, done.pk]).update(expires_at=past)
        Invitation.objects.filter(pk=done.pk).update(status=InvitationStatus.COMPLETED)
    with tenant_context(org_b):
        Invitation.objects.filter(pk=other.pk).update(expires_at=past)
    assert svc.expire_due_invitations(org_a) == 1
    assert svc.expire_due_invitations(org_a) == 0
    with tenant_context(org_a):
        statuses = dict(Invitation.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "expired", fresh.pk: "created", done.pk: "completed"}
    with tenant_context(org_b):
        assert Invitation.objects.get(pk=other.pk).status == "created"
