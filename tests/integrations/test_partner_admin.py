"""The console's partner-ATS connections (Greenhouse, Ashby, Workable): add → key shown once,
the change page's panel (endpoint URLs, keys, credential, status, recent calls and deliveries),
replacing the credential, roles, the list's badges, and the ExternalAssessment admin.

Most tests use a tiny adapter registered under "ashby" (`partner_adapter`), so they hold before
and after the real adapters land; `test_each_installed_partner_ats_can_be_added` runs the real
ones the registry has.
"""

from __future__ import annotations

import base64
import html

import pytest
from django.db import connection as db
from django.urls import reverse

from integrations import partner_keys, registry
from integrations.base import PARTNER_API, ProviderAdapter
from integrations.forms import partner_providers
from integrations.models import Connection, Delivery, ExternalAssessment, InboundEvent
from tenants.context import platform_context, tenant_context
from tenants.models import AuditLog, Membership, User
from tests.rls_rows import catalog_test, invitation

pytestmark = pytest.mark.django_db

SECRET = "ashby-api-key-do-not-show-3f9a"


class PanelTestAdapter(ProviderAdapter):
    """A partner adapter with the base class's behaviour only (no ATS field names)."""

    key = "ashby"
    name = "Testy ATS"
    features = frozenset({PARTNER_API})
    inbound_auth = "basic-either"
    outbound_credential = "Testy API key"
    outbound_credential_help = "From Testy's admin settings."

    def endpoint_urls(self):
        from django.conf import settings

        return [("Base URL", f"{settings.SITE_URL}/integrations/ashby"),
                ("Start", f"{settings.SITE_URL}/integrations/ashby/assessment.start")]


@pytest.fixture
def partner_adapter(monkeypatch):
    monkeypatch.setitem(registry.PROVIDERS, "ashby", f"{__name__}.PanelTestAdapter")
    registry.adapter_class.cache_clear()
    yield PanelTestAdapter
    registry.adapter_class.cache_clear()


def member(org, role: str) -> User:
    with platform_context("test set-up"):
        if role == "owner":
            return Membership.objects.get(org=org, role="owner").user
        user = User.objects.create_user(f"{role}@{org.slug}.test", "pw-123456!", is_staff=True)
        Membership.objects.create(org=org, user=user, role=role)
        return user


def as_role(client, org, role: str):
    client.force_login(member(org, role))
    return client


@pytest.fixture
def owner(client, org_a):
    return as_role(client, org_a, "owner")


def text(response) -> str:
    return html.unescape(response.content.decode())


def add(client, **fields):
    data = {"provider": "ashby", "name": "Testy EU", "is_sandbox": "", "credential": SECRET,
            **fields}
    return client.post(reverse("admin:integrations_connection_add"),
                       {k: v for k, v in data.items() if v is not None})


def key_on(page: str) -> str:
    start = page.index('id="partner-key" value="') + len('id="partner-key" value="')
    return page[start:page.index('"', start)]


def basic(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def the_connection(org, **filters) -> Connection:
    with tenant_context(org):
        return Connection.objects.get(**filters)


def change_page(client, connection) -> str:
    response = client.get(reverse("admin:integrations_connection_change", args=[connection.pk]))
    assert response.status_code == 200
    return text(response)


# -- adding a connection --------------------------------------------------------------------------

def test_the_list_offers_a_connect_button_per_partner_ats_to_managers(
        owner, client, org_a, partner_adapter):
    page = text(owner.get(reverse("admin:integrations_connection_changelist")))
    assert "Connect Lever" in page and "Connect Testy ATS" in page
    assert f"{reverse('admin:integrations_connection_add')}?provider=ashby" in page


def test_adding_shows_the_key_once_and_the_key_authenticates(owner, org_a, partner_adapter,
                                                             settings):
    response = add(owner, is_sandbox="on")
    assert response.status_code == 200, text(response)[-2000:]
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    raw = key_on(page)
    assert raw.startswith(partner_keys.KEY_PREFIX) and len(raw) < 171
    assert "shown only on this page" in page
    assert f"{settings.SITE_URL}/integrations/ashby/assessment.start" in page
    assert "HTTP Basic" in page and SECRET not in page

    connection = the_connection(org_a)
    assert (connection.status, connection.is_sandbox, connection.name) == (
        "active", True, "Testy EU")
    assert partner_keys.authenticate("ashby", basic(raw), "basic-either").pk == connection.pk
    assert partner_keys.authenticate("ashby", basic("x", raw), "basic-either").pk == connection.pk
    assert partner_keys.authenticate("ashby", basic("assay_pk_wrong"), "basic-either") is None

    # The change page shows the key's prefix, never the key or the credential.
    later = change_page(owner, connection)
    assert raw not in later and SECRET not in later
    assert raw[:15] in later and "Rotate key" in later
    with tenant_context(org_a):
        actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"connection.created", "partner_key.issued"} <= actions


