"""The console is scoped to the signed-in user's org, and roles decide what they may change."""

import pytest

from tenants.context import platform_context, tenant_context
from tenants.models import ApiKey, Membership, User

pytestmark = pytest.mark.django_db


def _owner(org):
    with platform_context("test"):
        return Membership.objects.get(org=org, role="owner").user


def _add_member(org, email, role):
    with platform_context("test"):
        user = User.objects.create_user(email, "pw-123456!", is_staff=True)
        Membership.objects.create(org=org, user=user, role=role)
    return user


def test_members_see_only_their_orgs_rows(client, org_a, org_b):
    with tenant_context(org_a):
        ApiKey.issue(org_a, name="alpha-key")
    with tenant_context(org_b):
        ApiKey.issue(org_b, name="beta-key")
    client.force_login(_owner(org_a))
    page = client.get("/admin/tenants/apikey/").content.decode()
    assert "alpha-key" in page and "beta-key" not in page
    members = client.get("/admin/tenants/membership/").content.decode()
    assert "owner@alpha.test" in members and "owner@beta.test" not in members
    orgs = client.get("/admin/tenants/organization/").content.decode()
    assert "Alpha" in orgs and "Beta" not in orgs


def test_another_orgs_object_is_not_found(client, org_a, org_b):
    with tenant_context(org_b):
        key, _ = ApiKey.issue(org_b, name="beta-key")
    client.force_login(_owner(org_a))
    response = client.get(f"/admin/tenants/apikey/{key.pk}/change/")
    assert response.status_code == 302  # admin redirects "does not exist" to the index
    assert "beta-key" not in client.get(response.url).content.decode()


def test_a_viewer_cannot_add_members(client, org_a):
    viewer = _add_member(org_a, "viewer@alpha.test", "viewer")
    client.force_login(viewer)
    assert client.get("/admin/tenants/membership/").status_code == 200
    assert client.get("/admin/tenants/membership/add/").status_code == 403


def test_an_owner_adds_a_member_by_email(client, org_a):
    client.force_login(_owner(org_a))
    response = client.post("/admin/tenants/membership/add/", {
        "email": "new@alpha.test", "password": "pw-123456!", "role": "recruiter"})
    assert response.status_code == 302
    with tenant_context(org_a):
        membership = Membership.objects.get(user__email="new@alpha.test")
    assert membership.role == "recruiter" and membership.user.is_staff


def test_an_owner_creates_an_api_key_that_is_shown_once(client, org_a):
    client.force_login(_owner(org_a))
    response = client.post("/admin/tenants/apikey/add/", {"name": "console", "is_sandbox": "on"},
                           follow=True)
    page = response.content.decode()
    assert "shown once" in page and "assay_test_" in page
    with tenant_context(org_a):
        assert ApiKey.objects.get(name="console").is_sandbox


def test_a_user_in_two_orgs_switches_between_them(client, org_a, org_b):
    user = _owner(org_a)
    with platform_context("test"):
        Membership.objects.create(org=org_b, user=user, role="viewer")
    client.force_login(user)
    assert "Alpha" in client.get("/admin/").content.decode()
    response = client.post("/orgs/switch/", {"org": org_b.pk, "next": "/admin/"})
    assert response.status_code == 302
    page = client.get("/admin/").content.decode()
    assert "<strong>Beta</strong>" in page


def test_switching_to_a_foreign_org_is_refused(client, org_a, org_b):
    client.force_login(_owner(org_a))
    client.post("/orgs/switch/", {"org": org_b.pk})
    assert "<strong>Alpha</strong>" in client.get("/admin/").content.decode()


def test_a_platform_superuser_sees_every_org(client, org_a, org_b):
    with tenant_context(org_a):
        ApiKey.issue(org_a, name="alpha-key")
    with tenant_context(org_b):
        ApiKey.issue(org_b, name="beta-key")
    admin = User.objects.create_superuser("ops@assay.test", "pw-123456!")
    client.force_login(admin)
    page = client.get("/admin/tenants/apikey/").content.decode()
    assert "alpha-key" in page and "beta-key" in page
