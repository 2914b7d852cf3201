"""The fake Workable: what it sends the partner, how it judges the answers, and its callback route.

A stub partner (a ThreadingHTTPServer in the test) answers canned good and bad responses and
records what the fake sent; the fake's own routes are driven through HTTP and through dispatch().
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from integrations.fakekit import FakeServer, Reply, Request
from integrations.providers.workable.fake import (
    DEFAULT_PROVIDER_TOKEN,
    DEFAULT_WORKABLE_TOKEN,
    describe,
    run,
)
from tests.conftest import ROOT

PREFIX = "/integrations/workable"
Answer = tuple[int, Any] | Callable[[dict], tuple[int, Any]]


class StubPartner:
    """Our app's side, canned: ``answers[(method, path)]`` is ``(status, body)`` or a callable of
    the recorded request; ``requests`` is everything the fake sent, in order."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], Answer] = {}
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.removeprefix(PREFIX)
                got = {"method": self.command, "path": self.path,
                       "headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": json.loads(raw) if raw else None}
                stub.requests.append(got)
                answer = stub.answers.get((self.command, path),
                                          (404, {"status": 404, "message": "no canned answer"}))
                status, body = answer(got) if callable(answer) else answer
                payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def partner() -> Iterator[StubPartner]:
    stub = StubPartner()
    yield stub
    stub.stop()


@pytest.fixture
def fake(partner: StubPartner) -> Iterator[FakeServer]:
    server = run(partner_url=partner.url)
    yield server
    server.stop()


def control(server: FakeServer, method: str, path: str, expect: int = 200, **body: Any) -> Any:
    response = requests.request(method, f"{server.url}/_control/{path}",
                                json=body if method != "GET" else None, timeout=15)
    assert response.status_code == expect, response.text
    return response.json()


def violations(server: FakeServer) -> list[str]:
    return [e for v in control(server, "GET", "state")["violations"] for e in v["errors"]]


def put(server: FakeServer, aid: str, body: Any, token: str | None = DEFAULT_WORKABLE_TOKEN,
        ctype: str = "application/json", scheme: str = "Bearer") -> Reply:
    """A callback through dispatch(), the way the partner's PUT arrives."""
    headers = {"content-type": ctype}
    if token is not None:
        headers["authorization"] = f"{scheme} {token}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return server.fake.dispatch(Request("PUT", f"/assessments/{aid}", {}, headers, raw))


@pytest.fixture
def created(fake: FakeServer, partner: StubPartner) -> str:
    """One assessment the partner accepted; its id (the last part of the callback URL)."""
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "wk_asmt_5521"})
    out = control(fake, "POST", "assessments", test_id="2")
    assert out["errors"] == []
    return out["id"]


COMPLETED = {
    "status": "completed",
    "results_url": "https://app.acme.test/share/shr_abc",
    "assessment": {"score": "82", "grade": "excelled", "summary": "Strong match.",
                   "details": {"algorithms": 88, "testing": 79}, "duration": "00:41:17"},
    "attachments": [{"description": "Acme report (PDF)", "url": "https://files.acme.test/r.pdf"}],
}


# --- run, describe, the CLI -------------------------------------------------------------------

def test_describe_names_the_url_the_partner_and_both_tokens(fake: FakeServer, partner):
    lines = describe(fake)
    assert lines[0].startswith(f"Fake Workable on {fake.url}")
    text = "\n".join(lines)
    assert partner.url in text
    assert DEFAULT_PROVIDER_TOKEN in text and DEFAULT_WORKABLE_TOKEN in text


