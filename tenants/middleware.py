"""Put each request in its tenant's context (tenants/context.py).

A signed-in user acts for the org chosen in their session (org switcher), else their first
membership. Platform superusers see every org in the console: the explicit operator path.
Anonymous requests have no context; views that take a tenant from a URL (webhooks, partner
calls) resolve it themselves.
"""

from __future__ import annotations

from .context import platform_context, tenant_context, user_context
from .models import Membership

SESSION_KEY = "assay_org_id"


def memberships_of(user):
    with user_context(user):
        return list(Membership.objects.filter(user=user).select_related("org")
                    .order_by("org__name"))


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.org = None
        request.membership = None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)

        memberships = memberships_of(user)
        request.memberships = memberships
        chosen = request.session.get(SESSION_KEY)
        membership = next((m for m in memberships if m.org_id == chosen), None)
        if membership is None and memberships:
            membership = memberships[0]
        if membership is not None:
            request.membership = membership
            request.org = membership.org

        if user.is_superuser:
            with platform_context(f"superuser {user.pk} {request.method} {request.path}",
                                  user=user):
                return self.get_response(request)
        with tenant_context(request.org, user=user):
            return self.get_response(request)
