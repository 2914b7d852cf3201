"""The candidate flow in a real browser (Chromium): phone-sized completion with autosave,
resume on another device, a timed test running out, and keyboard-only completion."""

from __future__ import annotations

import re

import pytest

from assessments.invitations import create_invitation
from assessments.models import Attempt, AttemptStatus, Invitation, Response, Result
from tenants.context import tenant_context
from tests.browser.conftest import PHONE, random_email
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db(transaction=True)

MINI = "big-five-mini-ipip-20"
ICAR = "cognitive-reasoning-icar16"
TIMED = "icar16-browser-timed"
SHOTS = "/tmp"


@pytest.fixture
def catalog(transactional_db):
    return {"mini": catalog_test(MINI), "icar": catalog_test(ICAR),
            "timed": catalog_test(ICAR, slug=TIMED, name="Timed reasoning",
                                  time_limit_seconds=15)}


def invite(org, tests, **kwargs):
    return create_invitation(org, candidate={"email": random_email(), "first_name": "Ada"},
                             tests=tests, source="manual", send_email=False, **kwargs)


def expect():
    from playwright.sync_api import expect as _expect

    return _expect


def answers(org, invitation):
    with tenant_context(org):
        return dict(Response.objects.filter(attempt__invitation=invitation)
                    .values_list("item_id", "value"))


def answer_page(page, option_index: int) -> int:
    """Answer every item on the page by tapping an option's label; wait until autosaved."""
    fieldsets = page.locator("fieldset.item")
    count = fieldsets.count()
    for n in range(count):
        fieldsets.nth(n).locator("label.option").nth(option_index).click()
    expect()(page.locator("#save-status")).to_have_text("Answer saved.")
    return count


def consent_and_start(page):
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_role("button", name="Agree and start").click()
    page.get_by_role("button", name="Start the test").click()


def test_full_completion_on_a_phone_with_autosave(phone, site, org_a, catalog):
    invitation, raw = invite(org_a, [MINI, ICAR], redirect_url="https://jobs.example/thanks")
    page = phone.new_page()
    page.goto(f"{site}/a/{raw}")
    assert page.url == f"{site}/a/"  # the token left the address bar
    expect()(page.get_by_role("heading", level=1)).to_have_text("Hello Ada")
    page.screenshot(path=f"{SHOTS}/assay-welcome.png", full_page=True)
    consent_and_start(page)

    expect()(page.get_by_role("heading", level=1)).to_contain_text("Questions 1–5 of 20")
    page.locator("fieldset.item").nth(0).locator("label.option").nth(3).click()
    page.locator("fieldset.item").nth(1).locator("label.option").nth(1).click()
    expect()(page.locator("#save-status")).to_have_text("Answer saved.")
    expect()(page.locator("#progress-test")).to_have_attribute("value", "2")
    page.screenshot(path=f"{SHOTS}/assay-items.png", full_page=False)
    # Autosaved before any button was pressed.
    assert answers(org_a, invitation) == {"MINI-01": "4", "MINI-02": "2"}

    while True:
        heading = page.get_by_role("heading", level=1)
        if "Thank you" in heading.inner_text():
            break
        if page.get_by_role("button", name="Start the test").count():
            with page.expect_navigation():
                page.get_by_role("button", name="Start the test").click()
            continue
        answer_page(page, 1)
        with page.expect_navigation():
            page.locator("#items-form button[type=submit]").click()
    expect()(page.get_by_role("link", name=re.compile("Continue to Alpha"))).to_have_attribute(
        "href", "https://jobs.example/thanks")
    page.screenshot(path=f"{SHOTS}/assay-done.png", full_page=True)
    assert page.url == f"{site}/a/done"
    with tenant_context(org_a):
        invitation = Invitation.objects.get(pk=invitation.pk)
        assert invitation.status == "completed"
        assert Result.objects.filter(invitation=invitation).count() == 2
        assert Response.objects.filter(attempt__invitation=invitation).count() == 28


def test_resume_after_closing_the_browser_mid_test(browser, site, org_a, catalog):
    invitation, raw = invite(org_a, [MINI])
    first = browser.new_context(viewport=PHONE)
    page = first.new_page()
    page.goto(f"{site}/a/{raw}")
    consent_and_start(page)
    answer_page(page, 4)
    with page.expect_navigation():
        page.locator("#items-form button[type=submit]").click()
    expect()(page.get_by_role("heading", level=1)).to_contain_text("Questions 6–10 of 20")
    page.locator("fieldset.item").nth(0).locator("label.option").nth(0).click()
    page.locator("fieldset.item").nth(1).locator("label.option").nth(2).click()
    expect()(page.locator("#progress-test")).to_have_attribute("value", "7")  # both saved
    first.close()  # the tab is gone; no button was pressed on page 2

    second = browser.new_context(viewport={"width": 1280, "height": 900})  # "another device"
    page = second.new_page()
    page.goto(f"{site}/a/{raw}")
    assert page.url == f"{site}/a/t/1/items"
    expect()(page.get_by_role("heading", level=1)).to_contain_text("Questions 6–10 of 20")
    expect()(page.locator('input[name="MINI-06"][value="1"]')).to_be_checked()
    expect()(page.locator('input[name="MINI-07"][value="3"]')).to_be_checked()
    expect()(page.locator('input[name="MINI-08"]:checked')).to_have_count(0)
    expect()(page.locator("#progress-test")).to_have_attribute("value", "7")
    second.close()
    assert len(answers(org_a, invitation)) == 7