def test_the_cli_serves_until_interrupted(partner):
    proc = subprocess.Popen(
        [sys.executable, "-m", "integrations.providers.workable.fake", "--port", "0",
         "--partner-url", partner.url, "--workable-token", "a", "--workable-token", "b"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        url = re.search(r"Fake Workable on (http://127\.0\.0\.1:\d+)", first).group(1)
        state = requests.get(f"{url}/_control/state", timeout=5).json()
        assert state["config"]["workable_tokens"] == ["a", "b"]
        assert state["config"]["partner_url"] == partner.url
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- GET /tests -------------------------------------------------------------------------------

def test_list_tests_gets_tests_with_the_provider_token(fake, partner):
    partner.answers[("GET", "/tests")] = (200, {"tests": [{"id": 1, "name": "Aptitude Test"},
                                                          {"id": "b5", "name": "Big Five"}]})
    out = control(fake, "POST", "tests")
    assert out["status"] == 200 and out["errors"] == []
    assert [t["id"] for t in out["tests"]] == [1, "b5"]
    sent = partner.requests[-1]
    assert (sent["method"], sent["path"]) == ("GET", f"{PREFIX}/tests")
    assert sent["headers"]["authorization"] == f"Bearer {DEFAULT_PROVIDER_TOKEN}"
    state = control(fake, "GET", "state")
    assert state["tests"] == out["tests"] and state["violations"] == []
    assert state["calls"][-1]["request"]["url"] == f"{partner.url}/tests"


@pytest.mark.parametrize(("status", "body", "problem"), [
    (200, {"tests": []}, None),
    (200, {"tests": [{"id": 7, "name": "Numerical"}]}, None),
    (200, {"tests": [{"id": "num-7", "name": "Numerical"}]}, None),
    (201, {"tests": []}, "must answer 200"),
    (200, "<html>oops</html>", "not JSON"),
    (200, [{"id": 1, "name": "x"}], 'the body must be {"tests"'),
    (200, {"data": []}, 'the body must be {"tests"'),
    (200, {"tests": ["Numerical"]}, "tests[0] must be an object"),
    (200, {"tests": [{"id": True, "name": "x"}]}, "tests[0].id must be"),
    (200, {"tests": [{"id": " ", "name": "x"}]}, "tests[0].id must be"),
    (200, {"tests": [{"id": None, "name": "x"}]}, "tests[0].id must be"),
    (200, {"tests": [{"id": 1, "name": ""}]}, "tests[0].name must be"),
    (200, {"tests": [{"id": 1}]}, "tests[0].name must be"),
    (200, {"tests": [{"id": 1, "name": "a"}, {"id": "1", "name": "b"}]}, "appears twice"),
])
def test_tests_answer_rules(fake, partner, status, body, problem):
    partner.answers[("GET", "/tests")] = (status, body)
    out = control(fake, "POST", "tests")
    if problem is None:
        assert out["errors"] == [] and violations(fake) == []
    else:
        assert any(problem in e for e in out["errors"]), out["errors"]
        assert any(problem in e for e in violations(fake))
        assert control(fake, "GET", "state")["tests"] is None


@pytest.mark.parametrize(("status", "body", "problem"), [
    (400, {"status": 400, "message": "invalid field"}, None),
    (401, {"status": 401, "message": "bad token"}, None),
    (409, {"status": 409, "message": "duplicate"}, None),
    (422, {"status": 422, "message": "missing candidate.email"}, None),
    (403, {"status": 403, "message": "no"}, "not one of the documented error codes"),
    (500, {"status": 500, "message": "boom"}, "not one of the documented error codes"),
    (401, {"error": "bad token"}, '"status" as an integer'),
    (401, {"status": "401", "message": "bad token"}, '"status" as an integer'),
    (401, {"status": 400, "message": "bad token"}, "but the HTTP status is 401"),
    (401, {"status": 401, "message": ""}, '"message" as a non-empty string'),
    (401, {"status": 401}, '"message" as a non-empty string'),
    (401, ["bad token"], 'an error body must be {"status"'),
    (500, "Internal Server Error", "not JSON"),
])
def test_error_answers_must_use_workables_shape(fake, partner, status, body, problem):
    partner.answers[("GET", "/tests")] = (status, body)
    partner.answers[("POST", "/assessments")] = (status, body)
    for out in (control(fake, "POST", "tests"),
                control(fake, "POST", "assessments", test_id="1")):
        assert out["status"] == status
        if problem is None:
            assert out["errors"] == []
        else:
            assert any(problem in e for e in out["errors"]), out["errors"]
    assert (violations(fake) == []) == (problem is None)


@pytest.mark.parametrize("mode", ["none", "wrong"])
def test_a_partner_must_refuse_a_missing_or_wrong_token(fake, partner, mode):
    partner.answers[("GET", "/tests")] = (200, {"tests": []})
    out = control(fake, "POST", "tests", auth=mode)
    sent = partner.requests[-1]["headers"].get("authorization")
    if mode == "none":
        assert sent is None
    else:
        assert sent.startswith("Bearer ") and sent != f"Bearer {DEFAULT_PROVIDER_TOKEN}"
    assert any("expected 401" in e for e in out["errors"])
    partner.answers[("GET", "/tests")] = (401, {"status": 401, "message": "bad token"})
    assert control(fake, "POST", "tests", auth=mode)["errors"] == []


def test_an_unknown_auth_mode_is_refused_before_anything_is_sent(fake, partner):
    for action in ("tests", "assessments"):
        out = control(fake, "POST", action, expect=400, auth="basic", test_id="1")
        assert "auth must be one of" in out["message"]
    assert partner.requests == [] and control(fake, "GET", "state")["assessments"] == []


def test_a_token_can_be_presented_for_another_connection(fake, partner):
    partner.answers[("GET", "/tests")] = (200, {"tests": []})
    control(fake, "POST", "tests", token="second-connection-token")
    assert partner.requests[-1]["headers"]["authorization"] == "Bearer second-connection-token"


def test_an_unreachable_partner_is_recorded(fake, partner):
    control(fake, "POST", "configure", partner_url="http://127.0.0.1:9/integrations/workable")
    out = control(fake, "POST", "tests")
    assert out["status"] is None and "no HTTP answer" in out["errors"][0]
    assert "no HTTP answer" in violations(fake)[0]


def test_without_a_partner_url_the_actions_say_so():
    server = run()
    try:
        for action in ("tests", "assessments"):
            out = control(server, "POST", action, expect=409, test_id="1")
            assert out["status"] == 409 and "partner_url" in out["message"]
        assert control(server, "GET", "state")["assessments"] == []
    finally:
        server.stop()


# --- POST /assessments ------------------------------------------------------------------------

@pytest.mark.parametrize("status", [200, 201])
def test_create_posts_the_documented_body_with_the_provider_token(fake, partner, status):
    partner.answers[("POST", "/assessments")] = (status, {"assessment_id": "wk_asmt_5521"})
    out = control(fake, "POST", "assessments", test_id="2")
    assert out["status"] == status and out["errors"] == []
    sent = partner.requests[-1]
    assert (sent["method"], sent["path"]) == ("POST", f"{PREFIX}/assessments")
    assert sent["headers"]["authorization"] == f"Bearer {DEFAULT_PROVIDER_TOKEN}"
    assert sent["headers"]["content-type"] == "application/json"
    body = sent["body"]
    assert set(body) == {"test_id", "job_shortcode", "job_title", "callback_url", "candidate"}
    assert body["test_id"] == "2"
    assert set(body["candidate"]) == {"first_name", "last_name", "email", "phone"}
    assert re.fullmatch(rf"{fake.url}/assessments/acme-\d+", body["callback_url"])
    assert body["callback_url"] == out["callback_url"] == f"{fake.url}/assessments/{out['id']}"
    record = control(fake, "GET", f"assessments/{out['id']}")
    assert record["assessment_id"] == "wk_asmt_5521" and record["status"] is None
    assert record["candidate"] == body["candidate"] and record["test_id"] == "2"
    assert record["callbacks"] == [] and record["attachments"] == []


def test_create_takes_overrides_and_null_drops_a_field(fake, partner):
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "x1"})
    control(fake, "POST", "assessments", test_id=7, job_title="Data Analyst", job_shortcode=None,
            candidate={"first_name": "Ada", "phone": None})
    body = partner.requests[-1]["body"]
    assert body["test_id"] == 7 and body["job_title"] == "Data Analyst"
    assert "job_shortcode" not in body and "phone" not in body["candidate"]
    assert body["candidate"]["first_name"] == "Ada" and body["candidate"]["last_name"]


