"""Browser tests: Playwright (the pip package) driving Debian's Chromium at /usr/bin/chromium.

Locally, without Chromium, these tests skip and say how to install it; in CI (`CI` set) a
missing Chromium is a failure, because .ci/run installs it. Playwright's own browser downloads
are never used (`playwright install` is not needed).

The pages are served by pytest-django's live server (a real threaded WSGI server in this
process, on the test database as the application role, static files from the finders).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("ASSAY_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}



def _missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return (f"Chromium not found at {CHROMIUM}: install it with "
                "`sudo apt-get update && sudo apt-get install -y chromium` (Debian/Ubuntu) "
                "to run the browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: `pip install -e '.[dev]'`"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while it is open; Django refuses
    # ORM calls from a thread with a running loop unless told it is deliberate (the ORM still
    # runs synchronously here). Module scope: the loop is gone before other test modules run.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                         headless=True)
            yield chromium
            chromium.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def site(live_server, settings):
    settings.CANDIDATE_TOKEN_RATE_LIMIT = "100000/m"
    settings.CANDIDATE_ANSWER_RATE_LIMIT = "100000/m"
    settings.ALLOWED_HOSTS = ["*"]
    return live_server.url


@pytest.fixture
def phone(browser, site):
    """A fresh phone-sized browser context; every request must stay on the live server."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    foreign: list[str] = []
    context.on("request", lambda request: foreign.append(request.url)
               if not (request.url.startswith(site) or request.url.startswith("data:"))
               else None)
    context.foreign_requests = foreign
    yield context
    context.close()
    assert not foreign, f"third-party requests: {foreign}"


def random_email() -> str:
    return f"cand-{secrets.token_hex(4)}@example.com"
