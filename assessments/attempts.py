"""The candidate's work on a test: page layout, starting, saving answers, deadlines, closing.

HTTP-free so that the views, the sweeper and the tests share one set of rules:
- a test's items are shown in fixed pages of PAGE_SIZE, in catalog order; the candidate may go
  back to any earlier page but not skip ahead of the first page with an unanswered item;
- an answer is validated completely (known item, on the page being answered, allowed code) before
  anything is written, and saved as an upsert per item, so nothing already saved is ever lost;
- a timed test's deadline is the server's (`deadline_at`, from the catalog's time limit plus the
  invitation's extra time); answers arriving after it (plus a few seconds' grace for the network)
  are refused and the attempt is closed and scored with what was saved;
- closing an attempt scores it (results.record_result) in the same transaction, and closing the
  last one completes the invitation.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tenants.context import tenant_context

from . import invitations
from .models import (
    Attempt,
    AttemptStatus,
    CatalogTest,
    Invitation,
    InvitationStatus,
    Response,
)
from .results import record_result

PAGE_SIZE = 5
DEADLINE_GRACE_SECONDS = 3
MAX_ITEM_SECONDS = 3600.0
LIKERT, CHOICE = "likert", "choice"


class AnswerError(Exception):
    """An answer refused: `status` is the HTTP status, `code` stable, `message` for people."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# Layout ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    code: str
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    options: tuple[Option, ...]
    number: int


@dataclass(frozen=True)
class Layout:
    catalog_test_id: int
    slug: str
    name: str
    kind: str
    instructions: str
    example: Item | None
    example_answer: str
    time_limit_seconds: int | None
    estimated_minutes: int | None
    items: tuple[Item, ...]
    pages: tuple[tuple[Item, ...], ...]
    index: dict = field(repr=False)
    page_of: dict = field(repr=False)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_pages(self) -> int:
        return len(self.pages)


_layouts: dict[tuple[int, str], Layout] = {}
_layouts_lock = threading.Lock()


def layout_for(catalog_test: CatalogTest) -> Layout:
    """The test's pages and allowed codes; cached per version (catalog versions are immutable
    once referenced), so an item page does not parse the catalog JSON again."""
    key = (catalog_test.pk, catalog_test.content_hash)
    layout = _layouts.get(key)
    if layout is None:
        definition = CatalogTest.objects.values_list("definition", flat=True).get(
            pk=catalog_test.pk)
        layout = build_layout(catalog_test.pk, definition)
        with _layouts_lock:
            _layouts[key] = layout
    return layout


def build_layout(catalog_test_id: int, definition: dict) -> Layout:
    response_format = definition.get("response_format") or {}
    likert = str(response_format.get("type", "")).startswith("likert_")
    scale = tuple(Option(str(o["value"]), str(o["label"]))
                  for o in response_format.get("options", [])) if likert else ()

    def make(raw: dict, number: int) -> Item:
        if likert:
            return Item(str(raw["id"]), raw.get("text", ""), scale, number)
        options = tuple(Option(str(o["key"]), str(o["text"])) for o in raw.get("options", []))
        return Item(str(raw["id"]), raw.get("stem") or raw.get("text", ""), options, number)

    items = tuple(make(raw, n) for n, raw in enumerate(definition["items"], start=1))
    pages = tuple(items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE))
    example_raw = definition.get("example_item")
    example, example_answer = None, ""
    if example_raw:
        example = make(example_raw, 0)
        answer = example_raw.get("answer")
        if answer is not None:
            text = next((o.label for o in example.options if o.code == str(answer)), "")
            example_answer = f"{answer}: {text}" if text else str(answer)
    return Layout(
        catalog_test_id=catalog_test_id, slug=definition["slug"], name=definition["name"],
        kind=LIKERT if likert else CHOICE, instructions=definition.get("instructions", ""),
        example=example, example_answer=example_answer,
        time_limit_seconds=definition.get("time_limit_seconds"),
        estimated_minutes=definition.get("estimated_minutes"), items=items, pages=pages,
        index={item.id: item for item in items},
        page_of={item.id: n for n, page in enumerate(pages, start=1) for item in page})


# Reading state -----------------------------------------------------------------------------------

def answered(attempt: Attempt) -> dict[str, str]:
    return dict(Response.objects.filter(attempt=attempt).values_list("item_id", "value"))


def frontier_page(layout: Layout, answers: dict[str, str]) -> int | None:
    """The first page with an unanswered item (None when every item is answered)."""
    for number, page in enumerate(layout.pages, start=1):
        if any(item.id not in answers for item in page):
            return number
    return None


def remaining_seconds(attempt: Attempt, now=None) -> float | None:
    if attempt.deadline_at is None:
        return None
    return max(0.0, (attempt.deadline_at - (now or timezone.now())).total_seconds())


def is_overdue(attempt: Attempt, now=None) -> bool:
    if attempt.deadline_at is None or attempt.is_closed:
        return False
    grace = timedelta(seconds=DEADLINE_GRACE_SECONDS)
    return (now or timezone.now()) > attempt.deadline_at + grace


def time_allowed(time_limit_seconds: int | None, extra_time_percent: int) -> int | None:
    if not time_limit_seconds:
        return None
    return math.ceil(time_limit_seconds * (100 + extra_time_percent) / 100)


# Changing state (callers hold a transaction and have locked the attempt) ------------------------