def test_create_defaults_to_the_first_listed_test_sent_as_a_string(fake, partner):
    control(fake, "POST", "assessments", expect=400)
    partner.answers[("GET", "/tests")] = (200, {"tests": [{"id": 3, "name": "Verbal"}]})
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "x1"})
    control(fake, "POST", "tests")
    control(fake, "POST", "assessments")
    assert partner.requests[-1]["body"]["test_id"] == "3"


@pytest.mark.parametrize(("status", "body", "problem"), [
    (202, {"assessment_id": "a1"}, "must answer 200 or 201"),
    (201, {"assessment_id": 5521}, "should be a string"),
    (201, {"assessment_id": ""}, "must be a non-empty string"),
    (201, {"assessment_id": ["a1"]}, "must be a non-empty string"),
    (201, {"id": "a1"}, '"assessment_id" is missing'),
    (201, ["a1"], 'the body must be {"assessment_id"'),
    (201, "", "not JSON"),
])
def test_create_answer_rules(fake, partner, status, body, problem):
    partner.answers[("POST", "/assessments")] = (status, body)
    out = control(fake, "POST", "assessments", test_id="1")
    assert any(problem in e for e in out["errors"]), out["errors"]
    assert any(problem in e for e in violations(fake))


def test_a_numeric_assessment_id_is_kept_but_flagged(fake, partner):
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": 5521})
    out = control(fake, "POST", "assessments", test_id="1")
    assert out["assessment"]["assessment_id"] == 5521 and out["errors"]


