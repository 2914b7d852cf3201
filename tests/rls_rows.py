"""One row factory per tenant model, for the row-level-security walk in tests/tenants/test_rls.py.

Adding a tenant model? Add a factory here: the walk fails, naming the model, until you do.
Each factory takes an org and returns a saved instance (it runs in that org's context).
"""

from __future__ import annotations

import itertools

_n = itertools.count()


def _user(prefix: str):
    from tenants.models import User

    return User.objects.create_user(f"{prefix}{next(_n)}@rls.test", "pw-123456!")


def membership(org):
    from tenants.models import Membership

    return Membership.objects.create(org=org, user=_user("member"), role="viewer")


def api_key(org):
    from tenants.models import ApiKey

    return ApiKey.issue(org, name=f"k{next(_n)}")[0]


def audit_log(org):
    from tenants.models import AuditLog

    return AuditLog.objects.create(org=org, action="test.row", target=str(next(_n)))


ROW_FACTORIES = {
    "tenants.Membership": membership,
    "tenants.ApiKey": api_key,
    "tenants.AuditLog": audit_log,
}


# --- assessments (candidate experience) ----------------------------------------------------------

def catalog_test(source: str = "big-five-mini-ipip-20", **overrides):
    """A CatalogTest row from a shipped catalog file (not tenant-owned; created once per slug).

    `overrides` change the definition (e.g. time_limit_seconds) under a derived slug, for tests
    that need a catalog entry the shipped files do not have; shipped files are never altered.
    """
    import json

    from assessments.catalog_loader import CATALOG_DIR, _fields, content_hash
    from assessments.models import CatalogTest

    data = json.loads((CATALOG_DIR / f"{source}.json").read_text(encoding="utf-8"))
    if overrides:
        data.update(overrides)
        data["slug"] = overrides.get("slug", f"{source}-variant")
    existing = CatalogTest.objects.filter(slug=data["slug"], is_current=True).first()
    if existing is not None:
        return existing
    return CatalogTest.objects.create(slug=data["slug"], version=str(data["version"]),
                                      is_current=True, **_fields(data, content_hash(data)))


def candidate(org):
    from assessments.models import Candidate

    return Candidate.objects.create(org=org, email=f"cand{next(_n)}@rls.test")


def invitation(org, tests=None, **kwargs):
    from assessments.invitations import create_invitation

    if tests is None:
        tests = [catalog_test().slug]
    kwargs.setdefault("send_email", False)
    kwargs.setdefault("source", "manual")
    return create_invitation(org, candidate={"email": f"inv{next(_n)}@rls.test"}, tests=tests,
                             **kwargs)[0]


def invitation_test(org):
    return invitation(org).tests.get()


def attempt(org):
    return invitation(org).attempts.get()


def response(org):
    from assessments.models import Response

    return Response.objects.create(org=org, attempt=attempt(org), item_id="MINI-01", value="3")


def result(org):
    from assessments import attempts
    from assessments.models import InvitationStatus

    inv = invitation(org)
    inv.status = InvitationStatus.OPENED
    inv.save(update_fields=["status"])
    att = inv.attempts.select_related("invitation__candidate",
                                      "invitation_test__catalog_test").get()
    layout = attempts.layout_for(att.invitation_test.catalog_test)
    attempts.start(att, layout)
    for number, page in enumerate(layout.pages, start=1):
        attempts.save_answers(att, layout, {item.id: "4" for item in page}, page=number)
    return attempts.close(att)


ROW_FACTORIES.update({
    "assessments.Candidate": candidate,
    "assessments.Invitation": invitation,
    "assessments.InvitationTest": invitation_test,
    "assessments.Attempt": attempt,
    "assessments.Response": response,
    "assessments.Result": result,
})


# --- integrations ---------------------------------------------------------------------------------

def connection(org):
    from integrations.models import Connection

    return Connection.objects.create(org=org, provider="lever", name=f"c{next(_n)}",
                                     webhook_secret="s3cret", credentials='{"access_token": "t"}')


def stage_mapping(org):
    from integrations.models import StageMapping

    return StageMapping.objects.create(org=org, connection=connection(org), stage_id="stage",
                                       tests=["big-five-mini-ipip-20"])


def inbound_event(org):
    from integrations.models import InboundEvent

    return InboundEvent.objects.create(org=org, connection=connection(org), event_type="x",
                                       dedupe_key=str(next(_n)), body="{}")


def delivery(org):
    from integrations.models import Delivery

    return Delivery.objects.create(org=org, connection=connection(org), kind="test",
                                   key=f"test:{next(_n)}")


def delivery_attempt(org):
    from integrations.models import DeliveryAttempt

    return DeliveryAttempt.objects.create(org=org, delivery=delivery(org))


def test_package(org):
    from assessments.models import TestPackage

    return TestPackage.objects.create(org=org, name=f"p{next(_n)}", slug=f"p{next(_n)}",
                                      tests=["big-five-mini-ipip-20"])


def partner_key(org):
    from integrations.models import PartnerKey

    n = next(_n)
    return PartnerKey.objects.create(org=org, connection=connection(org), prefix=f"k{n}",
                                     key_hash=f"{n:064d}")


def external_assessment(org):
    from integrations.models import ExternalAssessment

    return ExternalAssessment.objects.create(org=org, connection=connection(org),
                                             invitation=invitation(org),
                                             idempotency_key=f"k{next(_n)}", offering_id="x")


ROW_FACTORIES.update({
    "assessments.TestPackage": test_package,
    "integrations.PartnerKey": partner_key,
    "integrations.ExternalAssessment": external_assessment,
    "integrations.Connection": connection,
    "integrations.StageMapping": stage_mapping,
    "integrations.InboundEvent": inbound_event,
    "integrations.Delivery": delivery,
    "integrations.DeliveryAttempt": delivery_attempt,
})
