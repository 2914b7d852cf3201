"""The partner side shared by Greenhouse, Ashby and Workable: they call us, we answer at once.

DESIGN §2 flow 2: authenticate by the org's partner key, create the invitation idempotently,
return our id at once, email through Celery. Each provider's `views.py` parses its own field
names and shapes its own answers; this module does everything that is the same for the three:

- `partner_endpoint(...)`: a view decorator. CSRF-exempt, method check, body size limit (413),
  partner-key authentication (401), the tenant context for the rest of the view, readable
  log lines, and `PartnerError`s turned into the provider's error shape (never a 500 for bad
  input).
- `start(...)`: one invitation per ATS idempotency key (a unique constraint, so concurrent
  retries converge on one row), optional "already being assessed" refusal (409), the call
  stored as an InboundEvent so the admin sees what arrived.
- `cancel(...)`, `find(...)`, `record_call(...)`, `offerings(...)`.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from assessments import packages
from assessments.invitations import InvitationError, cancel_invitation, create_invitation
from assessments.models import FINAL_STATUSES, OPEN_STATUSES, InvitationStatus
from tenants.context import tenant_context

from . import partner_keys
from .models import Connection, ExternalAssessment, InboundEvent, InboundStatus
from .webhooks import read_body

log = logging.getLogger("integrations.partner")

MAX_BODY_BYTES = 256 * 1024


class PartnerError(Exception):
    """A refusal the ATS should see: HTTP status, a machine code and a readable message."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


def bad_request(message: str, code: str = "malformed") -> PartnerError:
    return PartnerError(400, code, message)


def invalid(message: str, code: str = "invalid", **details) -> PartnerError:
    return PartnerError(422, code, message, details)


def not_found(message: str) -> PartnerError:
    return PartnerError(404, "not_found", message)


# --- the view decorator -------------------------------------------------------------------------

