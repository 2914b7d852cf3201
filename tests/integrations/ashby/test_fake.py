"""The fake Ashby on a free localhost port, with a stub partner standing in for our app.

Ashby's side has two directions: the fake calls the partner (list/start/cancel, driven through
``/_control``) and validates what comes back; the partner calls the fake's ``assessment.update``
and ``assessment.addCompletedToCandidate``, which check auth, headers and every body rule.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from integrations.fakekit import FakeServer, Request, now_ms
from integrations.providers.ashby.fake import (
    DEFAULT_API_KEY,
    DEFAULT_PARTNER_KEY,
    FakeAshby,
    describe,
    run,
)
from tests.conftest import ROOT

Answer = Callable[[dict], tuple[int, Any]]
UA = "Assay-Ashby/1.0 (+https://assay.example)"
ACCEPT = "application/json; version=1"


class StubPartner:
    """Our app's Ashby endpoints, answering canned replies and recording every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: dict[str, Answer] = {
            "assessment.list": lambda body: (200, {"success": True, "results": [
                {"assessment_type_id": "big-five", "name": "Big Five", "description": "OCEAN"},
                {"assessment_type_id": "numerical", "name": "Numerical reasoning"}]}),
            "assessment.start": lambda body: (200, {"success": True, "results": {
                "assessment_id": f"asmt-{body['application']['ashby_id']}"}}),
            "assessment.cancel": lambda body: (200, {"success": True, "results": {
                "assessment_id": body["assessment_id"]}}),
        }
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else None
                stub.requests.append({"method": self.command, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body})
                status, answer = stub.answers[self.path.rsplit("/", 1)[-1]](body)
                payload = answer.encode() if isinstance(answer, str) else json.dumps(
                    answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/integrations/ashby"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def answer(self, method: str, status: int, body: Any) -> None:
        self.answers[method] = lambda _body: (status, body)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def partner() -> Iterator[StubPartner]:
    stub = StubPartner()
    yield stub
    stub.stop()


@pytest.fixture
def fake(partner: StubPartner) -> Iterator[FakeServer]:
    server = run("127.0.0.1", 0, partner_url=partner.url)
    yield server
    server.stop()


def control(fake: FakeServer, path: str, body: dict | None = None, method: str = "POST",
            expect: int = 200) -> dict:
    response = requests.request(method, f"{fake.url}/_control/{path}", json=body, timeout=15)
    assert response.status_code == expect, response.text
    return response.json()


def state(fake: FakeServer) -> dict:
    return control(fake, "state", method="GET")


def post_api(fake: FakeServer, body: Any, *, route: str = "assessment.update",
             key: str | None = DEFAULT_API_KEY, password: str = "", **headers: str | None
             ) -> requests.Response:
    sent = {"User-Agent": UA, "Accept": ACCEPT, "Content-Type": "application/json"}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    sent = {k: v for k, v in sent.items() if v is not None}
    if key is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    session = requests.Session()
    session.headers.clear()  # no library User-Agent or Accept unless a test sends one
    return session.post(f"{fake.url}/{route}", data=data, headers=sent, timeout=10)


def blob(identifier: str, kind: str, value: Any, label: str | None = None) -> dict:
    return {"identifier": identifier, "label": label or identifier.title(), "type": kind,
            "value": value}


def status_blob(value: str) -> dict:
    return blob("status", "string", value, "Status")


def completion(aid: str, ts: int) -> dict:
    return {
        "assessment_id": aid,
        "timestamp": ts,
        "assessment_status": status_blob("Completed"),
        "assessment_result": {**blob("score", "numeric_score", 87, "Assay score"),
                              "description": "0-100"},
        "assessment_profile_url": blob("result_url", "url", f"https://assay.test/r/{aid}",
                                       "Report"),
        "metadata": [blob("max_score", "numeric_score", 100),
                     blob("duration", "numeric_duration_minutes", 47),
                     blob("passed", "boolean_success", True)],
    }


def start(fake: FakeServer, **spec: Any) -> dict:
    spec.setdefault("assessment_type_id", "big-five")
    return control(fake, "start", spec)


def started(fake: FakeServer) -> str:
    outcome = start(fake)
    assert outcome["errors"] == [] and outcome["status"] == 200
    return outcome["assessment"]["assessment_id"]


def violations(fake: FakeServer, call: str | None = None) -> list[dict]:
    return [v for v in state(fake)["violations"] if call is None or v["call"] == call]


def basic(key: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()


# --- run, describe, CLI, dispatch ------------------------------------------------------------

def test_describe_names_the_url_and_every_key(fake: FakeServer, partner: StubPartner):
    lines = describe(fake)
    assert lines[0].startswith(f"Fake Ashby on {fake.url}")
    text = "\n".join(lines)
    assert partner.url in text and DEFAULT_PARTNER_KEY in text and DEFAULT_API_KEY in text


def test_state_starts_empty_with_the_default_config(fake: FakeServer, partner: StubPartner):
    got = state(fake)
    assert got["config"] == {"partner_url": partner.url, "partner_key": DEFAULT_PARTNER_KEY,
                             "api_keys": [DEFAULT_API_KEY], "key_field": "username",
                             "partner_timeout": 10.0}
    assert got["assessments"] == [] and got["violations"] == [] and got["calls"] == []


def test_the_cli_serves_until_stopped(partner: StubPartner):
    proc = subprocess.Popen([sys.executable, "-m", "integrations.providers.ashby.fake",
                             "--port", "0", "--partner-url", partner.url, "--api-key", "k1",
                             "--api-key", "k2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("Fake Ashby on http://127.0.0.1:"), first
        url = first.split()[3]
        config = requests.get(f"{url}/_control/state", timeout=5).json()["config"]
        assert config["api_keys"] == ["k1", "k2"] and config["partner_url"] == partner.url
    finally:
        proc.terminate()
        proc.wait(10)


def test_dispatch_without_a_socket():
    ashby = FakeAshby("http://ashby.test")
    reply = ashby.dispatch(Request("GET", "/_control/state", {}, {}, b""))
    assert reply.status == 200 and reply.body["assessments"] == []
    missing = ashby.dispatch(Request("GET", "/nowhere", {}, {}, b""))
    assert missing.status == 404 and missing.body["success"] is False
    assert missing.body["errors"] == ["No route for GET /nowhere"]
    wrong_method = ashby.dispatch(Request("GET", "/assessment.update", {}, {}, b""))
    assert wrong_method.status == 405 and wrong_method.body["success"] is False
    no_partner = ashby.dispatch(Request("POST", "/_control/list", {}, {}, b"{}"))
    assert no_partner.status == 400 and "partner_url is not configured" in \
        no_partner.body["errors"][0]
    bad_json = ashby.dispatch(Request("POST", "/_control/start", {}, {}, b"{nope"))
    assert bad_json.status == 400 and bad_json.body["errors"][0].startswith("Invalid JSON")


def test_a_bug_in_the_fake_answers_500_in_the_envelope():
    ashby = FakeAshby("http://ashby.test")
    ashby.snapshot = None  # type: ignore[assignment]  # any handler crash
    reply = ashby.dispatch(Request("GET", "/_control/state", {}, {}, b""))
    assert reply.status == 500 and reply.body["success"] is False
    assert "fake Ashby bug" in reply.body["errors"][0]


def test_configure_any_subset_and_reset(fake: FakeServer):
    config = control(fake, "configure", {"key_field": "password", "api_keys": ["a", "b"]})
    assert config["config"]["key_field"] == "password"
    assert config["config"]["api_keys"] == ["a", "b"]
    assert config["config"]["partner_key"] == DEFAULT_PARTNER_KEY
    bad = control(fake, "configure", {"colour": "blue"}, expect=400)
    assert bad == {"success": False, "errors": ["unknown configuration ['colour']"]}
    control(fake, "configure", {"key_field": "header"}, expect=400)
    control(fake, "configure", {"partner_url": "ftp://x"}, expect=400)
    started(fake)
    control(fake, "reset")
    after = state(fake)
    assert after["assessments"] == [] and after["calls"] == []
    assert after["config"]["key_field"] == "username"


def test_the_page_shows_state_escaped_and_forms_redirect(fake: FakeServer):
    start(fake, candidate={"first_name": "<script>alert(1)</script>"})
    page = requests.get(f"{fake.url}/", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    assert 'action="/_control/start"' in page.text and 'action="/_control/cancel"' in page.text
    form = requests.post(f"{fake.url}/_control/start", data={"assessment_type_id": "numerical",
                                                              "first_name": "Grace"},
                         allow_redirects=False, timeout=10)
    assert form.status_code == 303 and form.headers["Location"] == "/"
    newest = state(fake)["assessments"][-1]
    assert newest["candidate"]["first_name"] == "Grace"
    assert newest["assessment_type_id"] == "numerical"


# --- Ashby -> partner: assessment.list -------------------------------------------------------

def test_list_posts_an_empty_object_with_the_key_as_basic_username(fake: FakeServer,
                                                                   partner: StubPartner):
    outcome = control(fake, "list")
    assert outcome["status"] == 200 and outcome["errors"] == []
    assert [t["assessment_type_id"] for t in outcome["assessment_types"]] == ["big-five",
                                                                               "numerical"]
    sent = partner.requests[-1]
    assert sent["method"] == "POST" and sent["path"] == "/integrations/ashby/assessment.list"
    assert sent["headers"]["authorization"] == basic(DEFAULT_PARTNER_KEY)
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["body"] == {}
    assert state(fake)["calls"][-1]["call"] == "assessment.list"
    assert violations(fake) == []


def test_the_key_can_go_in_the_basic_password_instead(fake: FakeServer, partner: StubPartner):
    control(fake, "configure", {"key_field": "password", "partner_key": "k-123"})
    control(fake, "list")
    assert partner.requests[-1]["headers"]["authorization"] == basic("", "k-123")


@pytest.mark.parametrize(("status", "body", "error"), [
    (500, {"success": True, "results": []}, "must answer 200, not 500"),
    (200, "<html>", "not JSON"),
    (200, {"results": []}, '"success": true'),
    (200, {"success": True, "results": {}}, "results must be a list"),
    (200, {"success": True, "results": [{"name": "X"}]}, "assessment_type_id is required"),
    (200, {"success": True, "results": [{"assessment_type_id": "x"}]}, "name is required"),
    (200, {"success": True, "results": [{"assessment_type_id": "x", "name": "X",
                                         "description": 5}]}, "description must be a string"),
    (200, {"success": True, "results": [{"assessment_type_id": "x", "name": "X"},
                                        {"assessment_type_id": "x", "name": "Y"}]},
     "listed twice"),
])
def test_list_answers_that_break_a_rule_are_violations(fake: FakeServer, partner: StubPartner,
                                                       status: int, body: Any, error: str):
    partner.answer("assessment.list", status, body)
    outcome = control(fake, "list")
    assert outcome["status"] == status
    assert len(outcome["errors"]) == 1 and error in outcome["errors"][0]
    assert violations(fake, "assessment.list")[0]["errors"] == outcome["errors"]


# --- Ashby -> partner: assessment.start ------------------------------------------------------

def test_start_sends_the_full_body_and_stores_the_assessment(fake: FakeServer,
                                                             partner: StubPartner):
    outcome = start(fake, candidate={"first_name": "Ada", "email": "ada@example.com"},
                    job={"name": "Data Engineer", "req_id": "REQ-7"})
    assert outcome["status"] == 200 and outcome["errors"] == []
    sent = partner.requests[-1]
    assert sent["path"] == "/integrations/ashby/assessment.start"
    assert sent["headers"]["authorization"] == basic(DEFAULT_PARTNER_KEY)
    body = sent["body"]
    assert set(body) == {"assessment_type_id", "candidate", "application", "job"}
    assert body["assessment_type_id"] == "big-five"
    candidate = body["candidate"]
    assert set(candidate) == {"ashby_id", "first_name", "last_name", "email",
                              "ashby_profile_url"}
    assert candidate["email"] == "ada@example.com"
    assert candidate["ashby_profile_url"].endswith(candidate["ashby_id"])
    assert body["application"]["status"] == "Active" and body["application"]["ashby_id"]
    assert body["job"]["name"] == "Data Engineer" and body["job"]["req_id"] == "REQ-7"
    assert set(body["job"]) == {"ashby_id", "name", "req_id", "ashby_job_url", "hiringTeam"}
    assert body["job"]["hiringTeam"] == []
    record = outcome["assessment"]
    assert record["assessment_id"] == f"asmt-{body['application']['ashby_id']}"
    assert record["application_id"] == body["application"]["ashby_id"]
    assert record["candidate"] == candidate
    for key, empty in [("updates", []), ("status", None), ("result", None),
                       ("profile_url", None), ("metadata", []), ("cancelled_reason", None),
                       ("completed", False), ("cancelled", False)]:
        assert record[key] == empty
    assert state(fake)["assessments"] == [record]


def test_start_without_a_type_uses_the_first_listed_one(fake: FakeServer, partner: StubPartner):
    control(fake, "start", {}, expect=400)
    control(fake, "list")
    control(fake, "start", {})
    assert partner.requests[-1]["body"]["assessment_type_id"] == "big-five"


def test_each_start_is_a_new_candidate_unless_the_application_is_reused(fake: FakeServer,
                                                                        partner: StubPartner):
    start(fake)
    start(fake)
    one, two = (r["body"] for r in partner.requests[-2:])
    assert one["candidate"]["ashby_id"] != two["candidate"]["ashby_id"]
    assert one["candidate"]["email"] != two["candidate"]["email"]
    assert one["application"]["ashby_id"] != two["application"]["ashby_id"]
    again = start(fake, application_id=one["application"]["ashby_id"],
                  application_status="Lead")
    three = partner.requests[-1]["body"]
    assert three["candidate"] == one["candidate"] and three["job"] == one["job"]
    assert three["application"] == {"ashby_id": one["application"]["ashby_id"], "status": "Lead"}
    # the stub is idempotent (the id derives from the application): one record, two starts
    assert again["errors"] == [] and again["assessment"]["starts"] == 2
    assert len(state(fake)["assessments"]) == 2


def test_a_new_assessment_for_a_resent_application_is_a_violation(fake: FakeServer,
                                                                  partner: StubPartner):
    first = start(fake)
    counter = iter(range(100))
    partner.answers["assessment.start"] = lambda body: (200, {"success": True, "results": {
        "assessment_id": f"fresh-{next(counter)}"}})
    again = start(fake, application_id=first["assessment"]["application_id"])
    assert len(again["errors"]) == 1 and "not idempotent" in again["errors"][0]
    assert violations(fake, "assessment.start")[0]["errors"] == again["errors"]


def test_start_refusals_409_and_422_with_a_message_are_valid(fake: FakeServer,
                                                             partner: StubPartner):
    partner.answer("assessment.start", 409, {"success": False})
    conflict = start(fake)
    assert conflict["status"] == 409 and conflict["errors"] == [] and conflict["refused"]
    assert conflict["assessment"] is None
    partner.answer("assessment.start", 422, {"message": "This test is not in your plan"})
    refused = start(fake)
    assert refused["errors"] == [] and refused["message"] == "This test is not in your plan"
    got = state(fake)
    assert [r["status"] for r in got["refusals"]] == [409, 422]
    assert got["assessments"] == [] and got["violations"] == []


@pytest.mark.parametrize(("status", "body", "error"), [
    (422, {"error": "nope"}, "a 422 must carry"),
    (422, {"message": ""}, "a 422 must carry"),
    (400, {"message": "bad"}, "must answer 200, 409 or 422, not 400"),
    (500, "", "must answer 200, 409 or 422, not 500"),
    (200, {"results": {"assessment_id": "a"}}, '"success": true'),
    (200, {"success": True, "results": []}, "results must be an object"),
    (200, {"success": True, "results": {}}, "results.assessment_id is required"),
    (200, {"success": True, "results": {"assessment_id": ""}}, "results.assessment_id is"),
    (200, {"success": True, "results": {"assessment_id": "a", "update_request": "Invited"}},
     "update_request must be an assessment.update-shaped object"),
    (200, "not json", "not JSON"),
])
def test_start_answers_that_break_a_rule_are_violations(fake: FakeServer, partner: StubPartner,
                                                        status: int, body: Any, error: str):
    partner.answer("assessment.start", status, body)
    outcome = start(fake)
    assert len(outcome["errors"]) == 1 and error in outcome["errors"][0], outcome["errors"]
    assert violations(fake, "assessment.start")[0]["errors"] == outcome["errors"]


def test_a_valid_update_request_is_applied(fake: FakeServer, partner: StubPartner):
    ts = now_ms()
    partner.answers["assessment.start"] = lambda body: (200, {"success": True, "results": {
        "assessment_id": "asmt-1", "update_request": {
            "assessment_id": "asmt-1", "timestamp": ts,
            "assessment_status": status_blob("Invited")}}})
    outcome = start(fake)
    assert outcome["errors"] == []
    record = outcome["assessment"]
    assert record["status"] == "Invited" and len(record["updates"]) == 1
    assert record["updates"][0]["source"] == "assessment.start"
    # Resending the application gets the same answer back: not a second update, not a violation
    again = start(fake, application_id=record["application_id"])
    assert again["errors"] == [] and len(again["assessment"]["updates"]) == 1
    # ... and the next update must be later than the update_request's timestamp
    stale = post_api(fake, {"assessment_id": "asmt-1", "timestamp": ts,
                            "assessment_status": status_blob("Started")})
    assert stale.json()["success"] is False


@pytest.mark.parametrize(("update", "error"), [
    ({"assessment_id": "asmt-1", "timestamp": "2024-06-10T10:00:00Z",
      "assessment_status": {"identifier": "status", "label": "Status", "type": "string",
                            "value": "Invited"}}, "update_request: timestamp must be an integer"),
    ({"assessment_id": "asmt-1", "timestamp": 1718000000000}, "update_request: assessment_status"),
    ({"assessment_id": "other", "timestamp": 1718000000000,
      "assessment_status": {"identifier": "status", "label": "Status", "type": "string",
                            "value": "Invited"}}, "is not the results.assessment_id"),
    ({"timestamp": 1718000000000,
      "assessment_status": {"identifier": "status", "label": "Status", "type": "string",
                            "value": "Invited"}}, "update_request: assessment_id is required"),
])
def test_a_bad_update_request_is_a_violation(fake: FakeServer, partner: StubPartner,
                                             update: dict, error: str):
    partner.answer("assessment.start", 200, {"success": True, "results": {
        "assessment_id": "asmt-1", "update_request": update}})
    outcome = start(fake)
    assert any(error in e for e in outcome["errors"]), outcome["errors"]
    assert outcome["assessment"]["updates"] == [] and outcome["assessment"]["status"] is None
    assert violations(fake, "assessment.start")[0]["errors"] == outcome["errors"]


def test_an_unreachable_partner_is_recorded(fake: FakeServer, partner: StubPartner):
    control(fake, "configure", {"partner_url": "http://127.0.0.1:9/integrations/ashby",
                                "partner_timeout": 2})
    outcome = start(fake)
    assert outcome["status"] is None and "no HTTP answer" in outcome["errors"][0]
    assert violations(fake, "assessment.start")


def test_the_partner_may_call_update_while_start_is_in_flight(fake: FakeServer,
                                                              partner: StubPartner):
    """The lock is not held during the call; Ashby does not know the id until start answers."""
    seen: list[requests.Response] = []

    def answer(body: dict) -> tuple[int, Any]:
        seen.append(post_api(fake, {"assessment_id": "asmt-early", "timestamp": now_ms(),
                                    "assessment_status": status_blob("Invited")}))
        return 200, {"success": True, "results": {"assessment_id": "asmt-early"}}

    partner.answers["assessment.start"] = answer
    began = time.monotonic()
    outcome = start(fake)
    assert time.monotonic() - began < 5 and outcome["errors"] == []
    assert seen[0].status_code == 200
    assert seen[0].json() == {"success": False, "errors": ["assessment_not_found"]}


# --- Ashby -> partner: assessment.cancel -----------------------------------------------------

def test_cancel_posts_the_id_and_marks_the_assessment_cancelled(fake: FakeServer,
                                                                partner: StubPartner):
    aid = started(fake)
    outcome = control(fake, "cancel", {"assessment_id": aid})
    assert outcome["status"] == 200 and outcome["errors"] == []
    sent = partner.requests[-1]
    assert sent["path"] == "/integrations/ashby/assessment.cancel"
    assert sent["body"] == {"assessment_id": aid}
    assert sent["headers"]["authorization"] == basic(DEFAULT_PARTNER_KEY)
    assert outcome["assessment"]["cancelled"] is True
    assert outcome["assessment"]["cancelled_by"] == "ashby"
    control(fake, "cancel", {}, expect=400)


def test_a_cancel_error_envelope_is_valid_and_changes_nothing(fake: FakeServer,
                                                              partner: StubPartner):
    aid = started(fake)
    partner.answer("assessment.cancel", 200, {"success": False, "errors": ["already_done"]})
    outcome = control(fake, "cancel", {"assessment_id": aid})
    assert outcome["errors"] == [] and outcome["assessment"]["cancelled"] is False
    assert violations(fake) == []


@pytest.mark.parametrize(("status", "body", "error"), [
    (404, {"success": False, "errors": ["assessment_not_found"]}, "must answer 200, not 404"),
    (200, {"ok": True}, '"success": true or false'),
    (200, {"success": False}, "non-empty list of strings"),
    (200, {"success": False, "errors": []}, "non-empty list of strings"),
    (200, {"success": False, "errors": [{"code": 1}]}, "non-empty list of strings"),
])
def test_cancel_answers_that_break_a_rule_are_violations(fake: FakeServer, partner: StubPartner,
                                                         status: int, body: Any, error: str):
    aid = started(fake)
    partner.answer("assessment.cancel", status, body)
    outcome = control(fake, "cancel", {"assessment_id": aid})
    assert len(outcome["errors"]) == 1 and error in outcome["errors"][0]
    assert violations(fake, "assessment.cancel")[0]["errors"] == outcome["errors"]
    assert outcome["assessment"]["cancelled"] is False


# --- partner -> Ashby: assessment.update -----------------------------------------------------

def test_a_valid_completion_is_applied_and_visible_in_state(fake: FakeServer):
    aid = started(fake)
    ts = now_ms()
    started_reply = post_api(fake, {"assessment_id": aid, "timestamp": ts,
                                    "assessment_status": status_blob("Started")})
    assert started_reply.status_code == 200 and started_reply.json() == {"success": True}
    done = post_api(fake, completion(aid, ts + 1000))
    assert done.status_code == 200 and done.json() == {"success": True}
    record = state(fake)["assessments"][0]
    assert record["completed"] is True and record["cancelled"] is False
    assert record["status"] == "Completed" and record["started_at_ms"] == ts
    assert record["result"]["value"] == 87 and record["result"]["type"] == "numeric_score"
    assert record["profile_url"] == f"https://assay.test/r/{aid}"
    assert [m["identifier"] for m in record["metadata"]] == ["max_score", "duration", "passed"]
    assert len(record["updates"]) == 2
    headers = record["updates"][1]["headers"]
    assert headers["user-agent"] == UA and headers["accept"] == ACCEPT
    assert headers["auth_username"] == DEFAULT_API_KEY and headers["auth_password_empty"]
    assert violations(fake) == []


def test_a_cancelled_reason_alone_cancels(fake: FakeServer):
    aid = started(fake)
    reply = post_api(fake, {"assessment_id": aid, "timestamp": now_ms(),
                            "cancelled_reason": blob("cancelled_reason", "string",
                                                     "Cancelled in Ashby", "Cancelled")})
    assert reply.json() == {"success": True}
    record = state(fake)["assessments"][0]
    assert record["cancelled"] is True and record["cancelled_by"] == "partner"
    assert record["cancelled_reason"]["value"] == "Cancelled in Ashby"
    assert record["completed"] is False


def test_two_connections_can_share_one_fake(fake: FakeServer):
    control(fake, "configure", {"api_keys": ["org-a-key", "org-b-key"]})
    aid = started(fake)
    for i, key in enumerate(["org-a-key", "org-b-key"]):
        reply = post_api(fake, {"assessment_id": aid, "timestamp": now_ms() + i,
                                "assessment_status": status_blob("Invited")}, key=key)
        assert reply.json() == {"success": True}
    assert post_api(fake, {}, key=DEFAULT_API_KEY).status_code == 403


@pytest.mark.parametrize(("key", "password", "status"), [
    (None, "", 401),
    ("", "", 401),
    ("", DEFAULT_API_KEY, 401),
    ("not-a-key", "", 403),
])
def test_update_auth_401_when_missing_403_when_wrong(fake: FakeServer, key: str | None,
                                                     password: str, status: int):
    aid = started(fake)
    reply = post_api(fake, {"assessment_id": aid, "timestamp": now_ms(),
                            "assessment_status": status_blob("Invited")},
                     key=key, password=password)
    assert reply.status_code == status
    assert reply.json()["success"] is False and len(reply.json()["errors"]) == 1
    assert state(fake)["assessments"][0]["updates"] == []
    assert violations(fake, "assessment.update")


def test_a_bearer_header_is_missing_basic_auth(fake: FakeServer):
    reply = post_api(fake, {}, key=None, Authorization=f"Bearer {DEFAULT_API_KEY}")
    assert reply.status_code == 401


def test_a_non_empty_password_works_but_is_noted(fake: FakeServer):
    aid = started(fake)
    reply = post_api(fake, {"assessment_id": aid, "timestamp": now_ms(),
                            "assessment_status": status_blob("Invited")}, password="x")
    assert reply.json() == {"success": True}
    assert "password should be empty" in violations(fake, "assessment.update")[0]["errors"][0]


@pytest.mark.parametrize("agent", [None, "python-requests/2.32.3", "Python-urllib/3.12",
                                   "python-urllib3/2.8.0", "python-httpx/0.27.0"])
def test_an_empty_or_library_user_agent_gets_cloudflare_1010(fake: FakeServer,
                                                             agent: str | None):
    aid = started(fake)
    reply = post_api(fake, {"assessment_id": aid, "timestamp": now_ms(),
                            "assessment_status": status_blob("Invited")}, User_Agent=agent)
    assert reply.status_code == 403 and reply.text == "error code: 1010"
    assert "1010" in violations(fake, "assessment.update")[0]["errors"][0]
    assert state(fake)["assessments"][0]["updates"] == []


@pytest.mark.parametrize("agent", [None, "", "   "])
def test_a_missing_or_blank_user_agent_gets_1010_through_dispatch(agent: str | None):
    ashby = FakeAshby("http://ashby.test", api_keys=["k"])
    headers = {"authorization": basic("k"), "accept": ACCEPT,
               "content-type": "application/json"}
    if agent is not None:
        headers["user-agent"] = agent
    reply = ashby.dispatch(Request("POST", "/assessment.update", {}, headers, b"{}"))
    assert reply.status == 403 and reply.body == "error code: 1010"
    headers["user-agent"] = UA
    reply = ashby.dispatch(Request("POST", "/assessment.update", {}, headers, b"{}"))
    assert reply.status == 200 and reply.body["success"] is False  # past Cloudflare and auth


@pytest.mark.parametrize(("accept", "ok"), [
    (ACCEPT, True),
    ("application/json;version=1", True),
    ("Application/JSON; Version=1", True),
    (None, False),
    ("application/json", False),
    ("application/json; version=2", False),
    ("*/*", False),
])
def test_update_needs_accept_version_1(fake: FakeServer, accept: str | None, ok: bool):
    aid = started(fake)
    reply = post_api(fake, {"assessment_id": aid, "timestamp": now_ms(),
                            "assessment_status": status_blob("Invited")}, Accept=accept)
    if ok:
        assert reply.status_code == 200 and reply.json() == {"success": True}
        assert violations(fake) == []
    else:
        assert reply.status_code == 400 and reply.json()["success"] is False
        assert "Accept" in violations(fake, "assessment.update")[0]["errors"][0]


def test_update_needs_a_json_body(fake: FakeServer):
    assert post_api(fake, b"{nope").status_code == 400
    assert post_api(fake, {}, Content_Type="text/plain").status_code == 400
    assert len(violations(fake, "assessment.update")) == 2


def _update(aid: str, ts: int, **changes: Any) -> dict:
    body = {"assessment_id": aid, "timestamp": ts, "assessment_status": status_blob("Started")}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


BAD_UPDATES: list[tuple[str, Callable[[str, int], dict], str]] = [
    ("unknown id", lambda aid, ts: _update("asmt-nobody", ts), "assessment_not_found"),
    ("no id", lambda aid, ts: _update(None, ts), "assessment_id is required"),
    ("no timestamp", lambda aid, ts: _update(aid, None), "timestamp is required"),
    ("ISO timestamp", lambda aid, ts: _update(aid, "2024-06-10T10:00:00Z"),
     "must be an integer"),
    ("float timestamp", lambda aid, ts: _update(aid, ts + 0.5), "must be an integer"),
    ("bool timestamp", lambda aid, ts: _update(aid, True), "must be an integer"),
    ("seconds", lambda aid, ts: _update(aid, ts // 1000), "not plausibly milliseconds"),
    ("microseconds", lambda aid, ts: _update(aid, ts * 1000), "not plausibly milliseconds"),
    ("no status", lambda aid, ts: _update(aid, ts, assessment_status=None),
     "assessment_status is required unless cancelled_reason"),
    ("blob without label", lambda aid, ts: _update(
        aid, ts, assessment_status={"identifier": "status", "type": "string", "value": "x"}),
     "assessment_status.label is required"),
    ("blob without value", lambda aid, ts: _update(
        aid, ts, assessment_status={"identifier": "status", "label": "S", "type": "string"}),
     "assessment_status.value is required"),
    ("blob not an object", lambda aid, ts: _update(aid, ts, assessment_status="Started"),
     "assessment_status must be an object"),
    ("unknown blob type", lambda aid, ts: _update(
        aid, ts, assessment_status=blob("status", "text", "Started")), "is not one of"),
    ("empty identifier", lambda aid, ts: _update(
        aid, ts, assessment_status=blob("", "string", "Started", "S")),
     "identifier must be a non-empty string"),
    ("description not a string", lambda aid, ts: _update(
        aid, ts, assessment_status={**status_blob("Started"), "description": 3}),
     "description must be a string"),
    ("string type, number value", lambda aid, ts: _update(
        aid, ts, assessment_status=blob("status", "string", 5)), "does not fit type string"),
    ("score as a string", lambda aid, ts: {**completion(aid, ts), "assessment_result": blob(
        "score", "numeric_score", "87")}, "does not fit type numeric_score"),
    ("score as a bool", lambda aid, ts: {**completion(aid, ts), "assessment_result": blob(
        "score", "numeric_score", True)}, "does not fit type numeric_score"),
    ("relative url", lambda aid, ts: {**completion(aid, ts), "assessment_profile_url": blob(
        "result_url", "url", "/r/1")}, "does not fit type url"),
    ("ftp url", lambda aid, ts: {**completion(aid, ts), "assessment_profile_url": blob(
        "result_url", "url", "ftp://assay.test/r/1")}, "does not fit type url"),
    ("boolean as a string", lambda aid, ts: {**completion(aid, ts), "metadata": [blob(
        "passed", "boolean_success", "true")]}, "does not fit type boolean_success"),
    ("duration as a string", lambda aid, ts: {**completion(aid, ts), "metadata": [blob(
        "duration", "numeric_duration_minutes", "47")]},
     "does not fit type numeric_duration_minutes"),
    ("result without profile url", lambda aid, ts: _update(
        aid, ts, assessment_result=blob("score", "numeric_score", 87)),
     "assessment_profile_url is required when assessment_result is sent"),
    ("profile url not of type url", lambda aid, ts: {**completion(aid, ts),
                                                     "assessment_profile_url": blob(
        "result_url", "string", "https://assay.test/r/1")},
     "assessment_profile_url.type must be 'url'"),
    ("metadata not a list", lambda aid, ts: {**completion(aid, ts), "metadata": {"a": 1}},
     "metadata must be a list"),
    ("metadata identifiers twice", lambda aid, ts: {**completion(aid, ts), "metadata": [
        blob("x", "numeric_score", 1), blob("x", "numeric_score", 2)]}, "used twice"),
    ("bad cancelled_reason", lambda aid, ts: _update(
        aid, ts, assessment_status=None, cancelled_reason={"identifier": "c"}),
     "cancelled_reason.label is required"),
]


@pytest.mark.parametrize(("make", "error"), [(m, e) for _, m, e in BAD_UPDATES],
                         ids=[name for name, _, _ in BAD_UPDATES])
def test_update_rules(fake: FakeServer, make: Callable[[str, int], dict], error: str):
    aid = started(fake)
    ts = now_ms()
    reply = post_api(fake, make(aid, ts))
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["success"] is False
    assert any(error in e for e in answer["errors"]), answer["errors"]
    assert violations(fake, "assessment.update")[0]["errors"] == answer["errors"]
    record = state(fake)["assessments"][0]
    assert record["updates"] == [] and record["completed"] is False
    # the same assessment with a good body passes
    assert post_api(fake, completion(aid, ts + 10)).json() == {"success": True}


@pytest.mark.parametrize("delta", [0, -1])
def test_timestamps_must_increase_per_assessment(fake: FakeServer, delta: int):
    aid, other = started(fake), started(fake)
    ts = now_ms()
    assert post_api(fake, _update(aid, ts)).json() == {"success": True}
    assert post_api(fake, _update(other, ts + delta)).json() == {"success": True}
    late = post_api(fake, _update(aid, ts + delta)).json()
    assert late["success"] is False and "is not after the previous update" in late["errors"][0]
    assert post_api(fake, _update(aid, ts + 1)).json() == {"success": True}


def test_an_end_to_end_poll_sees_the_completion(fake: FakeServer, partner: StubPartner):
    """A partner that writes back in the background: the test polls state with a deadline."""

    def answer(body: dict) -> tuple[int, Any]:
        aid = f"bg-{body['application']['ashby_id']}"

        def later() -> None:  # like an outbox: retry until Ashby knows the assessment
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if post_api(fake, completion(aid, now_ms())).json()["success"]:
                    return
                time.sleep(0.02)

        threading.Thread(target=later, daemon=True).start()
        return 200, {"success": True, "results": {"assessment_id": aid}}

    partner.answers["assessment.start"] = answer
    aid = start(fake)["assessment"]["assessment_id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        record = next(a for a in state(fake)["assessments"] if a["assessment_id"] == aid)
        if record["completed"]:
            break
        time.sleep(0.02)
    assert record["completed"] and record["result"]["value"] == 87
    assert record["profile_url"].endswith(aid) and len(record["metadata"]) == 3


# --- faults ---------------------------------------------------------------------------------

def test_a_partner_wide_429_then_normal_answers(fake: FakeServer):
    aid = started(fake)
    control(fake, "faults", {"route": "update", "status": 429, "times": 2,
                             "headers": {"X-RateLimit-Scope": "integration-partner",
                                         "Retry-After": "2"}}, expect=201)
    for _ in range(2):
        throttled = post_api(fake, _update(aid, now_ms()))
        assert throttled.status_code == 429
        assert throttled.headers["X-RateLimit-Scope"] == "integration-partner"
        assert throttled.headers["Retry-After"] == "2"
        assert throttled.json()["success"] is False
    assert post_api(fake, _update(aid, now_ms())).json() == {"success": True}
    got = state(fake)
    assert got["faults"] == []
    assert [r["status"] for r in got["received"]] == [429, 429, 200]
    assert got["received"][0]["fault"] is True


def test_a_per_key_429_has_no_scope_header_and_faults_are_per_route(fake: FakeServer):
    aid = started(fake)
    control(fake, "faults", {"route": "addCompleted", "status": 503}, expect=201)
    control(fake, "faults", {"route": "update", "status": 429, "body": {"custom": 1}},
            expect=201)
    throttled = post_api(fake, _update(aid, now_ms()))
    assert throttled.status_code == 429 and "X-RateLimit-Scope" not in throttled.headers
    assert throttled.json() == {"custom": 1}
    assert post_api(fake, {}, route="assessment.addCompletedToCandidate").status_code == 503
    control(fake, "faults", {"route": "update", "status": 500, "times": 5}, expect=201)
    assert control(fake, "faults", method="DELETE") == {"cleared": 1}
    assert post_api(fake, _update(aid, now_ms())).json() == {"success": True}
    control(fake, "faults", {"route": "assessment.update", "status": 500}, expect=400)
    control(fake, "faults", {"route": "update"}, expect=400)


def test_a_delay_fault_stalls_then_answers(fake: FakeServer):
    aid = started(fake)
    control(fake, "faults", {"route": "update", "delay": 0.3}, expect=201)
    began = time.monotonic()
    assert post_api(fake, _update(aid, now_ms())).json() == {"success": True}
    assert time.monotonic() - began >= 0.3


# --- partner -> Ashby: assessment.addCompletedToCandidate ------------------------------------

def _completed(candidate_id: str, **changes: Any) -> dict:
    body = {"candidateId": candidate_id, "partnerId": "assay", "timestamp": now_ms(),
            "assessment": {"assessmentTypeId": "big-five", "assessmentId": "ext-1",
                           "assessmentName": "Big Five",
                           "result": blob("score", "numeric_score", 70),
                           "metadata": [blob("duration", "numeric_duration_minutes", 12)]}}
    body.update(changes)
    return body


def test_add_completed_to_candidate_stores_and_answers_results(fake: FakeServer):
    outcome = start(fake)
    cid = outcome["assessment"]["candidate"]["ashby_id"]
    reply = post_api(fake, _completed(cid), route="assessment.addCompletedToCandidate")
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["success"] is True
    assert answer["results"]["candidateId"] == cid
    assert answer["results"]["assessmentId"] == "ext-1"
    assert answer["results"]["result"]["value"] == 70
    assert state(fake)["completed_to_candidate"][0]["body"]["candidateId"] == cid


@pytest.mark.parametrize(("changes", "error"), [
    ({"candidateId": ""}, "candidateId is required"),
    ({"partnerId": None}, "partnerId is required"),
    ({"timestamp": "2024-01-01"}, "timestamp must be an integer"),
    ({"assessment": None}, "assessment is required"),
    ({"assessment": {"assessmentTypeId": "t", "assessmentId": "i", "assessmentName": "n",
                     "metadata": []}}, "assessment.result is required"),
    ({"assessment": {"assessmentTypeId": "t", "assessmentName": "n", "metadata": [],
                     "result": {"identifier": "s", "label": "S", "type": "numeric_score",
                                "value": 1}}}, "assessment.assessmentId is required"),
    ({"assessment": {"assessmentTypeId": "t", "assessmentId": "i", "assessmentName": "n",
                     "result": {"identifier": "s", "label": "S", "type": "numeric_score",
                                "value": 1}}}, "assessment.metadata is required"),
])
def test_add_completed_rules(fake: FakeServer, changes: dict, error: str):
    cid = start(fake)["assessment"]["candidate"]["ashby_id"]
    reply = post_api(fake, _completed(cid, **changes), route="assessment.addCompletedToCandidate")
    answer = reply.json()
    assert reply.status_code == 200 and answer["success"] is False
    assert any(error in e for e in answer["errors"]), answer["errors"]
    assert violations(fake, "assessment.addCompletedToCandidate")


def test_add_completed_needs_a_known_candidate_and_the_same_auth(fake: FakeServer):
    route = "assessment.addCompletedToCandidate"
    assert post_api(fake, _completed("who"), route=route).json() == {
        "success": False, "errors": ["candidate_not_found"]}
    assert post_api(fake, _completed("who"), route=route, key=None).status_code == 401
    assert post_api(fake, _completed("who"), route=route, key="nope").status_code == 403
    assert post_api(fake, _completed("who"), route=route, User_Agent=None).status_code == 403
    assert post_api(fake, _completed("who"), route=route, Accept="*/*").status_code == 400


def test_every_page_form_posts_and_redirects(fake: FakeServer, partner: StubPartner):
    def form(path: str, data: dict) -> None:
        reply = requests.post(f"{fake.url}/_control/{path}", data=data, allow_redirects=False,
                              timeout=10,  # as a browser sends it, even with no fields
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status_code == 303 and reply.headers["Location"] == "/", reply.text

    form("configure", {"partner_url": "", "partner_key": "", "key_field": "password",
                       "api_keys": "a, b"})
    assert state(fake)["config"]["partner_url"] == partner.url  # empty fields: unchanged
    assert state(fake)["config"]["api_keys"] == ["a", "b"]
    form("list", {})
    assert 'option value="numerical"' in requests.get(f"{fake.url}/", timeout=5).text
    form("start", {"assessment_type_id": "big-five", "application_status": "Lead"})
    assert partner.requests[-1]["headers"]["authorization"] == basic("", DEFAULT_PARTNER_KEY)
    assert partner.requests[-1]["body"]["application"]["status"] == "Lead"
    aid = state(fake)["assessments"][0]["assessment_id"]
    form("cancel", {"assessment_id": aid})
    assert state(fake)["assessments"][0]["cancelled"] is True
    form("faults", {"route": "update", "status": "429", "times": "1",
                    "scope": "integration-partner"})
    assert state(fake)["faults"][0]["headers"] == {"Retry-After": "2",
                                                   "X-RateLimit-Scope": "integration-partner"}
    form("reset", {})
    assert state(fake)["assessments"] == [] and state(fake)["faults"] == []
