"""BaseClient: error mapping, bounded retries, Retry-After, rate-limit hook. No network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from integrations.errors import (
    AuthError,
    NotFound,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from integrations.http import (
    DEFAULT_TIMEOUT,
    BaseClient,
    build_user_agent,
    parse_retry_after,
    raise_for_response,
)

BASE = "https://ats.example/v1"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> BaseClient:
    return BaseClient(BASE, user_agent="Assay/1.2.3 (+https://assay.example)", sleep=sleeps)


def _response(status: int, body: bytes = b"", headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers or {})
    return response


# -- parse_retry_after ----------------------------------------------------------------------------


def test_retry_after_reads_seconds() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0


def test_retry_after_reads_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=42), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(42.0)
    assert parse_retry_after(earlier, now=now) == 0.0


def test_retry_after_ignores_garbage() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


def test_user_agent_names_version_and_site() -> None:
    assert (
        build_user_agent("1.2.3", "https://assay.example") == "Assay/1.2.3 (+https://assay.example)"
    )
    assert build_user_agent("1.2.3") == "Assay/1.2.3"


# -- raise_for_response ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthError),
        (404, NotFound),
        (429, RateLimited),
        (500, TransientProviderError),
        (502, TransientProviderError),
        (503, TransientProviderError),
        (504, TransientProviderError),
        (408, TransientProviderError),
        (400, PermanentProviderError),
        (403, PermanentProviderError),
        (409, PermanentProviderError),
        (422, PermanentProviderError),
        (301, PermanentProviderError),
    ],
)
def test_it_maps_statuses_to_errors(status: int, error: type[ProviderError]) -> None:
    with pytest.raises(error) as info:
        raise_for_response(_response(status, b'{"code": "X", "message": "nope"}'))
    assert info.value.status_code == status


def test_it_marks_transient_and_permanent_errors() -> None:
    assert TransientProviderError("x").permanent is False
    assert RateLimited("x").permanent is False
    assert PermanentProviderError("x").permanent is True
    assert NotFound("x").permanent is True
    assert AuthError("x").permanent is True
    assert ProviderError("x", permanent=True).permanent is True


def test_it_keeps_the_vendors_message_and_code() -> None:
    body = b'{"code": "BadRequestError", "message": "perform_as is required"}'
    with pytest.raises(PermanentProviderError) as info:
        raise_for_response(_response(400, body))
    assert info.value.message == "perform_as is required"
    assert info.value.code == "BadRequestError"
    assert "HTTP 400" in str(info.value)


def test_it_uses_text_bodies_when_not_json() -> None:
    with pytest.raises(PermanentProviderError, match="plain failure"):
        raise_for_response(_response(400, b"plain failure"))


def test_429_carries_retry_after() -> None:
    with pytest.raises(RateLimited) as info:
        raise_for_response(_response(429, b"{}", {"Retry-After": "7"}))
    assert info.value.retry_after == 7.0


def test_success_does_not_raise() -> None:
    raise_for_response(_response(204))


# -- BaseClient -----------------------------------------------------------------------------------


@responses.activate
def test_it_sends_user_agent_and_json(client: BaseClient) -> None:
    responses.get(f"{BASE}/things", json={"ok": True})
    assert client.get_json("/things") == {"ok": True}
    sent = responses.calls[0].request
    assert sent.headers["User-Agent"] == "Assay/1.2.3 (+https://assay.example)"
    assert sent.headers["Accept"] == "application/json"


def test_it_uses_connect_and_read_timeouts(sleeps: Sleeps) -> None:
    seen = {}

    class Spy(requests.Session):
        def request(self, method, url, **kwargs):  # type: ignore[override]
            seen.update(kwargs)
            return _response(200, b"{}")

    BaseClient(BASE, session=Spy(), sleep=sleeps).get_json("/x")
    assert seen["timeout"] == DEFAULT_TIMEOUT == (5.0, 30.0)


@responses.activate
def test_it_retries_503_then_succeeds(client: BaseClient, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/x", status=503)
    responses.get(f"{BASE}/x", json={"ok": 1})
    assert client.get_json("/x") == {"ok": 1}
    assert len(responses.calls) == 2
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 0.5


@responses.activate
def test_it_honours_retry_after_on_429(client: BaseClient, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "2"})
    responses.get(f"{BASE}/x", json={"ok": 1})
    assert client.get_json("/x") == {"ok": 1}
    assert sleeps == [2.0]


@responses.activate
def test_long_retry_after_is_raised_for_the_outbox(client: BaseClient, sleeps: Sleeps) -> None:
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as info:
        client.get_json("/x")
    assert info.value.retry_after == 120.0
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_long_retry_after_on_503_is_raised_as_rate_limited(client: BaseClient) -> None:
    responses.get(f"{BASE}/x", status=503, headers={"Retry-After": "300"})
    with pytest.raises(RateLimited) as info:
        client.get_json("/x")
    assert info.value.retry_after == 300.0 and info.value.status_code == 503


@responses.activate
def test_it_gives_up_after_max_attempts(client: BaseClient, sleeps: Sleeps) -> None:
    for _ in range(5):
        responses.get(f"{BASE}/x", status=502)
    with pytest.raises(TransientProviderError):
        client.get_json("/x")
    assert len(responses.calls) == 3 and len(sleeps) == 2


@responses.activate
def test_it_does_not_repeat_a_post_after_a_500(client: BaseClient, sleeps: Sleeps) -> None:
    # The note may already exist: the outbox retries with its own idempotency check instead.
    responses.post(f"{BASE}/notes", status=500)
    with pytest.raises(TransientProviderError):
        client.post_json("/notes", json={"value": "x"})
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_it_repeats_a_post_after_503_and_429(client: BaseClient) -> None:
    responses.post(f"{BASE}/notes", status=503)
    responses.post(f"{BASE}/notes", status=429, headers={"Retry-After": "0"})
    responses.post(f"{BASE}/notes", status=201, json={"data": {"noteId": "n1"}})
    assert client.post_json("/notes", json={"value": "x"}) == {"data": {"noteId": "n1"}}
    assert len(responses.calls) == 3


@responses.activate
def test_it_retries_connection_errors_on_get(client: BaseClient) -> None:
    responses.get(f"{BASE}/x", body=requests.ConnectionError("reset"))
    responses.get(f"{BASE}/x", json=[1])
    assert client.get_json("/x") == [1]


@responses.activate
def test_connection_errors_become_transient(client: BaseClient) -> None:
    for _ in range(3):
        responses.get(f"{BASE}/x", body=requests.ConnectionError("refused"))
    with pytest.raises(TransientProviderError):
        client.get_json("/x")


@responses.activate
def test_a_read_timeout_on_post_is_not_repeated(client: BaseClient) -> None:
    responses.post(f"{BASE}/x", body=requests.ReadTimeout("slow"))
    with pytest.raises(TransientProviderError):
        client.post_json("/x", json={})
    assert len(responses.calls) == 1


@responses.activate
def test_a_connect_timeout_on_post_is_repeated(client: BaseClient) -> None:
    responses.post(f"{BASE}/x", body=requests.ConnectTimeout("no route"))
    responses.post(f"{BASE}/x", json={"ok": 1})
    assert client.post_json("/x", json={}) == {"ok": 1}


@responses.activate
def test_client_errors_are_not_retried(client: BaseClient) -> None:
    responses.get(f"{BASE}/x", status=401, json={"code": "UnauthorizedError", "message": "bad"})
    with pytest.raises(AuthError):
        client.get_json("/x")
    assert len(responses.calls) == 1


@responses.activate
def test_rate_limiter_is_consulted_before_every_attempt(sleeps: Sleeps) -> None:
    class Limiter:
        calls = 0

        def acquire(self) -> None:
            Limiter.calls += 1

    api = BaseClient(BASE, rate_limiter=Limiter(), sleep=sleeps)
    responses.get(f"{BASE}/x", status=503)
    responses.get(f"{BASE}/x", json={})
    api.get_json("/x")
    assert Limiter.calls == 2


@responses.activate
def test_a_refusing_rate_limiter_stops_the_request(client: BaseClient) -> None:
    class Refuse:
        def acquire(self) -> None:
            raise RateLimited("local bucket empty", 0.1, status_code=None)

    client.rate_limiter = Refuse()
    with pytest.raises(RateLimited):
        client.get_json("/x")
    assert len(responses.calls) == 0


@responses.activate
def test_request_json_handles_empty_and_non_json_bodies(client: BaseClient) -> None:
    responses.delete(f"{BASE}/x", status=204)
    responses.get(f"{BASE}/html", body="<html>maintenance</html>", status=200)
    assert client.delete("/x") is None
    with pytest.raises(TransientProviderError):
        client.get_json("/html")


@responses.activate
def test_absolute_urls_bypass_the_base_url(client: BaseClient) -> None:
    responses.post("https://auth.example/oauth/token", json={"ok": 1})
    assert client.post_json("https://auth.example/oauth/token", data={}) == {"ok": 1}
