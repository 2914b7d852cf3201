"""Celery tasks: candidate emails (queue `email`) and the periodic expiry and reminder sweeps.

Email tasks are tenant tasks (`org_id=`, ids only). The one exception is the raw candidate token
of the invitation email: only its hash is stored, so the email task must carry it; it lives in
the broker only until the email is sent and is never logged. Reminders mint their own link in
the task (`Invitation.reminder_token_hash`), so they carry ids only.

Retries: SMTP and network errors are retried with exponential backoff and jitter (up to
EMAIL_MAX_RETRIES); a permanent refusal (5xx, e.g. an unknown recipient) or running out of
retries marks the invitation `delivery_failed` and records `last_email_error` (shown in the admin).
"""

from __future__ import annotations

import logging
import random
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from tenants.context import platform_context
from tenants.tasks import TenantTask

from . import attempts, invitations
from .emails import build_message
from .models import OPEN_STATUSES, Attempt, AttemptStatus, Invitation
from .models import InvitationStatus as S

log = logging.getLogger("assay.assessments.email")

EMAIL_MAX_RETRIES = 5
EMAIL_TIMEOUT_SECONDS = 30
REMINDABLE = (S.SENT, S.OPENED, S.STARTED)
TRANSIENT = (smtplib.SMTPException, OSError)


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _backoff(retries: int) -> float:
    base = min(600, 30 * 2 ** retries)
    return base * random.uniform(0.8, 1.2)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _send(message) -> None:
    connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None)
                                or EMAIL_TIMEOUT_SECONDS)
    message.connection = connection
    message.send()


def _record_sent(invitation_id: int, *, kind: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        if kind == "reminder":
            return
        if invitation.status in (S.CREATED, S.DELIVERY_FAILED):
            invitations.set_status(invitation, S.SENT, now=now)
        invitation.sent_at = now
        invitation.last_email_error = ""
        invitation.save(update_fields=["sent_at", "last_email_error"])


def _record_failure(invitation_id: int, exc: Exception, *, kind: str) -> None:
    log.warning("email %s to invitation %s failed permanently: %s", kind, invitation_id,
                _describe(exc))
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        invitation.last_email_error = f"{timezone.now():%Y-%m-%d %H:%M} {kind}: {_describe(exc)}"
        invitation.save(update_fields=["last_email_error"])
        if kind != "reminder" and invitation.status in (S.CREATED, S.SENT):
            invitations.set_status(invitation, S.DELIVERY_FAILED)


@shared_task(name="email.send_invitation", base=TenantTask, bind=True, ignore_result=True,
             max_retries=EMAIL_MAX_RETRIES)
def send_invitation_email(self, *, org_id: int, invitation_id: int, token: str,
                          kind: str = "invitation") -> str:
    """Email the candidate link `token` of an open invitation (kind: invitation or resend)."""
    invitation = (Invitation.objects.select_related("org", "candidate")
                  .filter(pk=invitation_id).first())
    if invitation is None or invitation.status not in OPEN_STATUSES:
        return "skipped"
    if invitations.hash_token(token) != invitation.token_hash:
        return "stale"  # a newer link was issued (resend) and has its own email
    try:
        _send(build_message(invitation, token, kind=kind))
    except TRANSIENT as exc:
        if _is_permanent(exc) or self.request.retries >= self.max_retries:
            _record_failure(invitation.pk, exc, kind=kind)
            return "failed"
        log.info("email %s to invitation %s failed (%s); retrying", kind, invitation.pk,
                 _describe(exc))
        with transaction.atomic():
            Invitation.objects.filter(pk=invitation.pk).update(
                last_email_error=f"{timezone.now():%Y-%m-%d %H:%M} {kind} (retrying): "
                                 f"{_describe(exc)}")
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None
    _record_sent(invitation.pk, kind=kind)
    return "sent"


@shared_task(name="email.send_reminder", base=TenantTask, bind=True, ignore_result=True,
             max_retries=EMAIL_MAX_RETRIES)
def send_reminder_email(self, *, org_id: int, invitation_id: int) -> str:
    """Send the one reminder of an invitation, with a fresh link (the first one keeps working)."""
    try:
        with transaction.atomic():
            invitation = (Invitation.objects.select_for_update(of=("self",))
                          .select_related("org", "candidate").filter(pk=invitation_id).first())
            if (invitation is None or invitation.reminder_sent_at is not None
                    or invitation.status not in REMINDABLE):
                return "skipped"
            raw, digest = invitations.new_token()
            invitation.reminder_token_hash = digest
            invitation.reminder_sent_at = timezone.now()
            invitation.save(update_fields=["reminder_token_hash", "reminder_sent_at"])
            # Sent inside the transaction: if sending fails, the new link is not kept.
            _send(build_message(invitation, raw, kind="reminder"))
    except TRANSIENT as exc:
        if _is_permanent(exc) or self.request.retries >= self.max_retries:
            _record_failure(invitation_id, exc, kind="reminder")
            return "failed"
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None
    return "sent"


@shared_task(name="assessments.send_reminders", ignore_result=True)
def send_reminders() -> int:
    """Beat: queue one reminder per invitation expiring within INVITATION_REMINDER_DAYS."""
    now = timezone.now()
    window = timedelta(days=settings.INVITATION_REMINDER_DAYS)
    with platform_context("reminder sweep"):
        due = list(Invitation.objects.filter(
            status__in=REMINDABLE, reminder_sent_at__isnull=True, expires_at__gt=now,
            expires_at__lte=now + window, sent_at__lte=now - timedelta(days=1),
        ).values_list("org_id", "pk"))
    for org_id, pk in due:
        send_reminder_email.apply_async(kwargs={"org_id": org_id, "invitation_id": pk})
    return len(due)


@shared_task(name="assessments.expire_invitations", ignore_result=True)
def expire_invitations() -> int:
    """Beat: find orgs with invitations past expiry or timed attempts past their deadline, and
    queue one per-org task for each."""
    now = timezone.now()
    grace = timedelta(seconds=attempts.DEADLINE_GRACE_SECONDS)
    with platform_context("expiry sweep"):
        orgs = set(Invitation.objects.filter(status__in=OPEN_STATUSES, expires_at__lte=now)
                   .values_list("org_id", flat=True).distinct())
        orgs |= set(Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS,
                                           deadline_at__lt=now - grace)
                    .values_list("org_id", flat=True).distinct())
    for org_id in sorted(orgs):
        expire_org_invitations.apply_async(kwargs={"org_id": org_id})
    return len(orgs)


@shared_task(name="assessments.expire_org_invitations", base=TenantTask, ignore_result=True)
def expire_org_invitations(*, org_id: int) -> dict:
    return {"expired": invitations.expire_due_invitations(org_id),
            "timed_out": attempts.close_overdue_attempts(org_id)}
