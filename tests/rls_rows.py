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
