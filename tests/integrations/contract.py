"""The contract every ATS adapter passes (DESIGN §2 "A contract test suite runs every adapter").

Each provider adds `tests/integrations/<key>/test_contract.py` with
`class Test<Name>Contract(ProviderContract)` and implements the hooks below; the tests here then
check, the same way for all four ATSes:

- the adapter is registered, declares what it is, and its fake ATS runs;
- inbound: every recorded call (fixtures from the brief's payload shapes) is accepted with good
  auth; every bad auth is refused with 401 and has no effect; malformed JSON is a 400, an unknown
  test or event gets the provider's documented answer, an oversize body a 413, never a 500;
- idempotency: the same start twice has one effect;
- outbound: a result delivery sends the expected request (checked by the provider), through the
  real outbox; 401 / 404 / 429 / 5xx from the ATS become reconnect / permanent / wait-and-retry /
  retry, and `raise_for_response` maps statuses to the error classes.

The ATS is faked only at the HTTP boundary (`responses`); everything of ours runs for real.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
import responses
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments import attempts
from assessments.models import Invitation
from integrations import outbox, registry
from integrations.base import PARTNER_API, ProviderAdapter
from integrations.errors import (
    AuthError,
    PermanentProviderError,
    RateLimited,
    TransientProviderError,
)
from integrations.models import Connection, Delivery
from tenants.context import tenant_context

SCHEMES = ("basic-username", "basic-either", "bearer")


@dataclass
class Call:
    """One inbound HTTP call: `path` may carry a query string."""

    method: str
    path: str
    body: bytes | str = b""
    content_type: str = "application/json"


def complete_invitation(invitation: Invitation, answer: str = "3") -> None:
    """Take every test of `invitation` the way a candidate would (same services as the pages)."""
    from assessments.invitations import set_status

    with tenant_context(invitation.org_id):
        with transaction.atomic():
            locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
            if locked.status in ("created", "sent", "delivery_failed"):
                set_status(locked, "opened")
        for attempt in (invitation.attempts.select_related(
                "invitation__candidate", "invitation_test__catalog_test")
                .order_by("invitation_test__position")):
            catalog = attempt.invitation_test.catalog_test
            layout = attempts.layout_for(catalog)
            attempts.start(attempt, layout)
            for number, page in enumerate(layout.pages, start=1):
                values = {item.id: _answer_for(item, answer) for item in page}
                attempts.save_answers(attempt, layout, values, page=number)
            attempts.close(attempt)
        invitation.refresh_from_db()


def _answer_for(item, default: str) -> str:
    codes = [option.code for option in item.options]
    return default if default in codes else codes[0]


def response_with(status: int, headers: dict | None = None, body: str = "{}") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers.update({"Content-Type": "application/json", **(headers or {})})
    response.url = "https://ats.example/x"
    return response


class ProviderContract:
    """Base class of every provider's contract tests (not collected itself: no `Test` prefix)."""

    pytestmark = [pytest.mark.django_db]

    provider: str = ""
    # Statuses the provider answers for an unknown test (partner APIs) or event (webhooks).
    unknown_statuses: tuple[int, ...] = (422,)
    # The Delivery kind that carries a completed result to the ATS.
    result_kind: str = ""

    # -- hooks every provider implements ----------------------------------------------------

    def connect(self, org) -> Connection:
        """An active connection ready for inbound calls and deliveries."""
        raise NotImplementedError

    def auth(self, connection) -> dict:
        """Extra test-client kwargs that authenticate an inbound call ({} if in the body)."""
        raise NotImplementedError

    def bad_auths(self, connection) -> dict[str, dict]:
        """Named test-client kwargs that must be refused with 401."""
        raise NotImplementedError

    def fixture_calls(self, connection) -> dict[str, Call]:
        """Every recorded inbound call (tests/fixtures/<key>/), each to be accepted (2xx)."""
        raise NotImplementedError

    def start_call(self, connection) -> Call:
        """An inbound call that creates one assessment; the same call again must not."""
        raise NotImplementedError

    def malformed_call(self, connection) -> Call:
        raise NotImplementedError

    def unknown_call(self, connection) -> Call:
        raise NotImplementedError

    def effects(self, connection) -> int:
        """How many things the inbound calls created (invitations; Lever: stored events)."""
        raise NotImplementedError

    def mock_ats(self, rsps: responses.RequestsMock, connection, *, fail_with: int | None = None,
                 headers: dict | None = None) -> None:
        """Register the ATS endpoints a result delivery calls; with `fail_with`, the first call
        answers that status (and `headers`)."""
        raise NotImplementedError

    def check_result_requests(self, calls, delivery: Delivery) -> None:
        """Assert the requests the result delivery sent (method, URL, headers, body)."""
        raise NotImplementedError

    # -- overridable helpers -------------------------------------------------------------------

    def send(self, client: Client, connection, call: Call, auth: dict | None = None):
        kwargs = self.auth(connection) if auth is None else auth
        return client.generic(call.method, call.path, data=call.body,
                              content_type=call.content_type, **kwargs)

    def invitations(self, connection) -> list[Invitation]:
        with tenant_context(connection.org_id):
            return list(Invitation.objects.filter(
                source_ref__connection_id=str(connection.public_id)).order_by("pk"))

    def result_delivery(self, client: Client, connection) -> Delivery:
        """A pending result delivery, as the hooks write it when the invitation completes."""
        from tests.rls_rows import catalog_test

        catalog_test("big-five-mini-ipip-20")
        response = self.send(client, connection, self.start_call(connection))
        assert response.status_code < 300, response.content
        invitation = self.invitations(connection)[-1]
        complete_invitation(invitation)
        with tenant_context(connection.org_id):
            return Delivery.objects.filter(connection=connection,
                                           kind=self.result_kind).latest("pk")

    # -- the contract ----------------------------------------------------------------------------

    def test_the_adapter_is_registered_and_says_what_it_is(self):
        cls = registry.adapter_class(self.provider)
        assert issubclass(cls, ProviderAdapter)
        assert cls.key == self.provider and cls.name and cls.features
        if PARTNER_API in cls.features:
            assert cls.inbound_auth in SCHEMES
            assert cls.endpoints, "partner providers list the endpoints to hand to the ATS"
            for _label, name in cls.endpoints:
                assert reverse(f"integrations:{name}").startswith(f"/integrations/{self.provider}/")
        assert self.result_kind.startswith(f"{self.provider}.")

    def test_its_fake_ats_runs_and_describes_itself(self):
        import importlib

        fake = importlib.import_module(registry.FAKES[self.provider])
        server = fake.run("127.0.0.1", 0, partner_url="http://127.0.0.1:9/integrations/x")
        try:
            lines = fake.describe(server)
            assert any(server.url in line for line in lines), lines
            assert requests.get(f"{server.url}/", timeout=5).status_code == 200
        finally:
            server.stop()

    def test_recorded_calls_are_accepted(self, client, org_a):
        connection = self.connect(org_a)
        calls = self.fixture_calls(connection)
        assert calls, "record at least one inbound call in tests/fixtures/<key>/"
        for name, call in calls.items():
            response = self.send(client, connection, call)
            assert 200 <= response.status_code < 300, (name, response.status_code,
                                                       response.content)

    def test_bad_auth_is_refused_with_no_effect(self, client, org_a):
        connection = self.connect(org_a)
        bad = self.bad_auths(connection)
        assert bad, "name at least the missing-credentials case"
        for name, kwargs in bad.items():
            response = self.send(client, connection, self.start_call(connection), auth=kwargs)
            assert response.status_code == 401, (name, response.status_code, response.content)
        assert self.effects(connection) == 0

    def test_malformed_and_unknown_input_get_a_clear_4xx(self, client, org_a):
        connection = self.connect(org_a)
        malformed = self.send(client, connection, self.malformed_call(connection))
        assert malformed.status_code == 400, malformed.content
        unknown = self.send(client, connection, self.unknown_call(connection))
        assert unknown.status_code in self.unknown_statuses, unknown.content
        assert self.effects(connection) == 0

    def test_an_oversize_body_is_refused(self, client, org_a):
        connection = self.connect(org_a)
        call = self.start_call(connection)
        big = Call(call.method if call.method != "GET" else "POST", call.path,
                   json.dumps({"padding": "x" * (2 * 1024 * 1024)}))
        response = self.send(client, connection, big)
        assert response.status_code in (405, 413), response.content
        assert self.effects(connection) == 0

    def test_the_same_start_twice_has_one_effect(self, client, org_a):
        connection = self.connect(org_a)
        call = self.start_call(connection)
        first, second = self.send(client, connection, call), self.send(client, connection, call)
        assert first.status_code < 300 and second.status_code < 300, (first.content,
                                                                        second.content)
        assert self.effects(connection) == 1

    def test_a_result_delivery_sends_the_expected_request(self, client, org_a):
        connection = self.connect(org_a)
        delivery = self.result_delivery(client, connection)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            self.mock_ats(rsps, connection)
            with tenant_context(connection.org_id):
                outbox.attempt(delivery.pk)
            calls = list(rsps.calls)
        with tenant_context(connection.org_id):
            delivery.refresh_from_db()
        assert delivery.status == "delivered", delivery.last_error
        self.check_result_requests(calls, delivery)

    @pytest.mark.parametrize("status", [401, 404, 429, 500, 503])
    def test_ats_failures_map_to_reconnect_permanent_or_retry(self, client, org_a, status):
        connection = self.connect(org_a)
        delivery = self.result_delivery(client, connection)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            self.mock_ats(rsps, connection, fail_with=status,
                          headers={"Retry-After": "120"} if status == 429 else None)
            before = timezone.now()
            with tenant_context(connection.org_id):
                outbox.attempt(delivery.pk)
        with tenant_context(connection.org_id):
            delivery.refresh_from_db()
            connection.refresh_from_db()
            [tried] = delivery.tries.all()
        assert tried.status_code == status and not tried.ok
        if status == 404:
            assert delivery.status == "failed"  # permanent: retrying cannot help
        else:
            assert delivery.status == "pending"  # kept for a retry (or a reconnect)
        if status == 401:
            assert connection.status == "needs_reconnect"
        if status == 429:
            assert delivery.next_attempt_at >= before + timedelta(seconds=119)
        assert connection.last_error

    def test_raise_for_response_maps_statuses(self, org_a):
        adapter = registry.adapter(self.connect(org_a))
        expected = {401: AuthError, 404: PermanentProviderError, 400: PermanentProviderError,
                    429: RateLimited, 500: TransientProviderError, 503: TransientProviderError}
        for status, error in expected.items():
            with pytest.raises(error):
                adapter.raise_for_response(response_with(status, {"Retry-After": "3"}))
        adapter.raise_for_response(response_with(200))