def test_accepting_a_test_that_was_not_listed_is_a_violation(fake, partner):
    partner.answers[("GET", "/tests")] = (200, {"tests": [{"id": 1, "name": "Aptitude"}]})
    control(fake, "POST", "tests")
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "a1"})
    assert control(fake, "POST", "assessments", test_id=1)["errors"] == []
    assert any("did not list" in e for e in control(fake, "POST", "assessments",
                                                    test_id="99")["errors"])
    partner.answers[("POST", "/assessments")] = (422, {"status": 422, "message": "no such test"})
    assert control(fake, "POST", "assessments", test_id="99")["errors"] == []


def test_the_same_callback_url_resends_the_same_request(fake, partner):
    ids = iter(["a1", "a1", "a2"])
    partner.answers[("POST", "/assessments")] = lambda got: (201, {"assessment_id": next(ids)})
    first = control(fake, "POST", "assessments", test_id="1")
    again = control(fake, "POST", "assessments", callback_url=first["callback_url"])
    assert again["id"] == first["id"] and again["errors"] == []
    assert partner.requests[-1]["body"] == partner.requests[-2]["body"]
    third = control(fake, "POST", "assessments", callback_url=first["callback_url"])
    assert any("not idempotent on callback_url" in e for e in third["errors"])
    assert third["assessment"]["assessment_id"] == "a1"
    assert len(third["assessment"]["answers"]) == 3
    assert len(control(fake, "GET", "state")["assessments"]) == 1


def test_a_duplicate_may_be_refused_with_409(fake, partner):
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "a1"})
    first = control(fake, "POST", "assessments", test_id="1")
    partner.answers[("POST", "/assessments")] = (409, {"status": 409, "message": "duplicate"})
    again = control(fake, "POST", "assessments", callback_url=first["callback_url"])
    assert again["status"] == 409 and again["errors"] == []
    assert again["assessment"]["assessment_id"] == "a1"


