"""/r/<id>: the report link written into ATSes opens for signed-in members of the org only."""

from __future__ import annotations

import uuid

import pytest

from assessments import attempts
from assessments.invitations import create_invitation
from assessments.models import Invitation, InvitationStatus
from tenants.context import platform_context, tenant_context
from tenants.models import Membership
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

MINI = "big-five-mini-ipip-20"


def _completed(org):
    catalog_test(MINI)
    invitation, _ = create_invitation(org, candidate={"email": "ada@example.com",
                                                      "first_name": "Ada"},
                                      tests=[MINI], source="manual", send_email=False)
    with tenant_context(org):
        Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.OPENED)
        attempt = invitation.attempts.select_related(
            "invitation__candidate", "invitation_test__catalog_test").get()
        layout = attempts.layout_for(attempt.invitation_test.catalog_test)
        attempts.start(attempt, layout)
        for number, page in enumerate(layout.pages, start=1):
            attempts.save_answers(attempt, layout, {i.id: "4" for i in page}, page=number)
        return invitation, attempts.close(attempt)


def _owner(org):
    with platform_context("test"):
        return Membership.objects.get(org=org, role="owner").user


def test_a_member_opens_the_report_by_result_or_invitation_id(client, org_a):
    invitation, result = _completed(org_a)
    client.force_login(_owner(org_a))
    assert result.envelope["report_url"].endswith(f"/r/{result.public_id}")
    for public_id in (result.public_id, invitation.public_id):
        response = client.get(f"/r/{public_id}")
        assert response.status_code == 200
        body = response.content.decode()
        assert "Big Five quick screen" in body and "ada@example.com" in body
        for text in ("Extraversion", "Percentile", "90 % CI (T)", "Norms:"):
            assert text in body


def test_strangers_and_anonymous_visitors_do_not_see_it(client, org_a, org_b):
    invitation, result = _completed(org_a)
    response = client.get(f"/r/{result.public_id}")
    assert response.status_code == 302 and "/accounts/login/" in response.url
    client.force_login(_owner(org_b))
    assert client.get(f"/r/{result.public_id}").status_code == 404
    assert client.get(f"/r/{uuid.uuid4()}").status_code == 404
    assert client.get("/r/not-a-uuid").status_code == 404


def test_a_member_of_two_orgs_follows_a_link_of_the_other_org(client, org_a, org_b):
    invitation, result = _completed(org_a)
    user = _owner(org_b)
    with platform_context("test"):
        Membership.objects.create(org=org_a, user=user, role="viewer")
    client.force_login(user)
    session = client.session
    session["assay_org_id"] = org_b.pk  # working in org B
    session.save()
    assert client.get(f"/r/{result.public_id}").status_code == 200