def partner_endpoint(provider: str, scheme: str, *, methods: tuple[str, ...],
                     error_response):
    """Wrap a partner view `view(request, connection) -> HttpResponse`.

    `error_response(status, code, message) -> HttpResponse` shapes refusals the way the ATS
    expects (Ashby: {"success": false, ...}, Workable: {"status", "message"}, ...).
    """
    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            name = f"{provider}.{view.__name__}"
            if request.method not in methods:
                response = error_response(405, "method_not_allowed",
                                          f"use {' or '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            if read_body(request, MAX_BODY_BYTES) is None:
                log.warning("integrations.%s.too_large", name)
                return error_response(413, "too_large",
                                      f"the body is larger than {MAX_BODY_BYTES} bytes")
            connection = partner_keys.authenticate(
                provider, request.headers.get("Authorization", ""), scheme)
            if connection is None:
                log.warning("integrations.%s.unauthorized from=%s", name,
                            request.META.get("REMOTE_ADDR"))
                return error_response(401, "unauthorized", "missing, unknown or expired key")
            request.connection = connection
            with tenant_context(connection.org_id):
                connection.note_inbound()
                try:
                    response = view(request, connection, *args, **kwargs)
                except PartnerError as exc:
                    log.info("integrations.%s.refused connection=%s status=%s code=%s: %s",
                             name, connection.public_id, exc.status, exc.code, exc.message)
                    return error_response(exc.status, exc.code, exc.message)
            log.info("integrations.%s.ok connection=%s status=%s", name, connection.public_id,
                     response.status_code)
            return response
        return wrapper
    return decorate


def json_body(request, *, allow_empty: bool = False) -> dict:
    """The request's JSON object, or PartnerError 400 saying what is wrong with it."""
    raw = request.body
    if not raw.strip():
        if allow_empty:
            return {}
        raise bad_request("the body is empty; a JSON object is expected")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    return data


def json_response(body, status: int = 200) -> HttpResponse:
    """JSON of any top-level type (Greenhouse's list_tests is a bare array)."""
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


# --- what the ATS may pick ----------------------------------------------------------------------

def offerings(connection: Connection) -> list[packages.Offering]:
    return packages.offerings(connection.org_id)


# --- start, find, cancel ------------------------------------------------------------------------

def record_call(connection: Connection, call: str, body, outcome: str, *,
                failed: bool = False) -> InboundEvent:
    """Keep a partner call that changed something (or was refused) for the admin's event list."""
    text = body if isinstance(body, str) else json.dumps(body)
    return InboundEvent.objects.create(
        org_id=connection.org_id, connection=connection, event_type=call,
        dedupe_key=f"call:{uuid.uuid4()}", body=text[:MAX_BODY_BYTES],
        status=InboundStatus.FAILED if failed else InboundStatus.PROCESSED,
        processed_at=timezone.now(), outcome=outcome[:2000], attempts=1)


def start(connection: Connection, *, call: str, body, idempotency_key: str, offering_id: str,
          candidate: dict, source_ref: dict | None = None, busy_key: str | None = None,
          state: dict | None = None, expires_in_days: int = 14,
          ) -> tuple[ExternalAssessment, bool]:
    """The ExternalAssessment for `idempotency_key`, creating it and its invitation if new.

    Returns (assessment, created). The same key while its invitation is open or completed
    returns the existing one (retries, double clicks); after a cancel or expiry it starts anew.
    `busy_key` (e.g. Ashby's candidate + assessment type): another open assessment with it
    raises 409. Bad input raises PartnerError 422 with a readable message.
    """
    offering = packages.find(connection.org_id, offering_id)
    if offering is None:
        record_call(connection, call, body, f"unknown test {offering_id!r}", failed=True)
        raise invalid(f"unknown test {offering_id!r}: list the tests for the ids", "unknown_test")
    key = idempotency_key[:300]
    with transaction.atomic():
        existing = (ExternalAssessment.objects.select_for_update().select_related("invitation")
                    .filter(connection=connection, idempotency_key=key).first())
        if existing is not None:
            if existing.invitation.status not in (InvitationStatus.CANCELLED,
                                                  InvitationStatus.EXPIRED):
                return existing, False
            existing.idempotency_key = f"{key}#{existing.pk}"[:300]  # free the key: start anew
            existing.save(update_fields=["idempotency_key"])
        if busy_key and ExternalAssessment.objects.filter(
                connection=connection, state__busy_key=busy_key,
                invitation__status__in=OPEN_STATUSES).exists():
            record_call(connection, call, body, "refused: already being assessed", failed=True)
            raise PartnerError(409, "already_assessed",
                               "the candidate is already being assessed for this test")
        public_id = uuid.uuid4()
        try:
            with transaction.atomic():  # a savepoint: a lost race rolls back only this part
                invitation, _ = create_invitation(
                    connection.org, tests=list(offering.tests), source=connection.provider,
                    candidate=candidate, sandbox=connection.is_sandbox,
                    expires_in_days=expires_in_days,
                    source_ref={**(source_ref or {}), "connection_id": str(connection.public_id),
                                "assessment_id": str(public_id)})
                assessment = ExternalAssessment.objects.create(
                    org_id=connection.org_id, public_id=public_id, connection=connection,
                    invitation=invitation, idempotency_key=key, offering_id=offering.id,
                    offering_name=offering.name,
                    state={**(state or {}), **({"busy_key": busy_key} if busy_key else {})})
        except InvitationError as exc:
            record_call(connection, call, body, f"refused: {exc}", failed=True)
            raise invalid(str(exc), exc.code, **exc.details) from None
        except IntegrityError:
            # A concurrent start with the same key committed first: answer with its assessment.
            existing = (ExternalAssessment.objects.select_related("invitation")
                        .filter(connection=connection, idempotency_key=key).first())
            if existing is None:
                raise
            return existing, False
        record_call(connection, call, body,
                    f"invitation {invitation.public_id} created for {offering.name}")
    log.info("integrations.%s.invitation.created connection=%s assessment=%s invitation=%s",
             connection.provider, connection.public_id, public_id, invitation.public_id)
    return assessment, True


def find(connection: Connection, assessment_id) -> ExternalAssessment | None:
    """The connection's assessment with our public id `assessment_id` (any text accepted)."""
    try:
        public_id = uuid.UUID(str(assessment_id))
    except (TypeError, ValueError):
        return None
    return (ExternalAssessment.objects.select_related("invitation", "invitation__candidate")
            .filter(connection=connection, public_id=public_id).first())


def cancel(connection: Connection, assessment: ExternalAssessment, *, call: str, body) -> bool:
    """Cancel the assessment's invitation; False when it was already final (not an error)."""
    invitation = assessment.invitation
    if invitation.status in FINAL_STATUSES:
        record_call(connection, call, body, f"already {invitation.status}; nothing to cancel")
        return False
    try:
        changed = cancel_invitation(invitation)
    except InvitationError:
        changed = False
    record_call(connection, call, body, "invitation cancelled" if changed else "already final")
    assessment.invitation.refresh_from_db()
    return changed


# --- where results may be sent ------------------------------------------------------------------

def callback_url_problem(connection: Connection, url: str, domains: list[str]) -> str | None:
    """Why we must not send results to `url` (None: fine).

    Greenhouse and Workable hand us the URL to call back; a production connection only calls
    https URLs on the ATS's own domains (DESIGN §4: no SSRF). Sandbox connections may call any
    http(s) URL, so the built-in fakes on loopback work.
    """
    from urllib.parse import urlsplit

    if not isinstance(url, str) or not url.strip():
        return "the callback URL is missing"
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the callback URL {url!r} is not an absolute http(s) URL"
    if connection.is_sandbox:
        return None
    host = parts.hostname.lower().rstrip(".")
    if parts.scheme != "https":
        return f"the callback URL {url!r} must use https"
    if not any(host == d.lower() or host.endswith("." + d.lower()) for d in domains):
        return (f"the callback host {host!r} is not one of {', '.join(domains)} "
                "(a sandbox connection accepts any host)")
    return None