def test_the_credential_is_stored_encrypted_and_readable_by_the_adapter(owner, org_a,
                                                                       partner_adapter):
    add(owner)
    connection = the_connection(org_a)
    assert registry.adapter(connection).credential() == SECRET
    with tenant_context(org_a), db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_connection WHERE id = %s",
                       [connection.pk])
        [stored] = cursor.fetchone()
    assert stored and SECRET not in stored


def test_the_credential_may_come_later_and_the_page_says_it_is_missing(owner, org_a,
                                                                      partner_adapter):
    page = text(add(owner, credential=""))
    assert "Still to do" in page and "Testy API key" in page
    later = change_page(owner, the_connection(org_a))
    assert 'id="credential-missing"' in later


@pytest.mark.parametrize(("fields", "error"), [
    ({"name": ""}, "This field is required"),
    ({"name": "   "}, "This field is required"),
    ({"provider": "lever"}, "Select a valid choice"),
    ({"provider": "nope"}, "Select a valid choice"),
])
def test_bad_input_is_a_readable_form_error(owner, org_a, partner_adapter, fields, error):
    response = add(owner, **fields)
    assert response.status_code == 400
    assert error in text(response)
    with tenant_context(org_a):
        assert not Connection.objects.exists()


def test_sending_the_form_twice_creates_one_connection(owner, org_a, partner_adapter):
    assert add(owner).status_code == 200
    again = add(owner, name="testy eu")
    assert again.status_code == 400 and "already has a connection with this name" in text(again)
    with tenant_context(org_a):
        assert Connection.objects.count() == 1


@pytest.mark.parametrize("role", ["viewer", "recruiter"])
def test_only_managers_may_add(client, org_a, partner_adapter, role):
    as_role(client, org_a, role)
    assert client.get(reverse("admin:integrations_connection_add")).status_code == 403
    assert add(client).status_code == 403
    page = text(client.get(reverse("admin:integrations_connection_changelist")))
    assert "Connect Testy ATS" not in page and "Connect Lever" not in page
    with tenant_context(org_a):
        assert not Connection.objects.exists()


def test_the_add_page_without_partner_adapters_points_to_lever(owner, monkeypatch):
    monkeypatch.setattr("integrations.admin.partner_providers", lambda: [])
    monkeypatch.setattr("integrations.forms.partner_providers", lambda: [])
    page = text(owner.get(reverse("admin:integrations_connection_add")))
    assert 'id="no-partner-ats"' in page and "Connect Lever" in page


def test_each_installed_partner_ats_can_be_added(owner, org_a):
    providers = partner_providers()
    if not providers:
        pytest.skip("no partner adapter installed yet")
    for key, name in providers:
        cls = registry.adapter_class(key)
        fields = {"provider": key, "name": f"{name} test",
                  "credential": "c-123" if cls.outbound_credential else ""}
        response = add(owner, **fields)
        assert response.status_code == 200, (key, text(response)[-2000:])
        connection = the_connection(org_a, provider=key)
        page = text(response)
        for _, url in registry.adapter(connection).endpoint_urls():
            assert url in page
        raw = key_on(page)
        assert partner_keys.authenticate(key, basic(raw) if cls.inbound_auth != "bearer"
                                         else f"Bearer {raw}", cls.inbound_auth).pk == \
            connection.pk


# -- the change page ------------------------------------------------------------------------------

@pytest.fixture
def connected(owner, org_a, partner_adapter):
    add(owner)
    return the_connection(org_a)