def start(attempt: Attempt, layout: Layout, *, now=None) -> None:
    """Begin a pending attempt: stamp it, set its deadline, mark the invitation started."""
    if attempt.status != AttemptStatus.PENDING:
        return
    now = now or timezone.now()
    invitation = attempt.invitation
    attempt.status = AttemptStatus.IN_PROGRESS
    attempt.started_at = now
    allowed = time_allowed(layout.time_limit_seconds, invitation.extra_time_percent)
    attempt.deadline_at = now + timedelta(seconds=allowed) if allowed else None
    attempt.save(update_fields=["status", "started_at", "deadline_at"])
    if invitation.status == InvitationStatus.OPENED:
        invitations.set_status(invitation, InvitationStatus.STARTED, now=now)


def _code(value) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) <= 20:
        return value.strip()
    return None


def _seconds(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return min(max(number, 0.0), MAX_ITEM_SECONDS)


def save_answers(attempt: Attempt, layout: Layout, answers: dict, *, page: int,
                 seconds: dict | None = None, now=None) -> int:
    """Validate then upsert `answers` ({item id: code}) given on `page`; return how many changed.

    Raises AnswerError (nothing written) for: a closed attempt, a passed deadline (the attempt
    is then closed and scored), a page out of range or ahead of the first unanswered page, an
    item not on that page or not in the test, a code the item does not allow.
    """
    now = now or timezone.now()
    if attempt.is_closed:
        raise AnswerError(409, "attempt_closed",
                          "This test is already finished, so answers can no longer be changed.")
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise AnswerError(409, "attempt_not_started", "This test has not been started yet.")
    if is_overdue(attempt, now):
        close(attempt, now=now, timed_out=True)
        raise AnswerError(409, "deadline_passed",
                          "Time is up for this test, so this answer was not saved. "
                          "Your earlier answers are kept.")
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= layout.n_pages:
        raise AnswerError(400, "bad_page", "That page does not exist in this test.")
    existing = answered(attempt)
    frontier = frontier_page(layout, existing)
    if frontier is not None and page > frontier:
        raise AnswerError(400, "page_ahead",
                          "Please answer the earlier questions first.")
    on_page = {item.id for item in layout.pages[page - 1]}
    cleaned: dict[str, str] = {}
    for item_id, value in answers.items():
        if item_id not in layout.index:
            raise AnswerError(400, "unknown_item", f"Question {item_id!r} is not in this test.")
        if item_id not in on_page:
            raise AnswerError(400, "item_not_on_page",
                              f"Question {item_id!r} is not on this page.")
        code = _code(value)
        allowed = {o.code for o in layout.index[item_id].options}
        if code not in allowed:
            raise AnswerError(400, "invalid_value",
                              f"{value!r} is not one of the answers allowed for question "
                              f"{layout.index[item_id].number}.")
        cleaned[item_id] = code
    changed = {i: c for i, c in cleaned.items() if existing.get(i) != c}
    if not changed:
        return 0
    per_item = {}
    if seconds:
        per_item = {i: s for i, s in ((i, _seconds(seconds.get(i))) for i in changed)
                    if s is not None}
    missing = [i for i in changed if i not in per_item]
    if missing:
        # No client timing (a form post without JavaScript): share the time since the last
        # answer (or the start) between the answers of this post.
        last = Response.objects.filter(attempt=attempt).aggregate(t=Max("answered_at"))["t"]
        since = (now - max(filter(None, [last, attempt.started_at]))).total_seconds()
        estimate = min(max(since / len(changed), 0.0), MAX_ITEM_SECONDS)
        per_item.update({i: estimate for i in missing})
    rows = [Response(org_id=attempt.org_id, attempt=attempt, item_id=i, value=c,
                     answered_at=now, seconds=per_item[i]) for i, c in changed.items()]
    Response.objects.bulk_create(rows, update_conflicts=True,
                                 unique_fields=["attempt", "item_id"],
                                 update_fields=["value", "answered_at", "seconds"])
    return len(rows)


def close(attempt: Attempt, *, now=None, timed_out: bool = False):
    """Close and score an in-progress attempt; complete the invitation after its last test."""
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return None
    now = now or timezone.now()
    if timed_out and attempt.deadline_at is not None:
        # The attempt ended at its deadline, whenever we noticed.
        now = min(now, attempt.deadline_at)
    attempt.status = AttemptStatus.TIMED_OUT if timed_out else AttemptStatus.COMPLETED
    attempt.completed_at = max(now, attempt.started_at)
    with transaction.atomic():
        attempt.save(update_fields=["status", "completed_at"])
        result = record_result(attempt)
        invitation = Invitation.objects.select_for_update().get(pk=attempt.invitation_id)
        attempt.invitation = invitation
        still_open = invitation.attempts.filter(
            status__in=[AttemptStatus.PENDING, AttemptStatus.IN_PROGRESS]).exists()
        if not still_open and invitation.status == InvitationStatus.STARTED:
            invitations.set_status(invitation, InvitationStatus.COMPLETED, now=now)
    return result


def close_overdue_attempts(org, *, now=None) -> int:
    """Close and score timed attempts whose deadline passed while nobody was answering."""
    now = now or timezone.now()
    grace = timedelta(seconds=DEADLINE_GRACE_SECONDS)
    count = 0
    with tenant_context(org):
        due = list(Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS,
                                          deadline_at__lt=now - grace)
                   .values_list("pk", flat=True))
        for pk in due:
            with transaction.atomic():
                attempt = (Attempt.objects.select_for_update()
                           .select_related("invitation__candidate", "invitation_test")
                           .get(pk=pk))
                if is_overdue(attempt, now):
                    close(attempt, now=now, timed_out=True)
                    count += 1
    return count
