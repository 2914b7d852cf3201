"""Candidate emails (invitation, resend, reminder): plain text + HTML, through Django's email.

The message names the org, lists the tests with their estimated minutes, says when the link
expires and carries the link. Sending and the status bookkeeping live in assessments/tasks.py.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from .invitations import candidate_url
from .models import Invitation

SUBJECTS = {
    "invitation": "{org} invites you to complete an assessment",
    "resend": "{org} invites you to complete an assessment (new link)",
    "reminder": "Reminder: your assessment for {org} expires on {expires}",
}


def email_context(invitation: Invitation, raw_token: str, kind: str) -> dict:
    tests = [(t.catalog_test.name, t.catalog_test.estimated_minutes)
             for t in invitation.tests.select_related("catalog_test")
             .defer("catalog_test__definition")]
    org = invitation.org
    return {
        "kind": kind,
        "org": org,
        "org_name": org.name,
        "brand_color": getattr(org, "brand_color", "") or "#1f4e8c",
        "logo_url": getattr(org, "logo_url", "") or "",
        "candidate": invitation.candidate,
        "tests": tests,
        "total_minutes": sum(m or 0 for _, m in tests),
        "expires_at": timezone.localtime(invitation.expires_at),
        "url": candidate_url(raw_token),
        "contact_email": org.contact_email,
        "extra_time_percent": invitation.extra_time_percent,
    }


def build_message(invitation: Invitation, raw_token: str, *, kind: str = "invitation"
                  ) -> EmailMultiAlternatives:
    context = email_context(invitation, raw_token, kind)
    subject = SUBJECTS[kind].format(org=invitation.org.name,
                                    expires=context["expires_at"].strftime("%d %B %Y"))
    text = render_to_string("email/invitation.txt", context)
    html = render_to_string("email/invitation.html", context)
    headers = {"Auto-Submitted": "auto-generated"}
    reply_to = [invitation.org.contact_email] if invitation.org.contact_email else None
    message = EmailMultiAlternatives(subject=subject, body=text,
                                     from_email=settings.DEFAULT_FROM_EMAIL,
                                     to=[invitation.candidate.email], reply_to=reply_to,
                                     headers=headers)
    message.attach_alternative(html, "text/html")
    return message