def test_the_partner_may_call_back_before_it_answers(fake, partner):
    """W2 sends ``pending`` straight after creation; the fake must not hold its lock meanwhile."""
    def answer(got: dict) -> tuple[int, Any]:
        back = requests.put(got["body"]["callback_url"], json={"status": "pending"}, timeout=5,
                            headers={"Authorization": f"Bearer {DEFAULT_WORKABLE_TOKEN}"})
        return 201, {"assessment_id": f"cb-{back.status_code}"}

    partner.answers[("POST", "/assessments")] = answer
    out = control(fake, "POST", "assessments", test_id="1")
    assert out["errors"] == [] and out["assessment"]["assessment_id"] == "cb-200"
    assert out["assessment"]["status"] == "pending"


# --- PUT /assessments/<id> (the callback) -----------------------------------------------------

def test_a_completed_callback_over_http_is_stored(fake, created):
    response = requests.put(f"{fake.url}/assessments/{created}", json=COMPLETED, timeout=5,
                            headers={"Authorization": f"Bearer {DEFAULT_WORKABLE_TOKEN}"})
    assert response.status_code == 200 and response.json() == {}
    record = control(fake, "GET", "state")["assessments"][0]
    assert record["status"] == "completed"
    assert record["results_url"] == COMPLETED["results_url"]
    assert record["assessment"] == COMPLETED["assessment"]
    assert record["attachments"] == COMPLETED["attachments"]
    (callback,) = record["callbacks"]
    assert callback["body"] == COMPLETED and callback["answer"] == 200
    assert callback["headers"]["authorization"] == f"Bearer {DEFAULT_WORKABLE_TOKEN}"
    assert violations(fake) == []


@pytest.mark.parametrize(("token", "scheme", "problem"), [
    (None, "Bearer", "no Authorization header"),
    (DEFAULT_WORKABLE_TOKEN, "Basic", "must use Authorization: Bearer"),
    ("", "Bearer", "must use Authorization: Bearer"),
    ("not-the-token", "Bearer", "wrong Workable token"),
    (DEFAULT_PROVIDER_TOKEN, "Bearer", "provider token used on the callback"),
])
def test_the_callback_needs_the_workable_token(fake, created, token, scheme, problem):
    reply = put(fake, created, {"status": "pending"}, token=token, scheme=scheme)
    assert reply.status == 401
    assert reply.body["status"] == 401 and problem in reply.body["message"]
    assert any(problem in e for e in violations(fake))
    record = control(fake, "GET", f"assessments/{created}")
    assert record["status"] is None and record["callbacks"][0]["answer"] == 401


def test_bearer_is_case_insensitive(fake, created):
    assert put(fake, created, {"status": "pending"}, scheme="bearer").status == 200


def test_several_workable_tokens_share_one_fake(fake, created):
    control(fake, "POST", "configure", workable_tokens=["tok-a", "tok-b"])
    assert put(fake, created, {"status": "pending"}, token="tok-a").status == 200
    assert put(fake, created, {"status": "pending"}, token="tok-b").status == 200
    assert put(fake, created, {"status": "pending"}).status == 401


def test_an_assessment_can_pin_its_accounts_token(fake, partner):
    control(fake, "POST", "configure", workable_tokens=["tok-a", "tok-b"])
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "a1"})
    aid = control(fake, "POST", "assessments", test_id="1", workable_token="tok-b")["id"]
    reply = put(fake, aid, {"status": "pending"}, token="tok-a")
    assert reply.status == 401 and "another account's" in reply.body["message"]
    assert put(fake, aid, {"status": "pending"}, token="tok-b").status == 200


def test_an_unknown_assessment_is_404(fake):
    reply = put(fake, "acme-404", {"status": "pending"})
    assert reply.status == 404 and reply.body["status"] == 404
    assert control(fake, "GET", "state")["received"][-1]["answer"] == 404


@pytest.mark.parametrize("raw", [b"{not json", b'["pending"]', b""])
def test_the_callback_body_must_be_a_json_object(fake, created, raw):
    reply = put(fake, created, raw)
    assert reply.status == 400 and reply.body["status"] == 400
    assert violations(fake)


