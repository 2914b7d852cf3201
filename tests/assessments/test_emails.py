"""Candidate emails: content, sending through the task (in-process and by a real worker over
real SMTP), retries, permanent failures and reminders."""

from __future__ import annotations

import email
import re
import socket
import time
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone

from assessments import invitations as svc
from assessments.emails import build_message
from assessments.models import Invitation, InvitationStatus, Source
from assessments.tasks import send_invitation_email, send_reminder_email, send_reminders
from config.celery import app
from tenants.context import tenant_context
from tests.rls_rows import catalog_test

MINI = "big-five-mini-ipip-20"
ICAR = "cognitive-reasoning-icar16"
LINK = re.compile(r"https?://\S+/a/([A-Za-z0-9_-]{43})")


class Capture:
    """A real SMTP server (aiosmtpd) that keeps what it receives; refuses `refuse@` addresses."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    capture = Capture()
    controller = Controller(capture, hostname="127.0.0.1", port=_free_port())
    controller.start()
    capture.port = controller.port
    yield capture
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return smtp


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def eager():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _invite(org, email_address="ada@example.com", **kwargs):
    catalog_test(MINI), catalog_test(ICAR)
    kwargs.setdefault("send_email", False)
    return svc.create_invitation(
        org, candidate={"email": email_address, "first_name": "Ada"}, tests=[MINI, ICAR],
        source=Source.MANUAL, **kwargs)


def _run(task, **kwargs):
    return task.apply(kwargs=kwargs).get()


def _reload(invitation):
    with tenant_context(invitation.org_id):
        return Invitation.objects.get(pk=invitation.pk)


@pytest.mark.django_db
def test_the_message_has_text_and_html_with_org_tests_minutes_expiry_and_link(org_a):
    invitation, raw = _invite(org_a)
    with tenant_context(org_a):
        message = build_message(invitation, raw)
    assert message.to == ["ada@example.com"]
    assert message.subject == "Alpha invites you to complete an assessment"
    assert message.reply_to == ["owner@alpha.test"]
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    for body in (message.body, html):
        assert "Alpha" in body and "Hello Ada" in body
        assert "Big Five quick screen (Mini-IPIP, 20 items)" in body
        assert "about 4 min" in body and "about 6 min" in body and "about 10 minutes" in body
        assert svc.candidate_url(raw) in body
        assert invitation.expires_at.strftime("%B %Y") in body
    assert "<a href=\"" + svc.candidate_url(raw) in html


@pytest.mark.django_db
def test_the_task_sends_and_marks_the_invitation_sent(org_a, locmem):
    invitation, raw = _invite(org_a)
    assert _run(send_invitation_email, org_id=org_a.pk, invitation_id=invitation.pk,
                token=raw) == "sent"
    assert len(locmem) == 1 and svc.candidate_url(raw) in locmem[0].body
    invitation = _reload(invitation)
    assert invitation.status == InvitationStatus.SENT and invitation.sent_at


@pytest.mark.django_db
def test_a_stale_token_or_cancelled_invitation_sends_nothing(org_a, locmem):
    invitation, raw = _invite(org_a)
    svc.resend_invitation(invitation)
    assert _run(send_invitation_email, org_id=org_a.pk, invitation_id=invitation.pk,
                token=raw) == "stale"
    svc.cancel_invitation(invitation)
    fresh = _reload(invitation)
    assert _run(send_invitation_email, org_id=org_a.pk, invitation_id=fresh.pk,
                token="x" * 43) == "skipped"
    assert locmem == []


@pytest.mark.django_db
def test_smtp_down_is_retried_then_marked_delivery_failed(org_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nothing listens
    invitation, raw = _invite(org_a)
    calls = []
    original = send_invitation_email.retry

    def counting_retry(*args, **kwargs):
        calls.append(kwargs.get("countdown"))
        return original(*args, **kwargs)

    send_invitation_email.retry = counting_retry
    try:
        result = send_invitation_email.apply(
            kwargs={"org_id": org_a.pk, "invitation_id": invitation.pk, "token": raw})
    finally:
        del send_invitation_email.retry
    assert result.get() == "failed"
    assert len(calls) == send_invitation_email.max_retries
    assert all(c > 0 for c in calls) and calls[-1] > calls[0]  # exponential backoff
    invitation = _reload(invitation)
    assert invitation.status == InvitationStatus.DELIVERY_FAILED
    assert invitation.delivery_failed_at
    assert "ConnectionRefusedError" in invitation.last_email_error


@pytest.mark.django_db
def test_a_refused_recipient_fails_at_once_and_resend_recovers(org_a, smtp_settings):
    invitation, raw = _invite(org_a, "refuse@example.com")
    assert _run(send_invitation_email, org_id=org_a.pk, invitation_id=invitation.pk,
                token=raw) == "failed"
    invitation = _reload(invitation)
    assert invitation.status == InvitationStatus.DELIVERY_FAILED
    assert "550" in invitation.last_email_error and smtp_settings.messages == []
    # Fix the address and resend: the invitation goes back to sent.
    with tenant_context(org_a):
        invitation.candidate.email = "ada@example.com"
        invitation.candidate.save(update_fields=["email"])
    new_raw = svc.resend_invitation(invitation)
    assert _run(send_invitation_email, org_id=org_a.pk, invitation_id=invitation.pk,
                token=new_raw, kind="resend") == "sent"
    invitation = _reload(invitation)
    assert invitation.status == InvitationStatus.SENT and invitation.last_email_error == ""
    assert "new link" in smtp_settings.messages[0]["Subject"]


@pytest.mark.django_db
def test_reminders_go_once_three_days_before_expiry_with_a_second_working_link(
        org_a, locmem, eager):
    due, raw = _invite(org_a, "due@example.com")
    early, _ = _invite(org_a, "early@example.com")
    unsent, _ = _invite(org_a, "unsent@example.com")
    now = timezone.now()
    with tenant_context(org_a):
        Invitation.objects.filter(pk__in=[due.pk, early.pk]).update(
            status=InvitationStatus.SENT, sent_at=now - timedelta(days=11))
        Invitation.objects.filter(pk=due.pk).update(expires_at=now + timedelta(days=2, hours=23))
        Invitation.objects.filter(pk=early.pk).update(expires_at=now + timedelta(days=3, hours=1))
        Invitation.objects.filter(pk=unsent.pk).update(expires_at=now + timedelta(days=1))
    assert send_reminders() == 1
    assert send_reminders() == 0  # once
    assert [m.to for m in locmem] == [["due@example.com"]]
    assert locmem[0].subject.startswith("Reminder: your assessment for Alpha expires on")
    reminder_token = LINK.search(locmem[0].body).group(1)
    due = _reload(due)
    assert due.reminder_sent_at and due.reminder_token_hash == svc.hash_token(reminder_token)
    assert due.token_hash == svc.hash_token(raw)  # the first link keeps working
    assert _run(send_reminder_email, org_id=org_a.pk, invitation_id=due.pk) == "skipped"


# A real worker and a real SMTP server ------------------------------------------------------------

@pytest.fixture
def email_worker(transactional_db, smtp, monkeypatch, request):
    monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{smtp.port}")
    request.getfixturevalue("celery_worker")
    return smtp


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.celery_worker
def test_a_real_worker_hands_the_invitation_email_to_smtp(org_a, email_worker):
    started = time.monotonic()
    invitation, raw = _invite(org_a, send_email=True)
    assert _wait_for(lambda: email_worker.messages), "no email reached the SMTP server"
    elapsed = time.monotonic() - started
    message = email_worker.messages[0]
    assert email_worker.recipients[0] == ["ada@example.com"]
    assert message["Subject"] == "Alpha invites you to complete an assessment"
    assert message.is_multipart()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert LINK.search(text).group(1) == raw and svc.candidate_url(raw) in html
    assert _wait_for(lambda: _reload(invitation).status == InvitationStatus.SENT)
    assert elapsed < 30
    time.sleep(1.0)
    assert len(email_worker.messages) == 1  # handed over once, not once per queue


@pytest.mark.celery_worker
def test_a_real_worker_marks_a_refused_address_as_delivery_failed(org_a, email_worker):
    invitation, _ = _invite(org_a, "refuse@example.com", send_email=True)
    assert _wait_for(lambda: _reload(invitation).status == InvitationStatus.DELIVERY_FAILED)
    assert "550" in _reload(invitation).last_email_error
    assert email_worker.messages == []