def test_the_panel_shows_urls_keys_status_calls_and_deliveries(owner, org_a, connected,
                                                               settings):
    with tenant_context(org_a):
        InboundEvent.objects.create(org=org_a, connection=connected,
                                    event_type="assessment.start", dedupe_key="call:1",
                                    body="{}", status="processed",
                                    outcome="invitation created for ada@example.com")
        Delivery.objects.create(org=org_a, connection=connected, kind="ashby.update",
                                key="k1", status="failed", attempts=3,
                                last_error="HTTP 403 from Testy")
        connected.record_error("Testy refused the API key")
    page = change_page(owner, connected)
    assert f"{settings.SITE_URL}/integrations/ashby" in page
    assert "assessment.start" in page and "invitation created for ada@example.com" in page
    assert "ashby.update" in page and "HTTP 403 from Testy" in page and "Failed" in page
    assert "Testy refused the API key" in page
    assert "Last call received" in page and "Last delivery to Testy ATS" in page
    assert 'id="replace-credential"' in page and 'type="password"' in page
    assert 'id="rotate-key"' in page and "Old keys work 7 more days" in page
    assert "stage_mappings-TOTAL_FORMS" not in page  # no Lever mappings on a partner page


def test_replacing_the_credential_is_write_only_and_audited(owner, org_a, connected):
    with tenant_context(org_a):
        Connection.objects.filter(pk=connected.pk).update(status="needs_reconnect")
    url = reverse("admin:integrations_connection_credential", args=[connected.pk])
    response = owner.post(url, {"credential": "new-secret-value-77"}, follow=True)
    page = text(response)
    assert "Testy API key is replaced" in page and "new-secret-value-77" not in page
    connection = the_connection(org_a)
    assert registry.adapter(connection).credential() == "new-secret-value-77"
    assert connection.status == "active"
    with tenant_context(org_a):
        assert AuditLog.objects.filter(action="connection.credential_replaced").exists()
    # An empty value changes nothing.
    page = text(owner.post(url, {"credential": ""}, follow=True))
    assert "nothing was changed" in page
    assert registry.adapter(the_connection(org_a)).credential() == "new-secret-value-77"


@pytest.mark.parametrize("role", ["viewer", "recruiter"])
def test_other_roles_see_the_panel_read_only_and_cannot_post(client, org_a, connected, role):
    as_role(client, org_a, role)
    page = change_page(client, connected)
    assert "Keys Testy ATS may use" in page and "Last call received" in page
    for marker in ('id="rotate-key"', 'id="replace-credential"', "Revoke</button>"):
        assert marker not in page
    for name, data in [("rotate_key", {"overlap": "now"}), ("credential", {"credential": "x"})]:
        url = reverse(f"admin:integrations_connection_{name}", args=[connected.pk])
        assert client.post(url, data).status_code == 403
    assert registry.adapter(the_connection(org_a)).credential() == SECRET


def test_the_list_marks_sandbox_connections(owner, org_a, partner_adapter):
    add(owner, name="Prod")
    add(owner, name="Try", is_sandbox="on")
    page = text(owner.get(reverse("admin:integrations_connection_changelist")))
    assert page.count('class="assay-sandbox"') == 1
    assert "production" in page


def test_another_orgs_connection_is_not_found(client, org_a, org_b, connected):
    as_role(client, org_b, "owner")
    response = client.get(reverse("admin:integrations_connection_change", args=[connected.pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    url = reverse("admin:integrations_connection_credential", args=[connected.pk])
    assert client.post(url, {"credential": "stolen"}).status_code == 404
    assert registry.adapter(the_connection(org_a)).credential() == SECRET


# -- partner-started assessments ------------------------------------------------------------------

def test_external_assessments_are_listed_read_only_per_org(client, owner, org_a, org_b,
                                                           connected):
    catalog_test()
    with tenant_context(org_a):
        invited = invitation(org_a, source="ashby")
        invited.candidate  # noqa: B018 - loaded inside the org's context
        ExternalAssessment.objects.create(org=org_a, connection=connected, invitation=invited,
                                          idempotency_key="app-1:type-1",
                                          offering_id="package:starter",
                                          offering_name="Starter pack")
    url = reverse("admin:integrations_externalassessment_changelist")
    page = text(owner.get(url))
    assert "Starter pack (package:starter)" in page and "Testy EU" in page
    assert invited.get_status_display() in page and invited.candidate.email in page
    assert reverse("admin:integrations_externalassessment_add") not in page
    with tenant_context(org_a):
        row = ExternalAssessment.objects.get()
    detail = text(owner.get(reverse("admin:integrations_externalassessment_change",
                                    args=[row.pk])))
    assert "app-1:type-1" in detail and str(invited.public_id) in detail
    assert "Save" not in detail  # read-only
    as_role(client, org_b, "owner")
    assert "Starter pack" not in text(client.get(url))

