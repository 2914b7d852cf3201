"""The pieces of a whole Assay on one box, for the end-to-end tests and bench/lever_webhooks.py.

- `SmtpCapture`: a real SMTP server (aiosmtpd, a dev dependency) on a free loopback port that
  keeps every message it is handed.
- `WebServer`: gunicorn serving `config.wsgi` in a subprocess on a free loopback port, started
  with `tests.e2e.web_settings` (the project settings with plain static storage, exactly what the
  in-process tests use, so no collectstatic is needed), stopped with `stop()`.
- `Browser`: a `requests.Session` that speaks our forms (CSRF token from the page).
- `oauth_connect`, `save_mapping`, `take_assessment`: what an admin and a candidate do, over HTTP.

Only loopback addresses are ever contacted.
"""

from __future__ import annotations

import email
import html
import random
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"https?://[^\s\"'<>]+/a/([A-Za-z0-9_-]{20,128})")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# -- SMTP --------------------------------------------------------------------------------------

class _Handler:
    def __init__(self, capture: SmtpCapture):
        self.capture = capture

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.capture.lock:
            self.capture.messages.append(message)
            self.capture.received_at.append(time.monotonic())
            self.capture.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


class SmtpCapture:
    """A real SMTP server that keeps what it receives (`messages`, `recipients`)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.received_at: list[float] = []
        self.port = free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpCapture:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m, r in zip(self.messages, self.recipients, strict=True)
                    if address in r]


def candidate_link(message) -> str:
    """The /a/<token> link of an invitation email (from its plain-text part)."""
    text = message.get_body(("plain",)).get_content()
    found = LINK.search(text)
    assert found, f"no candidate link in the email:\n{text}"
    return found.group(0)


# -- the web server ------------------------------------------------------------------------------

class WebServer:
    """gunicorn on a free loopback port; `env` must carry DATABASE_URL, REDIS_URL, SITE_URL..."""

    def __init__(self, env: dict, port: int, *, workers: int = 2, threads: int = 1,
                 log_path: Path | None = None, access_log: Path | None = None,
                 access_format: str | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        args = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--graceful-timeout", "5", "--timeout", "60"]
        if threads > 1:  # gthread workers: requests overlap their database and Redis waits
            args += ["--threads", str(threads)]
        if access_log is not None:
            args += ["--access-logfile", str(access_log)]
            if access_format:
                args += ["--access-logformat", access_format]
        env = dict(env, DJANGO_SETTINGS_MODULE="tests.e2e.web_settings")
        out = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT)
        finally:
            if log_path:
                out.close()

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def wait_ready(self, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not answer /healthz:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- a browser -----------------------------------------------------------------------------------

class Browser(requests.Session):
    """A session against one base URL that can submit our CSRF-protected forms."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base = base_url.rstrip("/")

    def go(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        url = path if path.startswith("http") else self.base + path
        return self.request(method, url, **kwargs)

    @staticmethod
    def csrf(page: str) -> str:
        found = CSRF.search(page)
        assert found, "no CSRF token on the page"
        return found.group(1)

    def submit(self, page: requests.Response, path: str, data: dict,
               **kwargs) -> requests.Response:
        return self.go("POST", path, data={"csrfmiddlewaretoken": self.csrf(page.text), **data},
                       **kwargs)


def sign_in(browser: Browser, email_address: str, password: str) -> None:
    page = browser.go("GET", "/accounts/login/")
    assert page.status_code == 200, page.status_code
    done = browser.submit(page, "/accounts/login/", {"login": email_address,
                                                      "password": password})
    assert done.status_code == 200 and urlsplit(done.url).path.startswith("/admin"), (
        done.status_code, done.url)


def consent_in_fake_lever(authorize_url: str) -> str:
    """Press Approve on the fake Lever's consent page; return where it sends the browser."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200 and 'id="approve"' in page.text, page.text[:500]
    fields = {html.unescape(k): html.unescape(v) for k, v in
              re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text)}
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    answer = requests.post(base + action, data={**fields, "decision": "approve"},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.status_code
    return answer.headers["Location"]


def oauth_connect(browser: Browser) -> requests.Response:
    """Connect Lever sandbox (the fake) through the real OAuth round trip; return the page the
    callback lands on (the connection's admin page)."""
    start = browser.go("GET", "/integrations/lever/connect?sandbox=1", allow_redirects=False)
    assert start.status_code == 302, (start.status_code, start.text[:500])
    callback = consent_in_fake_lever(start.headers["Location"])
    assert callback.startswith(browser.base + "/integrations/lever/callback?"), callback
    landed = browser.go("GET", callback)
    assert landed.status_code == 200, landed.status_code
    return landed


def save_mapping(browser: Browser, connection, *, stage_id: str, tests: list[str],
                 expires: int = 14) -> requests.Response:
    """Add a stage mapping on the connection's admin page (the inline form)."""
    path = f"/admin/integrations/connection/{connection.pk}/change/"
    page = browser.go("GET", path)
    assert page.status_code == 200, page.status_code
    data = {"name": connection.name,
            "stage_mappings-TOTAL_FORMS": "1", "stage_mappings-INITIAL_FORMS": "0",
            "stage_mappings-MIN_NUM_FORMS": "0", "stage_mappings-MAX_NUM_FORMS": "1000",
            "stage_mappings-0-stage_id": stage_id, "stage_mappings-0-posting_id": "",
            "stage_mappings-0-expires_in_days": str(expires),
            "stage_mappings-0-is_active": "on",
            "stage_mappings-0-connection": str(connection.pk), "stage_mappings-0-id": ""}
    for i in range(5):
        data[f"stage_mappings-0-tests_{i}"] = tests[i] if i < len(tests) else ""
    saved = browser.submit(page, path, data, allow_redirects=False)
    assert saved.status_code == 302, saved.text[-3000:]
    return saved


_ITEMS_FORM = re.compile(r'<form[^>]*id="items-form".*?</form>', re.S)


def take_assessment(base_url: str, link: str, *, seed: int = 1, max_pages: int = 200) -> dict:
    """Open the emailed link and answer every item of every test with the plain form posts (no
    JavaScript), as a candidate would. Returns {item id: answer}."""
    rng = random.Random(seed)
    browser = Browser(base_url)
    welcome = browser.go("GET", link)
    assert welcome.status_code == 200 and 'name="consent"' in welcome.text, welcome.status_code
    page = browser.submit(welcome, "/a/consent", {"consent": "on"})
    answers: dict[str, str] = {}
    for _ in range(max_pages):
        assert page.status_code == 200, (page.status_code, page.url, page.text[:1000])
        path = urlsplit(page.url).path
        if path == "/a/done":
            return answers
        if re.fullmatch(r"/a/t/\d+/", path):  # a test's introduction: start it
            page = browser.submit(page, path, {})
            continue
        assert re.fullmatch(r"/a/t/\d+/items", path), page.url
        form = _ITEMS_FORM.search(page.text).group(0)
        choices: dict[str, list[str]] = {}
        for name, value in re.findall(r'<input type="radio" name="([^"]+)" id="[^"]*" '
                                      r'value="([^"]+)"', form):
            choices.setdefault(html.unescape(name), []).append(html.unescape(value))
        number = re.search(r'<input type="hidden" name="page" value="(\d+)">', form).group(1)
        picked = {name: rng.choice(values) for name, values in choices.items()}
        answers.update(picked)
        page = browser.submit(page, path, {"page": number, "action": "next", **picked})
    raise AssertionError("the assessment did not finish")


# --- partner ATSes (Greenhouse, Ashby, Workable) ------------------------------------------------

@contextmanager
def partner_services(request, monkeypatch, tmp_path):
    """What every partner ATS's end-to-end stack shares: an SMTP capture, the real Celery worker
    and gunicorn on a free port, both given SITE_URL and EMAIL_URL. Yields (web, smtp); the test
    then starts its ATS's fake with `partner_url=f"{web.url}/integrations/<ats>"`."""
    from tests.conftest import subprocess_env

    smtp = SmtpCapture().start()
    port = free_port()
    for name, value in {"SITE_URL": f"http://127.0.0.1:{port}", "EMAIL_URL": smtp.url,
                        "DEBUG": "false"}.items():
        monkeypatch.setenv(name, value)  # read by subprocess_env(): web and worker alike
    web = None
    try:
        request.getfixturevalue("celery_worker")  # flushes the test Redis first
        web = WebServer(subprocess_env(), port, log_path=tmp_path / "gunicorn.log")
        web.wait_ready()
        yield web, smtp
    finally:
        if web is not None:
            web.stop()
        smtp.stop()


def fake_control(fake, method: str, path: str, body: dict | None = None) -> dict:
    """Call a fake ATS's /_control API; any non-2xx fails the test with the fake's answer."""
    response = requests.request(method, f"{fake.url}/_control/{path}", json=body, timeout=30)
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json()
