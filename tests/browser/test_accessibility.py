"""axe-core on every candidate page (zero violations, all rules), and reflow at 200 % zoom."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.invitations import cancel_invitation
from assessments.models import Attempt, Invitation
from tenants.context import tenant_context
from tests.browser.conftest import PHONE
from tests.browser.test_candidate_flow import ICAR, MINI, TIMED, catalog, invite  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def scan(page, name: str, scanned: list) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state()
    results = Axe().run(page)
    scanned.append(name)
    assert results.violations_count == 0, f"{name}: {page.url}\n{results.generate_report()}"
    # WCAG 1.4.10 reflow / 200 % zoom on a phone: half the width in CSS pixels, no sideways
    # scrolling.
    page.set_viewport_size({"width": PHONE["width"] // 2, "height": PHONE["height"] // 2})
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.set_viewport_size(PHONE)
    assert overflow <= 0, f"{name}: {overflow}px of horizontal scrolling at 200 % zoom"


def test_every_candidate_page_passes_axe(browser, site, org_a, catalog):  # noqa: F811
    scanned: list[str] = []
    context = browser.new_context(viewport=PHONE, reduced_motion="reduce")
    page = context.new_page()

    invitation, raw = invite(org_a, [MINI, ICAR])
    page.goto(f"{site}/a/{raw}")
    scan(page, "welcome", scanned)
    page.get_by_role("button", name="Agree and start").click()
    scan(page, "welcome with a consent error", scanned)
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_role("button", name="Agree and start").click()
    scan(page, "test introduction (Likert practice item)", scanned)
    page.get_by_role("button", name="Start the test").click()
    scan(page, "item page (Likert)", scanned)
    page.locator("fieldset.item").nth(0).locator("label.option").nth(2).click()
    page.locator("#items-form button[type=submit]").click()
    scan(page, "item page with unanswered questions flagged", scanned)
    with tenant_context(org_a):
        Attempt.objects.filter(invitation=invitation, invitation_test__position=1).update(
            status="completed", completed_at=timezone.now())
    page.goto(f"{site}/a/")
    scan(page, "test introduction (multiple-choice practice item)", scanned)
    page.get_by_role("button", name="Start the test").click()
    scan(page, "item page (multiple choice)", scanned)
    for _ in range(2):
        items = page.locator("fieldset.item")
        for n in range(items.count()):
            items.nth(n).locator("label.option").nth(1).click()
        with page.expect_navigation():
            page.locator("#items-form button[type=submit]").click()
    assert page.url == f"{site}/a/done"
    scan(page, "completion page", scanned)

    timed, raw_timed = invite(org_a, [TIMED])
    page.goto(f"{site}/a/{raw_timed}")
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_role("button", name="Agree and start").click()
    scan(page, "timed test introduction", scanned)
    page.get_by_role("button", name="Start the test").click()
    scan(page, "timed item page with countdown", scanned)
    with tenant_context(org_a):
        Attempt.objects.filter(invitation=timed).update(
            deadline_at=timezone.now() - timedelta(seconds=30))
    page.goto(f"{site}/a/t/1/items")
    scan(page, "time is up", scanned)

    expired, raw_expired = invite(org_a, [MINI])
    with tenant_context(org_a):
        Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    cancelled, raw_cancelled = invite(org_a, [MINI])
    cancel_invitation(cancelled)
    for name, url in (("expired link", f"/a/{raw_expired}"),
                      ("cancelled link", f"/a/{raw_cancelled}"),
                      ("used link", f"/a/{raw}"),
                      ("unknown link", "/a/" + "N" * 43)):
        response = page.goto(f"{site}{url}")
        assert response.status in (404, 410)
        scan(page, name, scanned)
    fresh = browser.new_context(viewport=PHONE)
    other = fresh.new_page()
    assert other.goto(f"{site}/a/").status == 403
    scan(other, "session ended", scanned)
    fresh.close()
    context.close()
    assert len(scanned) == 16