def _with(assessment: dict | None = None, **top: Any) -> dict:
    body = {**COMPLETED, **top}
    if assessment is not None:
        body["assessment"] = {**COMPLETED["assessment"], **assessment}
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(("body", "problem"), [
    ({"status": "pending"}, None),
    ({"status": "rejected"}, None),
    ({"status": "expired"}, None),
    (COMPLETED, None),
    ({"status": "complete"}, '"status" must be one of'),
    ({"status": "COMPLETED"}, '"status" must be one of'),
    ({}, '"status" must be one of'),
    (_with(results_url=None), '"results_url" is required'),
    (_with(results_url=""), '"results_url" is required'),
    (_with(results_url="/share/shr_abc"), "absolute http(s) URL"),
    (_with(results_url="ftp://files.acme.test/r"), "absolute http(s) URL"),
    ({"status": "pending", "results_url": "share/x"}, "absolute http(s) URL"),
    (_with(assessment={"score": 82}), None),
    (_with(assessment={"score": 82.5}), None),
    (_with(assessment={"score": " 82 "}), None),
    (_with(assessment={"score": "high"}), "assessment.score"),
    (_with(assessment={"score": True}), "assessment.score"),
    (_with(assessment={"score": "nan"}), "assessment.score"),
    (_with(assessment={"grade": "failed"}), None),
    (_with(assessment={"grade": "passed"}), None),
    (_with(assessment={"grade": "good"}), "assessment.grade"),
    (_with(assessment={"grade": "Passed"}), "assessment.grade"),
    (_with(assessment={"summary": 3}), "assessment.summary"),
    (_with(assessment={"details": [88, 79]}), "assessment.details"),
    (_with(assessment={"details": "88"}), "assessment.details"),
    (_with(assessment={"duration": 2477}), None),
    (_with(assessment={"duration": 41.3}), None),
    (_with(assessment={"duration": "2477"}), None),
    (_with(assessment={"duration": "100:05:09"}), None),
    (_with(assessment={"duration": "41 minutes"}), "assessment.duration"),
    (_with(assessment={"duration": "00:61:00"}), "assessment.duration"),
    (_with(assessment={"duration": -5}), "assessment.duration"),
    ({**COMPLETED, "assessment": {}}, None),
    ({**COMPLETED, "assessment": "82"}, '"assessment" must be an object'),
    (_with(attachments=[]), None),
    (_with(attachments={"url": "https://x.test/r"}), '"attachments" must be a list'),
    (_with(attachments=["https://x.test/r"]), "attachments[0] must be an object"),
    (_with(attachments=[{"url": "https://x.test/r"}]), "attachments[0].description"),
    (_with(attachments=[{"description": "PDF", "url": "r.pdf"}]), "attachments[0].url"),
])
def test_callback_rules(fake, created, body, problem):
    reply = put(fake, created, body)
    record = control(fake, "GET", f"assessments/{created}")
    if problem is None:
        assert reply.status == 200 and reply.body == {}
        assert violations(fake) == [] and record["status"] == body["status"]
    else:
        assert reply.status == 422 and reply.body["status"] == 422
        assert problem in reply.body["message"]
        assert any(problem in e for e in violations(fake))
        assert record["status"] is None and record["callbacks"][-1]["answer"] == 422


def test_a_completion_without_an_assessment_object_is_accepted_but_flagged(fake, created):
    reply = put(fake, created, {"status": "completed", "results_url": "https://a.test/r"})
    assert reply.status == 200
    assert any('"assessment" object' in e for e in violations(fake))
    assert control(fake, "GET", f"assessments/{created}")["status"] == "completed"


def test_the_callback_should_be_json(fake, created):
    assert put(fake, created, {"status": "pending"}, ctype="text/plain").status == 200
    assert any("Content-Type: application/json" in e for e in violations(fake))


