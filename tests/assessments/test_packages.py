"""Test packages in the console: managers create and edit them (ordered catalog tests only,
readable errors), everyone in the org reads them, other orgs never see them; a Lever stage
mapping can send a package, end to end through the connection page."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from assessments import packages
from assessments.models import TestPackage as Package
from integrations.models import StageMapping
from integrations.providers.lever.fake import run_fake_lever, seed_id
from tenants.context import platform_context, tenant_context
from tenants.models import Membership, User
from tests.integrations.lever.conftest import connect_to_fake
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

SLUGS = ("big-five-mini-ipip-20", "self-efficacy-ipip", "leadership-ipip")  # last: experimental
ADD = reverse("admin:assessments_testpackage_add")


@pytest.fixture(autouse=True)
def catalog():
    for slug in SLUGS:
        catalog_test(slug)


def login(client, org, role: str):
    with platform_context("test set-up"):
        if role == "owner":
            user = Membership.objects.get(org=org, role="owner").user
        else:
            user = User.objects.create_user(f"{role}@{org.slug}.test", "pw-123456!",
                                            is_staff=True)
            Membership.objects.create(org=org, user=user, role=role)
    client.force_login(user)
    return client


def form(name="Screen", slug="screen", tests=("self-efficacy-ipip", "big-five-mini-ipip-20"),
         active=True, description="") -> dict:
    data = {"name": name, "slug": slug, "description": description}
    if active:
        data["is_active"] = "on"
    for i in range(10):
        data[f"tests_{i}"] = tests[i] if i < len(tests) else ""
    return data


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_manager_creates_an_ordered_package_offered_to_the_atses(client, org_a):
    login(client, org_a, "owner")
    page = text(client.get(ADD))
    assert "Big Five quick screen" in page and "leadership-ipip" not in page
    response = client.post(ADD, form())
    assert response.status_code == 302, text(response)[-3000:]
    with tenant_context(org_a):
        package = Package.objects.get()
        offered = {o.id: o for o in packages.offerings(org_a)}
    assert package.org_id == org_a.pk
    assert package.tests == ["self-efficacy-ipip", "big-five-mini-ipip-20"]
    assert offered["package:screen"].tests == ("self-efficacy-ipip", "big-five-mini-ipip-20")
    listing = text(client.get(reverse("admin:assessments_testpackage_changelist")))
    assert "package:screen" in listing and "Self-efficacy" in listing


@pytest.mark.parametrize(("change", "error"), [
    ({"tests": ()}, "Choose at least one test"),
    ({"tests": ("self-efficacy-ipip", "self-efficacy-ipip")}, "chosen twice"),
    ({"tests": ("leadership-ipip",)}, "leadership-ipip"),  # experimental: not offered
    ({"tests": ("package:other",)}, "package:other"),  # no packages inside packages
    ({"slug": "Not a slug!"}, "Enter a valid “slug”"),
    ({"name": ""}, "This field is required"),
])
def test_bad_packages_get_readable_errors(client, org_a, change, error):
    login(client, org_a, "owner")
    response = client.post(ADD, form(**change))
    assert response.status_code == 200
    assert error in text(response)
    with tenant_context(org_a):
        assert not Package.objects.exists()


def test_a_slug_is_unique_per_org_and_fixed_once_saved(client, org_a, org_b):
    login(client, org_a, "owner")
    assert client.post(ADD, form()).status_code == 302
    again = client.post(ADD, form(name="Other"))
    assert again.status_code == 200 and "Another package of this organization" in text(again)
    with tenant_context(org_a):
        package = Package.objects.get()
    url = reverse("admin:assessments_testpackage_change", args=[package.pk])
    data = form(slug="renamed", tests=("big-five-mini-ipip-20",), active=False)
    assert client.post(url, data).status_code == 302
    with tenant_context(org_a):
        package.refresh_from_db()
    assert (package.slug, package.tests, package.is_active) == (
        "screen", ["big-five-mini-ipip-20"], False)
    # Another org may use the same slug.
    login(client, org_b, "owner")
    assert client.post(ADD, form()).status_code == 302


@pytest.mark.parametrize("role", ["viewer", "recruiter"])
def test_other_roles_read_but_do_not_edit(client, org_a, role):
    with tenant_context(org_a):
        package = Package.objects.create(org=org_a, name="Screen", slug="screen",
                                             tests=["self-efficacy-ipip"])
    login(client, org_a, role)
    assert "Screen" in text(client.get(reverse("admin:assessments_testpackage_changelist")))
    assert client.get(ADD).status_code == 403
    url = reverse("admin:assessments_testpackage_change", args=[package.pk])
    assert client.post(url, form(name="Hacked")).status_code == 403
    with tenant_context(org_a):
        assert Package.objects.get().name == "Screen"


def test_other_orgs_never_see_a_package(client, org_a, org_b):
    with tenant_context(org_a):
        package = Package.objects.create(org=org_a, name="Secret mix", slug="mix",
                                             tests=["self-efficacy-ipip"])
    login(client, org_b, "owner")
    assert "Secret mix" not in text(client.get(
        reverse("admin:assessments_testpackage_changelist")))
    url = reverse("admin:assessments_testpackage_change", args=[package.pk])
    assert client.get(url).status_code == 302  # the admin's "does not exist" redirect
    with tenant_context(org_b):
        assert not Package.objects.filter(pk=package.pk).exists()


# -- a Lever stage mapping sends a package --------------------------------------------------------

@pytest.fixture
def fake_lever():
    server = run_fake_lever()
    yield server
    server.stop()


def mapping_post(connection, *, stage: str, tests: list[str]) -> dict:
    data = {"name": connection.name or "Lever sandbox",
            "stage_mappings-TOTAL_FORMS": "1", "stage_mappings-INITIAL_FORMS": "0",
            "stage_mappings-MIN_NUM_FORMS": "0", "stage_mappings-MAX_NUM_FORMS": "1000",
            "stage_mappings-0-stage_id": stage, "stage_mappings-0-posting_id": "",
            "stage_mappings-0-expires_in_days": "14", "stage_mappings-0-is_active": "on",
            "stage_mappings-0-connection": str(connection.pk), "stage_mappings-0-id": ""}
    for i in range(5):
        data[f"stage_mappings-0-tests_{i}"] = tests[i] if i < len(tests) else ""
    return data


def test_a_lever_stage_mapping_can_send_a_package(client, org_a, fake_lever):
    connection, mapping, _ = connect_to_fake(fake_lever, org_a)
    with tenant_context(org_a):
        mapping.delete()
        Package.objects.create(org=org_a, name="Screen pack", slug="screen",
                                   tests=["self-efficacy-ipip", "big-five-mini-ipip-20"])
    login(client, org_a, "owner")
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    page = text(client.get(url))
    assert 'value="package:screen"' in page and "Package: Screen pack" in page
    stage = seed_id("stage:Phone Screen")
    response = client.post(url, mapping_post(connection, stage=stage,
                                             tests=["package:screen", "big-five-mini-ipip-20"]))
    assert response.status_code == 302, text(response)[-3000:]
    with tenant_context(org_a):
        saved = StageMapping.objects.get()
        expanded = packages.expand(org_a, saved.tests)
    assert saved.tests == ["package:screen", "big-five-mini-ipip-20"]
    assert expanded == ["self-efficacy-ipip", "big-five-mini-ipip-20"]


def test_an_inactive_package_is_not_offered_to_mappings(client, org_a, fake_lever):
    connection, _, _ = connect_to_fake(fake_lever, org_a)
    with tenant_context(org_a):
        Package.objects.create(org=org_a, name="Old pack", slug="old", is_active=False,
                                   tests=["self-efficacy-ipip"])
    login(client, org_a, "owner")
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    assert "package:old" not in text(client.get(url))
    response = client.post(url, mapping_post(connection, stage=seed_id("stage:Offer"),
                                             tests=["package:old"]))
    assert response.status_code == 200 and "package:old" in text(response)
