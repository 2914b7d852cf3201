"""Celery tasks run in their org's context, as the application role, in a real worker."""

import pytest

from tenants.tasks import whoami
from tests.rls_rows import membership


@pytest.mark.celery_worker
def test_a_tenant_task_sees_only_its_org(celery_worker, org_a, org_b):
    from tenants.context import tenant_context

    with tenant_context(org_b):
        membership(org_b)
    result = whoami.apply_async(kwargs={"org_id": org_a.pk}).get(timeout=30)
    assert result == {"role": "assay_app", "org": str(org_a.pk), "memberships": [org_a.pk]}


def test_a_tenant_task_without_an_org_is_refused():
    with pytest.raises(TypeError, match="org_id"):
        whoami.apply(kwargs={}).get()