def test_terminal_statuses_do_not_change(fake, created):
    assert put(fake, created, {"status": "pending"}).status == 200
    assert put(fake, created, {"status": "pending"}).status == 200
    assert violations(fake) == []
    assert put(fake, created, COMPLETED).status == 200
    for later in ("pending", "expired", "rejected"):
        reply = put(fake, created, {"status": later})
        assert reply.status == 422 and "already completed" in reply.body["message"]
    assert control(fake, "GET", f"assessments/{created}")["status"] == "completed"
    assert put(fake, created, COMPLETED).status == 200  # a retry: accepted, but flagged
    assert any("same status was sent again" in e for e in violations(fake))
    assert len(control(fake, "GET", f"assessments/{created}")["callbacks"]) == 7


def test_state_lets_a_test_poll_for_the_results(fake, created):
    put(fake, created, COMPLETED)
    (record,) = control(fake, "GET", "state")["assessments"]
    assert record["status"] == "completed" and record["assessment"]["score"] == "82"
    assert record["assessment"]["details"] == {"algorithms": 88, "testing": 79}
    assert record["assessment"]["duration"] == "00:41:17"


# --- faults -----------------------------------------------------------------------------------

def test_faults_answer_the_next_callbacks(fake, created):
    control(fake, "POST", "faults", expect=201, route="callback", status=503, times=2,
            headers={"Retry-After": "7"})
    for _ in range(2):
        reply = put(fake, created, {"status": "pending"})
        assert reply.status == 503 and reply.headers == {"Retry-After": "7"}
        assert reply.body == {"status": 503, "message": "Injected fault"}
    assert put(fake, created, {"status": "pending"}).status == 200
    received = control(fake, "GET", "state")["received"]
    assert [r.get("fault", False) for r in received] == [True, True, False]


def test_a_fault_can_carry_its_own_body_and_be_cleared(fake, created):
    control(fake, "POST", "faults", expect=201, route="callback", status=500, times=5,
            body={"oops": True})
    response = requests.put(f"{fake.url}/assessments/{created}", json={"status": "pending"},
                            headers={"Authorization": f"Bearer {DEFAULT_WORKABLE_TOKEN}"},
                            timeout=5)
    assert response.status_code == 500 and response.json() == {"oops": True}
    assert control(fake, "DELETE", "faults") == {"cleared": 1}
    assert put(fake, created, {"status": "pending"}).status == 200


@pytest.mark.parametrize("body", [{"route": "tests"}, {"status": "x"}, {"status": 42},
                                  {"headers": ["Retry-After"]}])
def test_bad_faults_are_refused(fake, body):
    out = control(fake, "POST", "faults", expect=400, **body)
    assert out["status"] == 400 and out["message"]


# --- configure, reset, state, the page, errors ------------------------------------------------

def test_configure_takes_any_subset(fake, partner):
    out = control(fake, "POST", "configure", provider_token="tok-p", subdomain="globex")
    assert out["config"] == {"partner_url": partner.url, "provider_token": "tok-p",
                             "workable_tokens": [DEFAULT_WORKABLE_TOKEN], "subdomain": "globex"}
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "a1"})
    made = control(fake, "POST", "assessments", test_id="1")
    assert made["id"].startswith("globex-")
    assert partner.requests[-1]["headers"]["authorization"] == "Bearer tok-p"


@pytest.mark.parametrize("body", [{"partner_url": "ftp://x"}, {"provider_token": ""},
                                  {"workable_tokens": []}, {"workable_tokens": [1]},
                                  {"subdomain": "a/b"}, {"colour": "blue"}])
def test_configure_refuses_bad_values(fake, body):
    out = control(fake, "POST", "configure", expect=400, **body)
    assert out["status"] == 400 and out["message"]


def test_reset_forgets_everything_but_the_config(fake, created):
    control(fake, "POST", "configure", subdomain="globex")
    put(fake, created, {"status": "bogus"})
    assert control(fake, "POST", "reset") == {"ok": True}
    state = control(fake, "GET", "state")
    assert state["assessments"] == state["calls"] == state["violations"] == []
    assert state["received"] == [] and state["config"]["subdomain"] == "globex"
    control(fake, "GET", f"assessments/{created}", expect=404)


