"""Partner keys from the console: rotate with an overlap (old and new both work until the old one
expires), revoke (refused at once), audit log, roles, CSRF, and org isolation (the console's
filter and row-level security)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations import partner_keys
from integrations.models import Connection, PartnerKey
from tenants.context import tenant_context
from tenants.models import AuditLog
from tests.integrations.test_partner_admin import (
    PanelTestAdapter,
    add,
    as_role,
    basic,
    key_on,
    text,
    the_connection,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_adapter(monkeypatch):
    from integrations import registry

    monkeypatch.setitem(registry.PROVIDERS, "ashby",
                        f"{PanelTestAdapter.__module__}.PanelTestAdapter")
    registry.adapter_class.cache_clear()
    yield PanelTestAdapter
    registry.adapter_class.cache_clear()


@pytest.fixture
def owner(client, org_a, partner_adapter):
    return as_role(client, org_a, "owner")


@pytest.fixture
def first_key(owner, org_a) -> str:
    return key_on(text(add(owner)))


def works(raw: str) -> bool:
    return partner_keys.authenticate("ashby", basic(raw), "basic-either") is not None


def rotate(client, connection, overlap: str):
    url = reverse("admin:integrations_connection_rotate_key", args=[connection.pk])
    return client.post(url, {"overlap": overlap})


def later(monkeypatch, delta: timedelta) -> None:
    """Move partner_keys' clock forward."""
    moved = timezone.now() + delta
    monkeypatch.setattr(partner_keys.timezone, "now", lambda: moved)


def test_rotating_with_an_overlap_keeps_both_keys_working_until_the_old_one_expires(
        owner, org_a, first_key, monkeypatch):
    connection = the_connection(org_a)
    response = rotate(owner, connection, "24h")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = text(response)
    second = key_on(page)
    assert second != first_key and "Old keys work 24 more hours" in page
    assert works(first_key) and works(second)
    with tenant_context(org_a):
        old = PartnerKey.objects.get(key_hash=partner_keys.hash_key(first_key))
    assert timedelta(hours=23) < old.expires_at - timezone.now() <= timedelta(hours=24)

    later(monkeypatch, timedelta(hours=25))
    assert not works(first_key) and works(second)


def test_rotating_with_no_overlap_stops_the_old_key_at_once(owner, org_a, first_key):
    second = key_on(text(rotate(owner, the_connection(org_a), "now")))
    assert works(second) and not works(first_key)


def test_the_change_page_lists_keys_with_their_state(owner, org_a, first_key):
    connection = the_connection(org_a)
    second = key_on(text(rotate(owner, connection, "7d")))
    page = text(owner.get(reverse("admin:integrations_connection_change",
                                  args=[connection.pk])))
    assert first_key[:15] in page and second[:15] in page
    assert first_key not in page and second not in page
    assert "works until it expires" in page and "active" in page


def test_a_bad_overlap_changes_nothing(owner, org_a, first_key):
    connection = the_connection(org_a)
    response = rotate(owner, connection, "forever")
    assert response.status_code == 302
    with tenant_context(org_a):
        assert PartnerKey.objects.count() == 1
    assert works(first_key)


def test_revoking_refuses_the_key_at_once_and_says_when_none_is_left(owner, org_a, first_key):
    connection = the_connection(org_a)
    with tenant_context(org_a):
        key = PartnerKey.objects.get()
    url = reverse("admin:integrations_connection_revoke_key", args=[connection.pk, key.pk])
    page = text(owner.post(url, follow=True))
    assert "is revoked" in page and "No usable key is left" in page
    assert 'id="no-usable-key"' in page
    assert not works(first_key)
    again = text(owner.post(url, follow=True))
    assert "already revoked" in again


def test_issue_rotate_and_revoke_are_audit_logged(owner, org_a, first_key):
    connection = the_connection(org_a)
    rotate(owner, connection, "24h")
    with tenant_context(org_a):
        key = PartnerKey.objects.get(key_hash=partner_keys.hash_key(first_key))
    owner.post(reverse("admin:integrations_connection_revoke_key",
                       args=[connection.pk, key.pk]))
    with tenant_context(org_a):
        rows = list(AuditLog.objects.order_by("created_at", "pk")
                    .values_list("action", "target", "data"))
    issued = [r for r in rows if r[0] == "partner_key.issued"]
    assert [r[2]["overlap"] for r in issued] == ["now", "24h"]
    assert ("partner_key.revoked", key.prefix) in [(a, t) for a, t, _ in rows]
    assert all(first_key not in str(r) for r in rows)


def test_a_key_of_another_connection_cannot_be_revoked_through_this_one(owner, org_a,
                                                                         first_key):
    other_raw = key_on(text(add(owner, name="Second")))
    first, second = (the_connection(org_a, name="Testy EU"),
                     the_connection(org_a, name="Second"))
    with tenant_context(org_a):
        other_key = PartnerKey.objects.get(connection=second)
    url = reverse("admin:integrations_connection_revoke_key", args=[first.pk, other_key.pk])
    assert "does not belong to this connection" in text(owner.post(url, follow=True))
    assert works(other_raw)


@pytest.mark.parametrize("role", ["viewer", "recruiter"])
def test_other_roles_cannot_rotate_or_revoke(client, org_a, first_key, role):
    connection = the_connection(org_a)
    with tenant_context(org_a):
        key = PartnerKey.objects.get()
    as_role(client, org_a, role)
    assert rotate(client, connection, "now").status_code == 403
    url = reverse("admin:integrations_connection_revoke_key", args=[connection.pk, key.pk])
    assert client.post(url).status_code == 403
    assert works(first_key)
    with tenant_context(org_a):
        assert PartnerKey.objects.count() == 1


def test_rotate_and_revoke_take_post_with_csrf_only(org_a, first_key):
    connection = the_connection(org_a)
    browser = Client(enforce_csrf_checks=True)
    as_role(browser, org_a, "owner")
    url = reverse("admin:integrations_connection_rotate_key", args=[connection.pk])
    assert browser.get(url).status_code == 405
    assert browser.post(url, {"overlap": "now"}).status_code == 403  # no CSRF token
    assert works(first_key)


def test_org_b_cannot_see_or_change_org_as_connection_or_keys(client, org_a, org_b, first_key):
    connection = the_connection(org_a)
    with tenant_context(org_a):
        key = PartnerKey.objects.get()
    as_role(client, org_b, "owner")
    assert rotate(client, connection, "now").status_code == 404
    url = reverse("admin:integrations_connection_revoke_key", args=[connection.pk, key.pk])
    assert client.post(url).status_code == 404
    page = text(client.get(reverse("admin:integrations_connection_changelist")))
    assert "Testy EU" not in page
    assert works(first_key)
    # The second wall: in org B's context the database returns none of org A's rows.
    with tenant_context(org_b):
        assert not Connection.objects.filter(pk=connection.pk).exists()
        assert not PartnerKey.objects.filter(pk=key.pk).exists()
        assert PartnerKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now()) == 0
    assert works(first_key)


def test_a_lever_connection_has_no_key_actions(owner, org_a):
    with tenant_context(org_a):
        lever = Connection.objects.create(org=org_a, provider="lever", name="L")
    assert rotate(owner, lever, "now").status_code == 404
