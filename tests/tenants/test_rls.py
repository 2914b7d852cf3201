"""Row-level security proven at the database, for every tenant model."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from tenants import rls
from tenants.context import no_context, platform_context, tenant_context, user_context
from tenants.models import Membership
from tests.rls_rows import ROW_FACTORIES

pytestmark = pytest.mark.django_db

TENANT_MODELS = rls.tenant_models()


def _label(model) -> str:
    return model._meta.label


def _count(table: str, org_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}" WHERE org_id = %s', [org_id])
        return cursor.fetchone()[0]


def _rows(model, org):
    with tenant_context(org):
        return ROW_FACTORIES[_label(model)](org)


def test_every_tenant_model_has_a_row_factory():
    missing = [_label(m) for m in TENANT_MODELS if _label(m) not in ROW_FACTORIES]
    assert not missing, f"add row factories to tests/rls_rows.py for: {missing}"


def test_there_are_tenant_models():
    assert {"tenants.Membership", "tenants.ApiKey", "tenants.AuditLog"} <= {
        _label(m) for m in TENANT_MODELS}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=_label)
def test_other_orgs_rows_are_invisible_and_untouchable(model, org_a, org_b):
    table = model._meta.db_table
    _rows(model, org_a)
    row_b = _rows(model, org_b)

    with tenant_context(org_a):
        assert _count(table, org_a.pk) >= 1
        assert _count(table, org_b.pk) == 0
        with connection.cursor() as cursor:
            cursor.execute(f'UPDATE "{table}" SET org_id = org_id WHERE org_id = %s', [org_b.pk])
            assert cursor.rowcount == 0
            cursor.execute(f'DELETE FROM "{table}" WHERE id = %s', [row_b.pk])
            assert cursor.rowcount == 0
        # Moving one of A's rows to B, or writing a row for B, is refused by the policy.
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f'UPDATE "{table}" SET org_id = %s WHERE org_id = %s',
                               [org_b.pk, org_a.pk])
        with pytest.raises((ProgrammingError, IntegrityError)), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{table}" LIMIT 0')
                cursor.execute(
                    f'CREATE TEMP TABLE _copy ON COMMIT DROP AS SELECT * FROM "{table}" '
                    f"WHERE org_id = %s LIMIT 1", [org_a.pk])
                cursor.execute("UPDATE _copy SET org_id = %s, id = id + 1000000", [org_b.pk])
                cursor.execute(f'INSERT INTO "{table}" SELECT * FROM _copy')

    with tenant_context(org_b):
        assert _count(table, org_b.pk) >= 1
        assert _count(table, org_a.pk) == 0

    with no_context():
        assert _count(table, org_a.pk) == 0
        assert _count(table, org_b.pk) == 0
        assert model.objects.count() == 0

    with platform_context("test: operators see every org"):
        assert _count(table, org_a.pk) >= 1
        assert _count(table, org_b.pk) >= 1


def test_orm_queries_without_a_filter_return_only_the_current_org(org_a, org_b):
    for org in (org_a, org_b):
        _rows(Membership, org)
    with tenant_context(org_a):
        assert set(Membership.objects.values_list("org_id", flat=True)) == {org_a.pk}


def test_a_user_sees_only_their_own_memberships_before_choosing_an_org(org_a, org_b):
    owner_a = Membership.objects.none()
    with platform_context("test"):
        owner_a = Membership.objects.get(org=org_a, role="owner").user
    with user_context(owner_a):
        assert [m.org_id for m in Membership.objects.all()] == [org_a.pk]


def test_every_table_with_org_id_has_forced_rls_and_the_policy():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policies p
                           WHERE p.tablename = c.relname AND p.policyname = %s)
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            JOIN information_schema.columns col
              ON col.table_schema = 'public' AND col.table_name = c.relname
             AND col.column_name = 'org_id'
            WHERE c.relkind = 'r'
        """, [rls.POLICY])
        rows = cursor.fetchall()
    tables = {name for name, *_ in rows}
    assert {m._meta.db_table for m in TENANT_MODELS} <= tables
    unprotected = [name for name, enabled, forced, policy in rows
                   if not (enabled and forced and policy)]
    assert unprotected == [], f"tables without forced RLS and policy: {unprotected}"


def test_the_app_role_is_neither_superuser_nor_bypassrls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                       "WHERE rolname = current_user")
        role, superuser, bypass = cursor.fetchone()
    assert role == connection.settings_dict["APP_ROLE"]
    assert superuser is False
    assert bypass is False


def test_the_context_is_local_to_the_transaction(org_a):
    _rows(Membership, org_a)
    with tenant_context(org_a), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.current_org', true)")
        assert cursor.fetchone()[0] == str(org_a.pk)
    # Outside the context, in a new transaction, nothing lingers.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('app.current_org', true), '')")
        assert cursor.fetchone()[0] == ""