def test_unknown_routes_and_methods(fake):
    response = requests.get(f"{fake.url}/nope", timeout=5)
    assert response.status_code == 404 and response.json()["status"] == 404
    response = requests.get(f"{fake.url}/assessments/x", timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "PUT"


def test_a_bug_in_the_fake_answers_500(fake, monkeypatch):
    def broken(opts: dict) -> dict:
        raise RuntimeError("kaput")

    monkeypatch.setattr(fake.fake, "list_tests", broken)
    response = requests.post(f"{fake.url}/_control/tests", json={}, timeout=5)
    assert response.status_code == 500
    assert response.json()["status"] == 500 and "kaput" in response.json()["message"]


def test_the_page_shows_state_escaped_and_its_forms_drive_the_fake(fake, partner):
    partner.answers[("POST", "/assessments")] = (201, {"assessment_id": "<b>id</b>"})
    form = {"test_id": "2", "first_name": "<script>x</script>", "last_name": "", "email": ""}
    response = requests.post(f"{fake.url}/_control/assessments", data=form, timeout=5,
                             allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    sent = partner.requests[-1]["body"]["candidate"]
    assert sent["first_name"] == "<script>x</script>" and sent["last_name"] == "Marrero"
    page = requests.get(f"{fake.url}/", timeout=5).text
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert "&lt;b&gt;id&lt;/b&gt;" in page
    for action in ("configure", "tests", "assessments", "reset"):
        assert f'action="/_control/{action}"' in page


def test_a_form_error_goes_back_to_the_page(fake):
    response = requests.post(f"{fake.url}/_control/configure", data={"partner_url": "nope"},
                             timeout=5, allow_redirects=False)
    assert response.status_code == 303
    assert "partner_url must be an absolute" in requests.get(f"{fake.url}/", timeout=5).text


def test_the_configure_form_leaves_blank_fields_alone(fake, partner):
    requests.post(f"{fake.url}/_control/configure", timeout=5,
                  data={"partner_url": "", "provider_token": "p2", "workable_tokens": "a, b"})
    config = control(fake, "GET", "state")["config"]
    assert config["partner_url"] == partner.url and config["provider_token"] == "p2"
    assert config["workable_tokens"] == ["a", "b"]


# --- the optional shared link -----------------------------------------------------------------

@pytest.mark.parametrize(("status", "body", "problem"), [
    (200, {"url": "https://app.acme.test/s/1", "ttl": "120", "ttl_units": "minutes"}, None),
    (200, {"url": "https://app.acme.test/s/1", "ttl": 120, "ttl_units": "minutes"}, None),
    (404, {"status": 404, "message": "not supported"}, None),
    (200, {"url": "/s/1", "ttl": "120", "ttl_units": "minutes"}, '"url" must be'),
    (200, {"url": "https://a.test/s", "ttl": "soon", "ttl_units": "minutes"}, '"ttl" must be'),
    (200, {"url": "https://a.test/s", "ttl": 0, "ttl_units": "minutes"}, '"ttl" must be'),
    (200, {"url": "https://a.test/s", "ttl": "120"}, '"ttl_units" must be'),
])
def test_shared_link_rules(fake, partner, created, status, body, problem):
    partner.answers[("GET", "/assessments/wk_asmt_5521/shared-link")] = (status, body)
    out = control(fake, "GET", f"assessments/{created}/shared-link")
    sent = partner.requests[-1]
    assert sent["path"] == f"{PREFIX}/assessments/wk_asmt_5521/shared-link"
    assert sent["headers"]["authorization"] == f"Bearer {DEFAULT_PROVIDER_TOKEN}"
    if problem is None:
        assert out["errors"] == []
    else:
        assert any(problem in e for e in out["errors"]), out["errors"]


def test_no_shared_link_before_the_partner_gave_an_id(fake, partner):
    partner.answers[("POST", "/assessments")] = (422, {"status": 422, "message": "no"})
    aid = control(fake, "POST", "assessments", test_id="1")["id"]
    assert control(fake, "GET", f"assessments/{aid}/shared-link", expect=409)["status"] == 409
