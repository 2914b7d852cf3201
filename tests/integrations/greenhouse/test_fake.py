"""The fake Greenhouse against a stub partner: what it sends, what it hosts, what it flags.

The stub partner is a tiny threaded HTTP server answering canned good or bad responses; every
request it gets is kept so the tests can assert the fake's method, path, auth header and body.
Each rule of the brief gets a good answer that passes and a bad one recorded as a violation.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.fakekit import FakeServer, Request
from integrations.providers.greenhouse.fake import (
    DEFAULT_KEY,
    FakeGreenhouse,
    describe,
    run,
)
from tests.conftest import ROOT

BASIC = "Basic " + base64.b64encode(f"{DEFAULT_KEY}:".encode()).decode()
TESTS = [{"partner_test_id": "big-five", "partner_test_name": "Big Five"},
         {"partner_test_id": "numerical", "partner_test_name": "Numerical reasoning"}]
COMPLETE = {"partner_status": "complete", "partner_profile_url": "https://assay.example/r/1",
            "partner_score": 81,
            "metadata": {"Extraversion": 66, "Started At": "2024-03-26T10:15:00Z",
                         "Passed": True, "Note": None}}


# --- The stub partner ----------------------------------------------------------------------------

class StubPartner(ThreadingHTTPServer):
    """Answers ``answers[<last path segment>]``: (status, body); body may be a callable."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[dict] = []
        self.answers: dict[str, tuple[int, Any]] = {
            "list_tests": (200, TESTS),
            "send_test": (200, lambda req: {"partner_interview_id": f"iv-{len(self.requests)}"}),
            "test_status": (200, COMPLETE),
            "response_error": (200, {"status": 200}),
        }

    def calls(self, name: str) -> list[dict]:
        return [r for r in self.requests if r["path"].rsplit("/", 1)[-1] == name]


