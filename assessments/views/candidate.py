"""The candidate's pages (DESIGN §1, §3.3): anonymous, phone first, usable without JavaScript.

`/a/<token>` is the only URL that carries the token: it is looked up by hash (the one
platform-wide query, in `platform_context("candidate token lookup")`), exchanged for a session
and the browser is redirected to token-free URLs. Every later request reads the invitation from
the session and runs in `tenant_context(invitation.org)`, so row-level security applies.

Flow: welcome + privacy notice + consent -> per test: instructions and a practice item -> items
in pages of attempts.PAGE_SIZE (plain form POST per page; JS autosaves each answer as JSON) ->
next test -> completion page. Re-opening the link, on any device, resumes at the first
unanswered item.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants.context import platform_context, tenant_context

from .. import attempts as flow
from .. import invitations
from ..forms import ConsentForm
from ..models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Attempt,
    AttemptStatus,
    Invitation,
    InvitationStatus,
    InvitationTest,
    Response,
)
from ..ratelimit import client_ip, hit
from ..security import candidate_headers, protect

log = logging.getLogger("assay.candidate")

SESSION_KEY = "assay_candidate"
MAX_JSON_BODY = 4096
FORM_FIELDS = {"csrfmiddlewaretoken", "page", "action"}
# The countdown's own clock may end a moment before the server's deadline.
TIMEOUT_TOLERANCE = timedelta(seconds=2)

REASONS = {
    "unknown": (404, "This link does not work",
                "We could not find an assessment for this link. Please check that you copied "
                "the whole link from your email."),
    "expired": (410, "This link has expired",
                "The time to complete this assessment has passed."),
    "cancelled": (410, "This assessment was cancelled",
                  "The organization that invited you has cancelled this assessment."),
    "completed": (410, "You have already completed this assessment",
                  "Thank you: your answers were submitted, and this link cannot be used again."),
    "no_session": (403, "Your session has ended",
                   "Please open the link from your invitation email again to continue. Your "
                   "answers so far are saved."),
}


# Helpers -----------------------------------------------------------------------------------------

def unavailable(request, reason: str, *, org=None):
    status, title, message = REASONS[reason]
    contact = org.contact_email if org is not None else ""
    return render(request, "assessments/unavailable.html", {
        "title": title, "message": message, "org": org, "contact_email": contact,
        "reason": reason}, status=status)


def too_many(request, retry_after: int, *, json_body: bool = False):
    message = "Too many requests from your network. Please wait a moment and try again."
    if json_body:
        response = JsonResponse({"error": {"code": "rate_limited", "message": message}},
                                status=429)
    else:
        response = render(request, "assessments/message.html", {
            "title": "Please wait a moment", "message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def wants_json(request) -> bool:
    return request.content_type == "application/json"


def json_error(status: int, code: str, message: str, **extra):
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


class Candidate:
    """What a candidate page needs: the invitation, its tests with attempts and layouts."""

    def __init__(self, invitation: Invitation):
        self.invitation = invitation
        self.org = invitation.org
        self.tests = list(
            InvitationTest.objects.filter(invitation=invitation)
            .select_related("catalog_test", "attempt").defer("catalog_test__definition")
            .order_by("position"))
        self.layouts = {t.position: flow.layout_for(t.catalog_test) for t in self.tests}

    def test(self, position: int) -> InvitationTest | None:
        return next((t for t in self.tests if t.position == position), None)

    def current(self) -> InvitationTest | None:
        """The first test whose attempt is not closed."""
        return next((t for t in self.tests if not t.attempt.is_closed), None)

    @property
    def total_items(self) -> int:
        return sum(layout.n_items for layout in self.layouts.values())

    @property
    def total_minutes(self) -> int:
        return sum(layout.estimated_minutes or 0 for layout in self.layouts.values())

    def answered_total(self) -> int:
        return Response.objects.filter(attempt__invitation=self.invitation).count()

    def next_url(self) -> str:
        test = self.current()
        if not self.invitation.consented_at:
            return reverse("candidate:home")
        if test is None:
            return reverse("candidate:done")
        if test.attempt.status == AttemptStatus.PENDING:
            return reverse("candidate:test", args=[test.position])
        return reverse("candidate:items", args=[test.position])


def _expire_if_due(invitation: Invitation) -> bool:
    if invitation.status in OPEN_STATUSES and invitation.is_past_expiry():
        with transaction.atomic():
            locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
            if locked.status in OPEN_STATUSES:
                invitations.set_status(locked, InvitationStatus.EXPIRED)
        invitation.status = InvitationStatus.EXPIRED
        return True
    return invitation.status == InvitationStatus.EXPIRED


def candidate_view(*, rate: str | None = None, allow_completed: bool = False):
    """Resolve the candidate's invitation from the session and run the view in its org.

    Refuses (friendly page, 4xx; JSON for JSON requests) a missing or tampered session, and
    cancelled or expired invitations; a completed invitation sends pages to the completion
    page and refuses answers.
    """

    def decorate(view):
        @candidate_headers
        def wrapper(request, *args, **kwargs):
            if rate:
                verdict = hit("answer", client_ip(request), getattr(settings, rate))
                if not verdict.allowed:
                    return too_many(request, verdict.retry_after, json_body=wants_json(request))
            state = request.session.get(SESSION_KEY)
            try:
                org_id, public_id = int(state["org"]), str(state["inv"])
            except (TypeError, KeyError, ValueError):
                if wants_json(request):
                    return json_error(403, "no_session", REASONS["no_session"][2])
                return unavailable(request, "no_session")
            # One transaction per request: the tenant context is applied once, not per query.
            with tenant_context(org_id), transaction.atomic():
                invitation = (Invitation.objects.select_related("org", "candidate")
                              .filter(public_id=public_id, org_id=org_id).first())
                if invitation is None:
                    request.session.pop(SESSION_KEY, None)
                    return unavailable(request, "no_session")
                if invitation.status == InvitationStatus.CANCELLED or _expire_if_due(invitation):
                    reason = invitation.status
                    if wants_json(request):
                        return json_error(410, reason, REASONS[reason][2])
                    return unavailable(request, reason, org=invitation.org)
                if invitation.status == InvitationStatus.COMPLETED and not allow_completed:
                    if wants_json(request) or request.method == "POST":
                        message = REASONS["completed"][2]
                        if wants_json(request):
                            return json_error(409, "completed", message)
                        return render(request, "assessments/message.html", {
                            "title": REASONS["completed"][1], "message": message,
                            "org": invitation.org}, status=409)
                    return redirect("candidate:done")
                return view(request, Candidate(invitation), *args, **kwargs)

        return wrapper

    return decorate


# Entry ------------------------------------------------------------------------------------------

def enter(request, token: str):
    """Exchange the emailed token for a session and redirect to a URL without it."""
    return protect(_enter(request, token), referrer_policy="no-referrer")


@require_GET
def _enter(request, token: str):
    verdict = hit("token", client_ip(request), settings.CANDIDATE_TOKEN_RATE_LIMIT)
    if not verdict.allowed:
        return too_many(request, verdict.retry_after)
    digest = invitations.hash_token(token)
    with platform_context("candidate token lookup"):
        found = (Invitation.objects.filter(Q(token_hash=digest) | Q(reminder_token_hash=digest))
                 .values_list("pk", "org_id").first())
    if found is None:
        log.info("candidate link: unknown token from %s", client_ip(request))
        return unavailable(request, "unknown")
    pk, org_id = found
    with tenant_context(org_id), transaction.atomic():
        invitation = Invitation.objects.select_related("org").get(pk=pk)
        if invitation.status in FINAL_STATUSES or _expire_if_due(invitation):
            return unavailable(request, invitation.status, org=invitation.org)
        if invitation.status in (InvitationStatus.CREATED, InvitationStatus.SENT,
                                 InvitationStatus.DELIVERY_FAILED):
            with transaction.atomic():
                locked = Invitation.objects.select_for_update().get(pk=pk)
                if locked.status in (InvitationStatus.CREATED, InvitationStatus.SENT,
                                     InvitationStatus.DELIVERY_FAILED):
                    invitations.set_status(locked, InvitationStatus.OPENED)
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"org": org_id, "inv": str(invitation.public_id)}
    return redirect("candidate:home")


# Welcome and consent ----------------------------------------------------------------------------

def _welcome(request, candidate: Candidate, form, status=200):
    return render(request, "assessments/welcome.html", {
        "c": candidate, "invitation": candidate.invitation, "org": candidate.org,
        "form": form, "retention_days": candidate.org.effective_retention_days,
        "tests": [(t, candidate.layouts[t.position]) for t in candidate.tests],
    }, status=status)


@candidate_view()
@require_GET
def home(request, candidate: Candidate):
    if candidate.invitation.consented_at is None:
        return _welcome(request, candidate, ConsentForm())
    return redirect(candidate.next_url())


@candidate_view()
@require_POST
def consent(request, candidate: Candidate):
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _welcome(request, candidate, form, status=400)
    invitation = candidate.invitation
    if invitation.consented_at is None:
        invitation.consented_at = timezone.now()
        with transaction.atomic():
            invitation.save(update_fields=["consented_at"])
    return redirect(candidate.next_url())


# A test: introduction, items, answers -----------------------------------------------------------

def _guard_test(candidate: Candidate, position: int):
    """The test at `position` if it is the one to work on now, else a redirect."""
    if candidate.invitation.consented_at is None:
        return None, redirect("candidate:home")
    test = candidate.test(position)
    if test is None or test is not candidate.current():
        return None, redirect(candidate.next_url())
    return test, None


@candidate_view()
@require_http_methods(["GET", "POST"])
def test_intro(request, candidate: Candidate, position: int):
    test, other = _guard_test(candidate, position)
    if other:
        return other
    layout = candidate.layouts[position]
    if test.attempt.status != AttemptStatus.PENDING:
        return redirect("candidate:items", position)
    if request.method == "POST":
        with transaction.atomic():
            attempt = Attempt.objects.select_for_update().get(pk=test.attempt.pk)
            attempt.invitation = candidate.invitation
            flow.start(attempt, layout)
        return redirect("candidate:items", position)
    allowed = flow.time_allowed(layout.time_limit_seconds,
                                candidate.invitation.extra_time_percent)
    return render(request, "assessments/test_intro.html", {
        "c": candidate, "org": candidate.org, "test": test, "layout": layout,
        "count": len(candidate.tests), "allowed_minutes": _minutes(allowed),
        "base_minutes": _minutes(layout.time_limit_seconds),
        "extra": candidate.invitation.extra_time_percent,
    })


def _minutes(seconds):
    if not seconds:
        return None
    minutes = seconds / 60
    return int(minutes) if minutes == int(minutes) else round(minutes, 1)


def _time_up(request, candidate: Candidate, test, *, status=200):
    return render(request, "assessments/time_up.html", {
        "c": candidate, "org": candidate.org, "test": test,
        "next_url": candidate.next_url()}, status=status)


def _page_number(raw, layout, answers) -> int:
    frontier = flow.frontier_page(layout, answers)
    last_allowed = frontier or layout.n_pages
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return last_allowed
    return number if 1 <= number <= last_allowed else last_allowed


_fragments: dict[tuple[int, str], str] = {}


def item_html(layout, item, value: str | None, missing: bool) -> str:
    """One item as the form contract wants it (DESIGN §3.3): a fieldset, its legend, and one
    labelled radio per response code named by the item id. Built once per catalog item and
    cached (an item page is mostly these), then the answer is marked `checked`."""
    key = (layout.catalog_test_id, item.id)
    html = _fragments.get(key)
    if html is None:
        likert = " likert" if layout.kind == flow.LIKERT else ""
        options = format_html_join("\n", (
            '<label class="option" for="{0}-{1}"><input type="radio" name="{0}" id="{0}-{1}" '
            'value="{1}"> <span>{2}{3}</span></label>'), (
            (item.id, o.code, format_html("<b>{}</b> ", o.code) if not likert else "", o.label)
            for o in item.options))
        html = format_html(
            '<fieldset class="item{{missing}}" id="q-{}">\n<legend><span class="num">{}.</span> '
            '{}{{flag}}</legend>\n<div class="options{}">\n{}\n</div>\n</fieldset>',
            item.id, item.number, item.text, likert, options)
        _fragments[key] = html
    if value is not None:
        html = html.replace(f'id="{escape(item.id)}-{escape(value)}" value="{escape(value)}">',
                            f'id="{escape(item.id)}-{escape(value)}" value="{escape(value)}" '
                            "checked>", 1)
    html = html.replace("{missing}", " missing" if missing else "", 1)
    flag = ' <span class="flag">Please answer</span>' if missing else ""
    return mark_safe(html.replace("{flag}", flag, 1))  # every part came from format_html


def _items_page(request, candidate, test, layout, attempt, page, answers, *, error="",
                missing=(), status=200):
    items = layout.pages[page - 1]
    remaining = flow.remaining_seconds(attempt)
    answered_total = candidate.answered_total()
    return render(request, "assessments/items.html", {
        "c": candidate, "org": candidate.org, "test": test, "layout": layout,
        "attempt": attempt, "page": page, "n_pages": layout.n_pages,
        "items": [item_html(layout, item, answers.get(item.id), item.id in missing)
                  for item in items],
        "first_number": items[0].number, "last_number": items[-1].number,
        "answered": len(answers), "answered_total": answered_total,
        "total_items": candidate.total_items, "count": len(candidate.tests),
        "remaining": None if remaining is None else int(remaining),
        "remaining_text": _clock(remaining), "error": error, "is_last": page == layout.n_pages,
        "autosave_url": reverse("candidate:answer", args=[test.position]),
    }, status=status)


def _clock(seconds) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _post_answers(request, layout) -> tuple[dict, int | None, str | None]:
    """The answers of a plain form post, its page, or an error message for stray fields."""
    try:
        page = int(request.POST.get("page", ""))
    except ValueError:
        page = None
    answers = {}
    for key in request.POST:
        if key in FORM_FIELDS:
            continue
        if key not in layout.index:
            return {}, page, f"Question {key!r} is not in this test."
        answers[key] = request.POST.get(key)
    return answers, page, None


@candidate_view(rate="CANDIDATE_ANSWER_RATE_LIMIT")
@require_http_methods(["GET", "POST"])
def items(request, candidate: Candidate, position: int):
    test, other = _guard_test(candidate, position)
    if other:
        return other
    layout = candidate.layouts[position]
    if test.attempt.status == AttemptStatus.PENDING:
        return redirect("candidate:test", position)
    if request.method == "GET":
        attempt = test.attempt
        if flow.is_overdue(attempt):
            with transaction.atomic():
                attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
                attempt.invitation = candidate.invitation
                flow.close(attempt, timed_out=True)
            return _time_up(request, Candidate(candidate.invitation), test)
        answers = flow.answered(attempt)
        page = _page_number(request.GET.get("page"), layout, answers)
        return _items_page(request, candidate, test, layout, attempt, page, answers)

    answers, page, stray = _post_answers(request, layout)
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=test.attempt.pk)
        attempt.invitation = candidate.invitation
        try:
            if stray:
                raise flow.AnswerError(400, "unknown_item", stray)
            flow.save_answers(attempt, layout, answers, page=page if page else 0)
        except flow.AnswerError as exc:
            if exc.code in ("deadline_passed", "attempt_closed"):
                return _time_up(request, Candidate(candidate.invitation), test, status=409)
            saved = flow.answered(attempt)
            shown = _page_number(page, layout, saved)
            return _items_page(request, candidate, test, layout, attempt, shown, saved,
                               error=exc.message, status=exc.status)
        saved = flow.answered(attempt)
        if request.POST.get("action") == "timeout" and attempt.deadline_at and (
                timezone.now() >= attempt.deadline_at - TIMEOUT_TOLERANCE):
            flow.close(attempt, timed_out=True)
            return _time_up(request, Candidate(candidate.invitation), test)
        missing = [item.id for item in layout.pages[page - 1] if item.id not in saved]
        if missing:
            return _items_page(
                request, candidate, test, layout, attempt, page, saved,
                error="Please answer the highlighted "
                      f"{'question' if len(missing) == 1 else 'questions'} before you go on. "
                      "Your other answers are saved.",
                missing=missing, status=400)
        frontier = flow.frontier_page(layout, saved)
        if page < layout.n_pages or frontier is not None:
            target = page + 1 if page < layout.n_pages else frontier
            return redirect(f"{reverse('candidate:items', args=[position])}?page={target}")
        flow.close(attempt)
    return redirect(Candidate(candidate.invitation).next_url())


@candidate_view(rate="CANDIDATE_ANSWER_RATE_LIMIT")
@require_POST
def answer(request, candidate: Candidate, position: int):
    """Autosave one answer: JSON {item, value, page, seconds} -> JSON progress."""
    if len(request.body) > MAX_JSON_BODY:
        return json_error(413, "too_large", "The request is too large.")
    if not wants_json(request):
        return json_error(415, "json_only", "Send the answer as application/json.")
    try:
        data = json.loads(request.body)
        item_id, value, page = str(data["item"]), data["value"], data["page"]
    except (ValueError, KeyError, TypeError):
        return json_error(400, "malformed", "The answer could not be read.")
    test = candidate.test(position)
    if candidate.invitation.consented_at is None:
        return json_error(403, "no_consent", "Please agree to the privacy notice first.")
    if test is None or test is not candidate.current():
        return json_error(409, "not_current", "This test is not the one in progress.",
                          redirect=candidate.next_url())
    layout = candidate.layouts[position]
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=test.attempt.pk)
        attempt.invitation = candidate.invitation
        try:
            flow.save_answers(attempt, layout, {item_id: value}, page=page,
                              seconds={item_id: data.get("seconds")})
        except flow.AnswerError as exc:
            extra = {}
            if exc.code in ("deadline_passed", "attempt_closed"):
                extra["redirect"] = Candidate(candidate.invitation).next_url()
            return json_error(exc.status, exc.code, exc.message, **extra)
        answered_test = Response.objects.filter(attempt=attempt).count()
    return JsonResponse({
        "saved": True, "item": item_id, "answered": answered_test, "items": layout.n_items,
        "answered_total": candidate.answered_total(), "total_items": candidate.total_items,
        "remaining": flow.remaining_seconds(attempt),
    })


@candidate_view(allow_completed=True)
@require_GET
def done(request, candidate: Candidate):
    if candidate.invitation.status != InvitationStatus.COMPLETED:
        return redirect(candidate.next_url())
    return render(request, "assessments/done.html", {
        "c": candidate, "org": candidate.org, "invitation": candidate.invitation})
