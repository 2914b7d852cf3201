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


ROW_FACTORIES.update({
    "integrations.Connection": connection,
    "integrations.StageMapping": stage_mapping,
    "integrations.InboundEvent": inbound_event,
    "integrations.Delivery": delivery,
    "integrations.DeliveryAttempt": delivery_attempt,
})