class _StubHandler(BaseHTTPRequestHandler):
    server: StubPartner

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                   "authorization": self.headers.get("Authorization"), "raw": raw,
                   "content_type": self.headers.get("Content-Type"),
                   "json": json.loads(raw) if raw else None}
        self.server.requests.append(request)
        status, body = self.server.answers.get(parts.path.rsplit("/", 1)[-1], (404, None))
        if callable(body):
            body = body(request)
        payload = body if isinstance(body, bytes) else b"" if body is None else json.dumps(
            body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def partner() -> Iterator[StubPartner]:
    stub = StubPartner()
    thread = threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield stub
    stub.shutdown()
    stub.server_close()
    thread.join(5)


@pytest.fixture
def fake(partner: StubPartner) -> Iterator[FakeServer]:
    server = run(partner_url=f"{partner.url}/gh/", status_read_delay=0)
    yield server
    server.stop()


def control(server: FakeServer, method: str, path: str, body: dict | None = None,
            status: int = 200) -> dict:
    response = requests.request(method, f"{server.url}/_control/{path}", json=body, timeout=10)
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def state(server: FakeServer) -> dict:
    return control(server, "GET", "state")


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail("condition not met in time")


def sent(fake: FakeServer, **body: Any) -> dict:
    """Send a test and return the control answer (the partner must have answered well)."""
    answer = control(fake, "POST", "send_test", {"partner_test_id": "big-five", **body})
    assert answer["errors"] == [], answer
    return answer


def patch(take_home: dict, *, auth: tuple[str, str] | None = (DEFAULT_KEY, ""),
          **kwargs: Any) -> requests.Response:
    return requests.patch(take_home["url"], auth=auth, timeout=10, **kwargs)


def violations(fake: FakeServer, call: str | None = None) -> list[str]:
    return [e for v in state(fake)["violations"] if call in (None, v["call"]) for e in v["errors"]]


# --- Running it ----------------------------------------------------------------------------------

def test_run_and_describe(partner):
    server = run(partner_url=partner.url, key="org-key-1")
    try:
        lines = describe(server)
        assert lines[0].startswith(f"Fake Greenhouse on {server.url}")
        assert "key=org-key-1" in lines[1]
        assert f"partner_url={partner.url}" in lines[2]
        config = state(server)["config"]
        assert config["effective_urls"] == {
            name: f"{partner.url}/{name}"
            for name in ("list_tests", "send_test", "test_status", "response_error")}
    finally:
        server.stop()
    unset = run()
    try:
        assert "not set" in describe(unset)[2]
        assert state(unset)["config"]["key"] == DEFAULT_KEY
        refused = requests.post(f"{unset.url}/_control/list_tests", timeout=5)
        assert refused.status_code == 409
        assert "partner_url" in refused.json()["errors"][0]["message"]
    finally:
        unset.stop()


def test_the_cli_prints_the_url_and_key_and_stops_on_ctrl_c(partner):
    proc = subprocess.Popen(
        [sys.executable, "-m", "integrations.providers.greenhouse.fake", "--port", "0",
         "--partner-url", partner.url], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("Fake Greenhouse on http://127.0.0.1:")
        url = first.split()[3]
        assert f"key={DEFAULT_KEY}" in proc.stdout.readline()
        assert requests.get(f"{url}/_control/state", timeout=5).json()["config"][
            "partner_url"] == partner.url
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_configure_checks_the_key_and_urls(fake, partner):
    assert control(fake, "POST", "configure", {"key": "k" * 170})["config"]["key"] == "k" * 170
    too_long = control(fake, "POST", "configure", {"key": "k" * 171}, status=400)
    assert "under 171" in too_long["errors"][0]["message"]
    control(fake, "POST", "configure", {"key": "a:b"}, status=400)
    control(fake, "POST", "configure", {"key": ""}, status=400)
    control(fake, "POST", "configure", {"partner_url": "ftp://x"}, status=400)
    control(fake, "POST", "configure", {"urls": {"nope": "http://x"}}, status=400)
    control(fake, "POST", "configure", {"patch_status": 404}, status=400)
    control(fake, "POST", "configure", {"colour": "blue"}, status=400)
    config = control(fake, "POST", "configure", {
        "urls": {"test_status": f"{partner.url}/other/test_status"}})["config"]
    assert config["effective_urls"]["test_status"] == f"{partner.url}/other/test_status"
    assert config["effective_urls"]["send_test"] == f"{partner.url}/gh/send_test"
    assert state(fake)["config"]["key"] == "k" * 170  # refused changes changed nothing
    config = control(fake, "POST", "configure", {"urls": {"test_status": None}})["config"]
    assert config["effective_urls"]["test_status"] == f"{partner.url}/gh/test_status"


def test_reset_clears_the_data_and_keeps_the_configuration_unless_asked(fake, partner):
    control(fake, "POST", "configure", {"key": "other"})
    control(fake, "POST", "list_tests")
    assert state(fake)["tests"] and state(fake)["exchanges"]
    control(fake, "POST", "reset")
    now = state(fake)
    assert now["tests"] == [] and now["exchanges"] == [] and now["config"]["key"] == "other"
    control(fake, "POST", "reset", {"config": True})
    assert state(fake)["config"]["key"] == DEFAULT_KEY
    assert state(fake)["config"]["partner_url"] == f"{partner.url}/gh"


# --- list_tests ----------------------------------------------------------------------------------

def test_list_tests_sends_basic_key_and_stores_a_bare_array(fake, partner):
    answer = control(fake, "POST", "list_tests")
    assert answer == {"status": 200, "body": TESTS, "errors": [], "tests": TESTS}
    [request] = partner.requests
    assert request["method"] == "GET" and request["path"] == "/gh/list_tests"
    assert request["authorization"] == BASIC and request["raw"] == b""
    now = state(fake)
    assert now["tests"] == TESTS and now["violations"] == []
    assert now["exchanges"][0]["call"] == "list_tests"
    assert now["exchanges"][0]["authorization"] == BASIC


@pytest.mark.parametrize(("body", "error"), [
    ({"partner_test_ids": TESTS}, "bare JSON array, not an object"),
    ("just a string", "must answer a JSON array"),
    ([{"partner_test_id": 12345, "partner_test_name": "X"}], "partner_test_id must be a non-empty"),
    ([{"partner_test_id": "a"}], "partner_test_name must be a non-empty string"),
    ([{"partner_test_id": "", "partner_test_name": "X"}], "partner_test_id must be a non-empty"),
    (["big-five"], "item 0 is not an object"),
    ([TESTS[0], TESTS[0]], "listed twice"),
    (b"<html>", "not JSON"),
])
def test_list_tests_violations_are_recorded_and_reported(fake, partner, body, error):
    partner.answers["list_tests"] = (200, body)
    answer = control(fake, "POST", "list_tests")
    assert any(error in e for e in answer["errors"]), answer["errors"]
    assert violations(fake, "list_tests") == answer["errors"]
    [report] = partner.calls("response_error")
    assert report["method"] == "POST" and report["authorization"] == BASIC
    assert report["json"]["api_call"] == "list_tests"
    assert report["json"]["errors"] == answer["errors"]


def test_a_refusal_is_a_violation_unless_expected(fake, partner):
    partner.answers["list_tests"] = (401, {"error": "bad key"})
    assert control(fake, "POST", "list_tests")["errors"] == ["expected HTTP 200, got 401"]
    assert len(violations(fake)) == 1
    answer = control(fake, "POST", "list_tests", {"expect": 401})
    assert answer["status"] == 401 and answer["errors"] == []
    assert len(violations(fake)) == 1


def test_an_unreachable_partner_is_a_violation(fake):
    control(fake, "POST", "configure", {"partner_url": "http://127.0.0.1:9/gh", "timeout": 2})
    answer = control(fake, "POST", "list_tests")
    assert answer["status"] is None and "no HTTP answer" in answer["errors"][0]


def test_report_errors_can_be_switched_off(fake, partner):
    control(fake, "POST", "configure", {"report_errors": False})
    partner.answers["list_tests"] = (200, {"partner_test_ids": TESTS})
    assert control(fake, "POST", "list_tests")["errors"]
    assert partner.calls("response_error") == []


# --- send_test -----------------------------------------------------------------------------------

def test_send_test_posts_the_full_body_and_keeps_a_take_home_test(fake, partner):
    answer = sent(fake, sent_by="recruiter@customer.example")
    [request] = partner.calls("send_test")
    assert request["method"] == "POST" and request["path"] == "/gh/send_test"
    assert request["authorization"] == BASIC
    assert request["content_type"] == "application/json"
    body = request["json"]
    assert set(body) == {"partner_test_id", "candidate", "sent_by", "url"}
    assert body["partner_test_id"] == "big-five" and body["sent_by"] == "recruiter@customer.example"
    candidate = body["candidate"]
    assert set(candidate) == {"first_name", "last_name", "preferred_name", "email", "phone_number",
                              "resume_url", "greenhouse_profile_url"}
    assert candidate["preferred_name"] is None  # missing values are null, not left out
    assert "?expires=" in candidate["resume_url"]
    now = state(fake)
    [person], [application] = now["candidates"], now["applications"]
    assert candidate["greenhouse_profile_url"] == (
        f"{fake.url}/people/{person['id']}?application_id={application['id']}")
    [take_home] = now["take_home_tests"]
    assert body["url"] == f"{fake.url}/integrations/testing_partners/take_home_tests/" \
                          f"{take_home['id']}"
    assert take_home["partner_interview_id"] == answer["body"]["partner_interview_id"]
    assert {k: take_home[k] for k in ("partner_test_id", "application_id", "url", "status",
                                      "result", "patches", "status_reads")} == {
        "partner_test_id": "big-five", "application_id": application["id"], "url": body["url"],
        "status": None, "result": None, "patches": [], "status_reads": []}
    assert take_home["candidate"] == candidate and answer["take_home_test"]["id"] == take_home["id"]
    assert now["violations"] == []
    # The links it hands out work: the profile page and the resume (until it expires).
    assert requests.get(candidate["greenhouse_profile_url"], timeout=5).status_code == 200
    assert requests.get(candidate["resume_url"], timeout=5).status_code == 200
    expired = candidate["resume_url"].split("?")[0] + "?expires=1000"
    assert requests.get(expired, timeout=5).status_code == 410


def test_send_test_overrides_and_extra_fields(fake, partner):
    sent(fake, candidate={"first_name": "Ada", "email": "ada@example.com", "phone_number": None},
         sent_by=None, extra={"new_greenhouse_field": 1})
    body = partner.calls("send_test")[0]["json"]
    assert body["candidate"]["first_name"] == "Ada"
    assert body["candidate"]["email"] == "ada@example.com"
    assert body["candidate"]["phone_number"] is None and body["sent_by"] is None
    assert body["new_greenhouse_field"] == 1


def test_send_test_again_for_the_same_application_reuses_the_take_home_test(fake, partner):
    partner.answers["send_test"] = (200, {"partner_interview_id": "iv-same"})
    first = sent(fake)
    application_id = first["take_home_test"]["application_id"]
    again = sent(fake, application_id=application_id)
    assert again["resent"] is True and again["same_partner_interview_id"] is True
    assert again["take_home_test"]["id"] == first["take_home_test"]["id"]
    one, two = (c["json"] for c in partner.calls("send_test"))
    assert one == two  # a retry or a double click looks exactly the same
    other = sent(fake, application_id=str(application_id), partner_test_id="numerical")
    assert other["resent"] is False and other["take_home_test"]["id"] != first["take_home_test"][
        "id"]
    assert other["request"]["candidate"] == one["candidate"]
    assert len(state(fake)["take_home_tests"]) == 2
    partner.answers["send_test"] = (200, {"partner_interview_id": "iv-new"})
    assert sent(fake, application_id=application_id)["same_partner_interview_id"] is False
    control(fake, "POST", "send_test", {"partner_test_id": "big-five", "application_id": 1},
            status=404)
    control(fake, "POST", "send_test", {}, status=400)


@pytest.mark.parametrize(("body", "error"), [
    ({"partner_interview_id": 98765}, "partner_interview_id must be a non-empty string"),
    ({"partner_interview_id": ""}, "partner_interview_id must be a non-empty string"),
    ({"id": "98765"}, "partner_interview_id must be a non-empty string"),
    (["98765"], "must answer a JSON object"),
])
def test_send_test_violations(fake, partner, body, error):
    partner.answers["send_test"] = (200, body)
    answer = control(fake, "POST", "send_test", {"partner_test_id": "big-five"})
    assert len(answer["errors"]) == 1 and error in answer["errors"][0]
    assert answer["take_home_test"]["partner_interview_id"] is None
    [violation] = state(fake)["violations"]
    assert violation["call"] == "send_test" and violation["partner_test_id"] == "big-five"
    [report] = partner.calls("response_error")
    assert report["json"]["api_call"] == "send_test"
    assert report["json"]["candidate_email"] == answer["request"]["candidate"]["email"]


def test_send_test_may_expect_a_refusal(fake, partner):
    partner.answers["send_test"] = (404, {"error": "unknown test"})
    answer = control(fake, "POST", "send_test", {"partner_test_id": "nope", "expect": 404})
    assert answer["errors"] == [] and state(fake)["violations"] == []


# --- The completion PATCH and the status read after it -------------------------------------------

def test_patch_answers_with_no_body_then_reads_test_status(fake, partner):
    take_home = sent(fake)["take_home_test"]
    response = patch(take_home)
    assert response.status_code == 200 and response.content == b""
    done = wait_for(lambda: [t for t in state(fake)["take_home_tests"]
                             if t["status"] == "complete"])
    [read] = partner.calls("test_status")
    assert read["method"] == "GET" and read["path"] == "/gh/test_status"
    assert read["authorization"] == BASIC
    assert read["query"] == {"partner_interview_id": [take_home["partner_interview_id"]]}
    record = done[0]
    assert record["result"] == {k: COMPLETE[k] for k in (
        "partner_profile_url", "partner_score", "metadata")}
    assert len(record["patches"]) == 1 and record["status_reads"][0]["trigger"] == "patch"
    assert record["status_reads"][0]["done"] is True
    received = state(fake)["received"]
    assert [(r["method"], r["status"]) for r in received] == [("PATCH", 200)]
    assert state(fake)["violations"] == [] and partner.calls("response_error") == []
    page = requests.get(f"{fake.url}/", timeout=5).text
    assert 'href="https://assay.example/r/1"' in page and "score 81" in page


def test_patch_status_is_configurable(fake, partner):
    control(fake, "POST", "configure", {"patch_status": 204})
    take_home = sent(fake)["take_home_test"]
    assert patch(take_home).status_code == 204
    wait_for(lambda: partner.calls("test_status"))


def test_patch_checks_the_key_and_the_id(fake, partner):
    take_home = sent(fake)["take_home_test"]
    for auth in (None, ("wrong-key", ""), ("", DEFAULT_KEY)):
        refused = patch(take_home, auth=auth)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["message"].startswith("Invalid Basic Auth")
    bearer = requests.patch(take_home["url"], headers={"Authorization": f"Bearer {DEFAULT_KEY}"},
                            timeout=5)
    assert bearer.status_code == 401
    missing = patch({"url": take_home["url"].rsplit("/", 1)[0] + "/1"})
    assert missing.status_code == 404 and "not found" in missing.json()["errors"][0]["message"]
    assert [r["status"] for r in state(fake)["received"]] == [401, 401, 401, 401, 404]
    assert partner.calls("test_status") == []


def test_a_patch_with_a_body_or_password_is_accepted_but_flagged(fake, partner):
    take_home = sent(fake)["take_home_test"]
    assert patch(take_home, json={"status": "complete"}).status_code == 200
    assert any("has no body" in e for e in violations(fake, "patch"))
    assert patch(take_home, auth=(DEFAULT_KEY, "x")).status_code == 200
    assert any("password must be empty" in e for e in violations(fake, "patch"))
    wait_for(lambda: len(partner.calls("test_status")) == 2)


def test_only_patch_is_the_callback(fake, partner):
    take_home = sent(fake)["take_home_test"]
    response = requests.post(take_home["url"], auth=(DEFAULT_KEY, ""), timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "PATCH"
    assert violations(fake, "patch") == ["the completion callback is a PATCH, not POST"]
    assert requests.get(take_home["url"], timeout=5).status_code == 405
    assert len(violations(fake, "patch")) == 1  # a person opening the link is no violation


def test_a_violation_after_patch_is_posted_to_response_error(fake, partner):
    partner.answers["test_status"] = (200, {**COMPLETE, "partner_status": "completed"})
    take_home = sent(fake, candidate={"email": "hp@example.edu"})["take_home_test"]
    assert patch(take_home).status_code == 200
    report = wait_for(lambda: partner.calls("response_error"))[0]
    assert report["authorization"] == BASIC
    assert report["json"] == {
        "api_call": "test_status",
        "errors": ["partner_status 'completed' is not 'complete' (Greenhouse keeps the test "
                   "pending)"],
        "partner_interview_id": take_home["partner_interview_id"],
        "partner_test_id": "big-five", "partner_test_name": None,
        "candidate_email": "hp@example.edu"}
    record = state(fake)["take_home_tests"][0]
    assert record["status"] is None and record["result"] is None
    assert record["status_reads"][0]["errors"] == report["json"]["errors"]
    [violation] = state(fake)["violations"]
    assert violation["call"] == "test_status"
    assert violation["partner_interview_id"] == take_home["partner_interview_id"]


def test_a_pending_then_complete_status_updates_the_take_home_test(fake, partner):
    partner.answers["test_status"] = (200, {"partner_status": "in_progress",
                                            "partner_profile_url": None, "partner_score": None,
                                            "metadata": None})
    control(fake, "POST", "list_tests")
    take_home = sent(fake)["take_home_test"]
    patch(take_home)
    wait_for(lambda: state(fake)["take_home_tests"][0]["status"] == "in_progress")
    assert state(fake)["take_home_tests"][0]["result"] is None
    partner.answers["test_status"] = (200, COMPLETE)
    patch(take_home)
    record = wait_for(lambda: [t for t in state(fake)["take_home_tests"]
                               if t["status"] == "complete"])[0]
    assert record["result"]["partner_score"] == 81 and len(record["status_reads"]) == 2
    assert state(fake)["violations"] == []


def test_a_faulted_patch_fails_once_then_works(fake, partner):
    take_home = sent(fake)["take_home_test"]
    control(fake, "POST", "faults", {"route": "patch", "status": 503, "times": 1,
                                     "headers": {"Retry-After": "1"}}, status=201)
    failed = patch(take_home)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    assert failed.json() == {"errors": [{"message": "Injected fault"}]}
    assert patch(take_home).status_code == 200
    wait_for(lambda: partner.calls("test_status"))
    assert [(r["status"], r["fault"]) for r in state(fake)["received"]] == [
        (503, True), (200, False)]
    assert len(partner.calls("test_status")) == 1  # no status read after the failed PATCH
    control(fake, "POST", "faults", {"route": "patch", "status": 500, "times": 3}, status=201)
    assert control(fake, "DELETE", "faults") == {"faults": []}
    assert patch(take_home).status_code == 200
    control(fake, "POST", "faults", {"route": "list_tests", "status": 500}, status=400)
    control(fake, "POST", "faults", {"route": "patch"}, status=400)


# --- test_status rules ---------------------------------------------------------------------------

def _known(fake: FakeServer) -> str:
    return sent(fake)["take_home_test"]["partner_interview_id"]


@pytest.mark.parametrize("body", [
    COMPLETE,
    {"partner_status": "complete", "partner_profile_url": "http://127.0.0.1:8000/r/1"},
    {**COMPLETE, "partner_score": 81.5, "metadata": {}},
    {"partner_status": "pending"},
    {"partner_status": "Awaiting candidate", "partner_profile_url": None},
])
def test_test_status_good_answers(fake, partner, body):
    interview_id = _known(fake)
    partner.answers["test_status"] = (200, body)
    answer = control(fake, "POST", "test_status", {"partner_interview_id": interview_id})
    assert answer["errors"] == [] and answer["known"] is True
    assert answer["done"] is (body["partner_status"] == "complete")
    record = answer["take_home_test"]
    assert record["status"] == body["partner_status"]
    assert record["status_reads"][0]["trigger"] == "control"
    assert state(fake)["violations"] == [] and partner.calls("response_error") == []


@pytest.mark.parametrize(("body", "error"), [
    ({**COMPLETE, "partner_status": "completed"}, "partner_status 'completed' is not 'complete'"),
    ({**COMPLETE, "partner_status": "COMPLETE"}, "partner_status 'COMPLETE' is not 'complete'"),
    ({**COMPLETE, "partner_status": None}, "partner_status must be a string"),
    ({"partner_score": 3}, "partner_status must be a string"),
    ({**COMPLETE, "partner_profile_url": None}, "partner_profile_url is missing"),
    ({"partner_status": "complete"}, "partner_profile_url is missing"),
    ({**COMPLETE, "partner_profile_url": "/r/1"}, "absolute http(s) URL"),
    ({**COMPLETE, "partner_profile_url": "javascript:alert(1)"}, "absolute http(s) URL"),
    ({**COMPLETE, "partner_score": "81"}, "partner_score must be a number"),
    ({**COMPLETE, "partner_score": True}, "partner_score must be a number"),
    ({**COMPLETE, "metadata": {"Scores": {"E": 66}}}, "metadata must be flat: 'Scores' holds a "
                                                      "object"),
    ({**COMPLETE, "metadata": {"Scores": [66]}}, "'Scores' holds a array"),
    ({**COMPLETE, "metadata": [["E", 66]]}, "metadata must be a flat object"),
    (["complete"], "must answer a JSON object"),
    (b"complete", "not JSON"),
])
def test_test_status_violations(fake, partner, body, error):
    interview_id = _known(fake)
    partner.answers["test_status"] = (200, body)
    answer = control(fake, "POST", "test_status", {"partner_interview_id": interview_id})
    assert any(error in e for e in answer["errors"]), answer["errors"]
    assert answer["done"] is False and answer["result"] is None
    assert answer["take_home_test"]["status"] is None
    assert answer["take_home_test"]["result"] is None
    assert violations(fake, "test_status") == answer["errors"]
    [report] = partner.calls("response_error")
    assert report["json"]["api_call"] == "test_status"
    assert report["json"]["partner_interview_id"] == interview_id


def test_test_status_of_a_known_id_must_not_be_404(fake, partner):
    interview_id = _known(fake)
    partner.answers["test_status"] = (404, {"error": "not found"})
    answer = control(fake, "POST", "test_status", {"partner_interview_id": interview_id})
    assert answer["errors"] == ["expected HTTP 200, got 404"]


def test_an_unknown_interview_id_should_be_404_and_is_not_flagged(fake, partner):
    partner.answers["test_status"] = (404, {"error": "not found"})
    answer = control(fake, "POST", "test_status", {"partner_interview_id": "made-up"})
    assert answer["status"] == 404 and answer["errors"] == [] and answer["known"] is False
    assert partner.calls("test_status")[0]["query"] == {"partner_interview_id": ["made-up"]}
    now = state(fake)
    assert now["violations"] == [] and now["exchanges"][-1]["status"] == 404
    partner.answers["test_status"] = (500, b"")
    assert control(fake, "POST", "test_status", {"partner_interview_id": "made-up"})["errors"]
    control(fake, "POST", "test_status", {}, status=400)


def test_test_status_url_override(fake, partner):
    override = f"{partner.url}/v2/test_status?x=1"
    control(fake, "POST", "configure", {"urls": {"test_status": override}})
    control(fake, "POST", "test_status", {"partner_interview_id": "a b"})
    [read] = partner.calls("test_status")
    assert read["path"] == "/v2/test_status"
    assert read["query"] == {"x": ["1"], "partner_interview_id": ["a b"]}


# --- response_error ------------------------------------------------------------------------------

def test_response_error_posts_what_it_is_given(fake, partner):
    answer = control(fake, "POST", "response_error", {
        "api_call": "test_status", "errors": ["partner_profile_url is missing"],
        "partner_interview_id": "98765"})
    assert answer["status"] == 200 and answer["errors"] == []
    [report] = partner.calls("response_error")
    assert report["method"] == "POST" and report["path"] == "/gh/response_error"
    assert report["authorization"] == BASIC
    assert report["json"] == {"api_call": "test_status",
                              "errors": ["partner_profile_url is missing"],
                              "partner_test_id": None, "partner_test_name": None,
                              "partner_interview_id": "98765", "candidate_email": None}
    partner.answers["response_error"] = (500, None)
    failed = control(fake, "POST", "response_error", {"api_call": "send_test", "errors": ["x"]})
    assert failed["errors"] == ["expected HTTP 200, got 500"]
    assert violations(fake, "response_error") == ["expected HTTP 200, got 500"]
    assert len(partner.calls("response_error")) == 2  # a failed report is not reported again
    control(fake, "POST", "response_error", {"errors": ["x"]}, status=400)
    control(fake, "POST", "response_error", {"api_call": "x", "errors": "x"}, status=400)


# --- Without a socket, the page, and bugs --------------------------------------------------------

def _request(method: str, path: str, body: bytes = b"", **headers: str) -> Request:
    parts = urlsplit(path)
    return Request(method, parts.path, parse_qs(parts.query),
                   {k.replace("_", "-"): v for k, v in headers.items()}, body)


def test_dispatch_without_a_socket(partner):
    fake = FakeGreenhouse("http://greenhouse.test", partner_url=f"{partner.url}/gh",
                          status_read_delay=0)
    try:
        assert fake.dispatch(_request("GET", "/_control/state")).body["take_home_tests"] == []
        listed = fake.dispatch(_request("POST", "/_control/list_tests"))
        assert listed.status == 200 and listed.body["tests"] == TESTS
        sent_reply = fake.dispatch(_request("POST", "/_control/send_test",
                                            json.dumps({"partner_test_id": "numerical"}).encode(),
                                            content_type="application/json"))
        take_home = sent_reply.body["take_home_test"]
        assert take_home["url"].startswith("http://greenhouse.test/integrations/testing_partners/")
        reply = fake.dispatch(_request("PATCH", urlsplit(take_home["url"]).path,
                                       authorization=BASIC))
        assert (reply.status, reply.body) == (200, None)
        wait_for(lambda: fake.snapshot()["take_home_tests"][0]["status"] == "complete")
        missing = fake.dispatch(_request("GET", "/nowhere"))
        assert missing.status == 404
        assert missing.body == {"errors": [{"message": "No route for GET /nowhere"}]}
        bad_json = fake.dispatch(_request("POST", "/_control/configure", b"{",
                                          content_type="application/json"))
        assert bad_json.status == 400 and "Invalid JSON" in bad_json.body["errors"][0]["message"]
    finally:
        fake.stopping.set()
        for thread in fake.threads:
            thread.join(5)


def test_a_bug_in_the_fake_answers_500(fake, monkeypatch):
    def broken(req):
        raise RuntimeError("boom")

    monkeypatch.setattr(fake.fake, "routes", [
        ("GET", r, broken) if h == fake.fake.ctl_state else (m, r, h)
        for m, r, h in fake.fake.routes])
    response = requests.get(f"{fake.url}/_control/state", timeout=5)
    assert response.status_code == 500
    assert "boom" in response.json()["errors"][0]["message"]


def test_the_page_shows_everything_escaped_and_its_forms_come_back(fake, partner):
    partner.answers["list_tests"] = (200, [{"partner_test_id": "<b>x</b>",
                                            "partner_test_name": "<script>alert(1)</script>"}])
    control(fake, "POST", "list_tests")
    sent(fake, partner_test_id="<b>x</b>", candidate={"first_name": "<i>Ada</i>"})
    page = requests.get(f"{fake.url}/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;i&gt;Ada&lt;/i&gt;" in page.text and "Send again" in page.text
    form = requests.post(f"{fake.url}/_control/list_tests", data={}, allow_redirects=False,
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         timeout=5)
    assert form.status_code == 303 and form.headers["Location"].startswith("/?message=")
    back = requests.get(f"{fake.url}{form.headers['Location']}", timeout=5)
    assert "The partner answered HTTP 200; all rules kept." in back.text
    sent_form = requests.post(f"{fake.url}/_control/send_test", allow_redirects=False, data={
        "partner_test_id": "<b>x</b>", "first_name": "Grace", "email": ""}, timeout=5)
    assert sent_form.status_code == 303
    assert partner.calls("send_test")[-1]["json"]["candidate"]["first_name"] == "Grace"
    refused = requests.post(f"{fake.url}/_control/configure", data={"key": "k" * 200},
                            allow_redirects=False, timeout=5)
    assert refused.status_code == 303 and "Refused" in refused.headers["Location"]
    configured = requests.post(f"{fake.url}/_control/configure", allow_redirects=False,
                               data={"partner_url": "", "key": "new-key", "patch_status": "204"},
                               timeout=5)
    assert configured.status_code == 303
    config = state(fake)["config"]
    assert (config["key"], config["patch_status"]) == ("new-key", 204)
    assert config["partner_url"] == f"{partner.url}/gh"  # a blank field leaves it as it was