def test_a_timed_test_runs_out_and_the_server_closes_it(phone, site, org_a, catalog):
    invitation, raw = invite(org_a, [TIMED])
    page = phone.new_page()
    page.goto(f"{site}/a/{raw}")
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_role("button", name="Agree and start").click()
    expect()(page.get_by_role("heading", name="This test is timed")).to_be_visible()
    page.get_by_role("button", name="Start the test").click()
    timer = page.locator("#timer-value")
    expect()(timer).to_have_text(re.compile(r"0:(1[0-5]|0\d)"))
    first = int(timer.inner_text().split(":")[1])
    page.locator("fieldset.item").nth(0).locator("label.option").nth(3).click()  # VR.04: D
    expect()(page.locator("#save-status")).to_have_text("Answer saved.")
    page.wait_for_timeout(1200)
    page.reload()  # time already used survives a reload
    assert int(timer.inner_text().split(":")[1]) < first
    expect()(page.locator('input[name="VR.04"][value="D"]')).to_be_checked()
    # The countdown reaches zero and submits; the server closes and scores the attempt.
    expect()(page.get_by_role("heading", level=1)).to_have_text("Time is up", timeout=30_000)
    with tenant_context(org_a):
        attempt = Attempt.objects.get(invitation=invitation)
        result = Result.objects.get(attempt=attempt)
        assert attempt.status == AttemptStatus.TIMED_OUT
        assert Invitation.objects.get(pk=invitation.pk).status == "completed"
    assert result.envelope["dimensions"][0]["items_answered"] == 1
    page.get_by_role("link", name="Continue").click()
    expect()(page.get_by_role("heading", level=1)).to_contain_text("Thank you")


def tab_to(page, condition: str, limit: int = 80) -> None:
    """Press Tab until `condition` (a JS expression over `el`, the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        script = f"(() => {{ const el = document.activeElement; return !!({condition}); }})()"
        if page.evaluate(script):
            return
    raise AssertionError(f"keyboard focus never reached: {condition}")


def focus_is_visible(page) -> bool:
    return page.evaluate("""(() => {
        const el = document.activeElement;
        const target = el.type === 'radio' ? el.closest('label') : el;
        const style = getComputedStyle(target);
        return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
    })()""")


def test_keyboard_only_completion(browser, site, org_a, catalog):
    invitation, raw = invite(org_a, [ICAR])
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{site}/a/{raw}")
    tab_to(page, "el.id === 'consent'")
    assert focus_is_visible(page)
    page.keyboard.press("Space")
    tab_to(page, "el.tagName === 'BUTTON'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/a/t/1/")
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Start the test')")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site}/a/t/1/items")
    for _ in range(2):  # two pages of items
        items = page.locator("fieldset.item input[type=radio]").evaluate_all(
            "els => [...new Set(els.map(e => e.name))]")
        for item in items:
            tab_to(page, f"el.name === {item!r}")
            assert focus_is_visible(page)
            page.keyboard.press("Space")  # choose option A
            page.keyboard.press("ArrowDown")  # move to and choose option B
        expect()(page.locator("#save-status")).to_have_text("Answer saved.")
        tab_to(page, "el.tagName === 'BUTTON' && el.type === 'submit'")
        assert focus_is_visible(page)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    expect()(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    context.close()
    saved = answers(org_a, invitation)
    assert len(saved) == 8 and set(saved.values()) == {"B"}


def test_completion_in_a_browser_without_javascript(browser, site, org_a, catalog):
    invitation, raw = invite(org_a, [ICAR])
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/a/{raw}")
    consent_and_start(page)
    assert page.locator("#timer").count() == 0
    page.locator("fieldset.item").nth(0).locator("label.option").nth(3).click()
    with page.expect_navigation():
        page.locator("#items-form button[type=submit]").click()  # the rest unanswered
    expect()(page.locator(".error")).to_contain_text("Please answer the highlighted questions")
    expect()(page.locator('input[name="VR.04"][value="D"]')).to_be_checked()  # kept
    for _ in range(2):
        items = page.locator("fieldset.item")
        for n in range(items.count()):
            items.nth(n).locator("label.option").nth(2).click()
        with page.expect_navigation():
            page.locator("#items-form button[type=submit]").click()
    expect()(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    context.close()
    saved = answers(org_a, invitation)
    assert len(saved) == 8 and saved["VR.04"] == "C"
    with tenant_context(org_a):
        assert Result.objects.filter(invitation=invitation).count() == 1
