"""Invitations: create, cancel, resend, expire, and the status machine (plain functions).

Every source (Lever, Greenhouse, Ashby, Workable, the API, the console) calls
`create_invitation`; nothing downstream looks at where a candidate came from.

Candidate links carry a random token of 256 bits (`secrets.token_urlsafe(32)`); only its SHA-256
is stored. The raw token is returned once by `create_invitation` / `resend_invitation` (for the
email and the API response) and is never written to the database.

Status machine (each state has its own timestamp field, `<status>_at`):

    created -> sent -> opened -> started -> completed
    any open state -> expired | cancelled;  created/sent -> delivery_failed -> sent (resend)

`invitation_status_changed` is sent inside the transaction of every change.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone

from tenants.context import tenant_context

from .models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Attempt,
    Candidate,
    CatalogTest,
    Invitation,
    InvitationTest,
    Source,
)
from .models import InvitationStatus as S
from .signals import invitation_status_changed

TOKEN_BYTES = 32  # 256 bits; DESIGN §4 asks for at least 128
DEFAULT_EXPIRY_DAYS = 14
MAX_EXPIRY_DAYS = 90
MAX_TESTS = 10

TRANSITIONS: dict[str, set[str]] = {
    S.CREATED: {S.SENT, S.OPENED, S.EXPIRED, S.CANCELLED, S.DELIVERY_FAILED},
    S.SENT: {S.OPENED, S.EXPIRED, S.CANCELLED, S.DELIVERY_FAILED},
    S.DELIVERY_FAILED: {S.SENT, S.OPENED, S.EXPIRED, S.CANCELLED},
    S.OPENED: {S.STARTED, S.EXPIRED, S.CANCELLED},
    S.STARTED: {S.COMPLETED, S.EXPIRED, S.CANCELLED},
    S.COMPLETED: set(),
    S.EXPIRED: set(),
    S.CANCELLED: set(),
}


class InvitationError(ValueError):
    """A request the service refuses; `code` is stable (API error codes), `message` readable."""

    def __init__(self, message: str, *, code: str = "invalid", details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class UnknownTests(InvitationError):
    def __init__(self, slugs: list[str]):
        super().__init__(f"unknown tests: {', '.join(slugs)}", code="unknown_tests",
                         details={"unknown": slugs})
        self.slugs = slugs


# Tokens ------------------------------------------------------------------------------------------

def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    return raw, hash_token(raw)


def candidate_url(raw_token: str) -> str:
    return f"{settings.SITE_URL}/a/{raw_token}"


# Status ------------------------------------------------------------------------------------------

def set_status(invitation: Invitation, new: str, *, now=None) -> bool:
    """Move `invitation` to `new` (stamping `<new>_at`) and signal it; False if already there."""
    old = invitation.status
    if old == new:
        return False
    if new not in TRANSITIONS[old]:
        raise InvitationError(f"an invitation cannot go from {old} to {new}",
                              code="invalid_status")
    now = now or timezone.now()
    invitation.status = new
    setattr(invitation, f"{new}_at", now)
    with transaction.atomic():
        invitation.save(update_fields=["status", f"{new}_at"])
        invitation_status_changed.send(sender=Invitation, invitation=invitation,
                                       old_status=old, new_status=new)
    return True


# Create ------------------------------------------------------------------------------------------

def _clean_candidate(candidate: dict) -> dict:
    if not isinstance(candidate, dict):
        raise InvitationError("candidate must be an object with at least an email",
                              code="invalid_candidate")
    email = str(candidate.get("email") or "").strip().lower()
    try:
        EmailValidator()(email)
    except ValidationError:
        raise InvitationError(f"candidate email {email!r} is not a valid address",
                              code="invalid_candidate", details={"field": "email"}) from None
    cleaned = {"email": email}
    for name, limit in (("first_name", 150), ("last_name", 150), ("external_id", 200)):
        value = str(candidate.get(name) or "").strip()
        if len(value) > limit:
            raise InvitationError(f"candidate {name} is longer than {limit} characters",
                                  code="invalid_candidate", details={"field": name})
        cleaned[name] = value
    return cleaned


def _clean_tests(tests) -> list[CatalogTest]:
    if not isinstance(tests, list | tuple) or not tests or not all(
            isinstance(s, str) for s in tests):
        raise InvitationError("tests must be a non-empty list of test slugs", code="invalid_tests")
    if len(tests) > MAX_TESTS:
        raise InvitationError(f"at most {MAX_TESTS} tests per invitation", code="invalid_tests")
    if len(set(tests)) != len(tests):
        raise InvitationError("a test is listed twice", code="invalid_tests")
    found = {t.slug: t for t in CatalogTest.objects.current().filter(
        slug__in=tests, retired_at__isnull=True).defer("definition")}
    unknown = [slug for slug in tests if slug not in found]
    if unknown:
        raise UnknownTests(unknown)
    return [found[slug] for slug in tests]


def _clean_redirect(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvitationError("redirect_url must be an http(s) URL", code="invalid_redirect_url",
                              details={"field": "redirect_url"}) from None
    if len(url) > 500 or not urlsplit(url).netloc:
        raise InvitationError("redirect_url is too long or has no host",
                              code="invalid_redirect_url", details={"field": "redirect_url"})
    return url


def create_invitation(org, *, candidate: dict, tests: list[str], source: str,
                      source_ref: dict | None = None, external_id: str = "",
                      sandbox: bool = False, expires_in_days: int = DEFAULT_EXPIRY_DAYS,
                      send_email: bool = True, created_by=None, extra_time_percent: int = 0,
                      redirect_url: str = "", locale: str = "en") -> tuple[Invitation, str]:
    """Create an invitation with its ordered tests and attempts; return it and the raw token.

    Raises InvitationError (UnknownTests naming the unknown slugs) before writing anything.
    With `send_email`, the invitation email is queued once the transaction commits.
    """
    if source not in Source.values:
        raise InvitationError(f"source {source!r} is not one of {', '.join(Source.values)}",
                              code="invalid_source")
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) or not (
            1 <= expires_in_days <= MAX_EXPIRY_DAYS):
        raise InvitationError(f"expires_in_days must be a whole number from 1 to "
                              f"{MAX_EXPIRY_DAYS}", code="invalid_expiry")
    if extra_time_percent not in (0, 25, 50):
        raise InvitationError("extra_time_percent must be 0, 25 or 50", code="invalid_extra_time")
    if source_ref is not None and not isinstance(source_ref, dict):
        raise InvitationError("source_ref must be an object", code="invalid_source_ref")
    external_id = str(external_id or "").strip()
    if len(external_id) > 200:
        raise InvitationError("external_id is longer than 200 characters",
                              code="invalid_external_id")
    locale = str(locale or "en").strip()
    if not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?", locale):
        raise InvitationError(f"locale {locale!r} is not a language tag such as en or pt-BR",
                              code="invalid_locale")
    person = _clean_candidate(candidate)
    redirect_url = _clean_redirect(redirect_url)

    raw, digest = new_token()
    now = timezone.now()
    with tenant_context(org), transaction.atomic():
        catalog_tests = _clean_tests(tests)
        row = Candidate.objects.filter(org=org, email=person["email"]).order_by("pk").first()
        if row is None:
            row = Candidate.objects.create(org=org, **person)
        else:
            changed = [f for f in ("first_name", "last_name", "external_id")
                       if person[f] and getattr(row, f) != person[f]]
            for f in changed:
                setattr(row, f, person[f])
            if changed:
                row.save(update_fields=changed)
        invitation = Invitation.objects.create(
            org=org, candidate=row, source=source, source_ref=source_ref or {},
            external_id=external_id, sandbox=bool(sandbox), locale=locale,
            created_at=now, expires_at=now + timedelta(days=expires_in_days),
            token_hash=digest, extra_time_percent=extra_time_percent,
            redirect_url=redirect_url, created_by=created_by)
        for position, catalog_test in enumerate(catalog_tests, start=1):
            item = InvitationTest.objects.create(org=org, invitation=invitation,
                                                 catalog_test=catalog_test, position=position)
            Attempt.objects.create(org=org, invitation=invitation, invitation_test=item)
        invitation_status_changed.send(sender=Invitation, invitation=invitation,
                                       old_status=None, new_status=invitation.status)
        if send_email:
            queue_email(invitation, raw, kind="invitation")
    return invitation, raw


def queue_email(invitation: Invitation, raw_token: str, *, kind: str) -> None:
    """Queue the invitation email once the current transaction commits."""
    from .tasks import send_invitation_email

    kwargs = {"org_id": invitation.org_id, "invitation_id": invitation.pk, "token": raw_token,
              "kind": kind}
    transaction.on_commit(lambda: send_invitation_email.apply_async(kwargs=kwargs))


# Cancel / resend / expire ------------------------------------------------------------------------

def cancel_invitation(invitation: Invitation) -> bool:
    """Cancel an open invitation (its link stops working); False if it already was."""
    with tenant_context(invitation.org_id), transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status == S.CANCELLED:
            return False
        if invitation.status in FINAL_STATUSES:
            raise InvitationError(f"the invitation is already {invitation.status}",
                                  code="invalid_status")
        return set_status(invitation, S.CANCELLED)


def resend_invitation(invitation: Invitation, *, extend_days: int | None = None) -> str:
    """Issue a new link (the old ones stop working) and email it; return the raw token.

    `extend_days` optionally pushes the expiry to that many days from now.
    """
    raw, digest = new_token()
    with tenant_context(invitation.org_id), transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status not in OPEN_STATUSES:
            raise InvitationError(f"the invitation is {invitation.status}; it cannot be resent",
                                  code="invalid_status")
        invitation.token_hash = digest
        invitation.reminder_token_hash = None
        fields = ["token_hash", "reminder_token_hash"]
        if extend_days:
            invitation.expires_at = timezone.now() + timedelta(days=extend_days)
            fields.append("expires_at")
        invitation.save(update_fields=fields)
        queue_email(invitation, raw, kind="resend")
    return raw


def expire_due_invitations(org, *, now=None) -> int:
    """Mark open invitations past their expiry as expired; return how many were."""
    now = now or timezone.now()
    count = 0
    with tenant_context(org):
        due = list(Invitation.objects.filter(status__in=OPEN_STATUSES, expires_at__lte=now)
                   .values_list("pk", flat=True))
        for pk in due:
            with transaction.atomic():
                invitation = Invitation.objects.select_for_update().get(pk=pk)
                if invitation.status in OPEN_STATUSES and invitation.is_past_expiry(now):
                    count += set_status(invitation, S.EXPIRED, now=now)
    return count


# Verdict -----------------------------------------------------------------------------------------

VERDICTS = ("up", "down")


def give_verdict(invitation: Invitation, verdict: str, *, by=None) -> bool:
    """Record a recruiter's thumbs up/down on a completed invitation; False if unchanged.

    Sends `verdict_given` inside the transaction, so the ATS delivery is written with it.
    """
    from .signals import verdict_given

    if verdict not in VERDICTS:
        raise InvitationError(f"verdict must be one of {', '.join(VERDICTS)}", code="invalid")
    if invitation.status != S.COMPLETED:
        raise InvitationError("a verdict needs a completed invitation", code="not_completed")
    if invitation.verdict == verdict:
        return False
    invitation.verdict, invitation.verdict_at, invitation.verdict_by = (
        verdict, timezone.now(), by)
    with transaction.atomic():
        invitation.save(update_fields=["verdict", "verdict_at", "verdict_by"])
        verdict_given.send(sender=Invitation, invitation=invitation)
    return True
