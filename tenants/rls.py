"""Row-level security, declared on models instead of written by hand per table.

A model is tenant-owned when it subclasses `tenants.models.TenantModel` (it then has `org`). After
every `migrate`, `on_post_migrate` makes sure each tenant table has RLS enabled *and forced* and
one policy `assay_tenant_isolation`, and that the application role may use every table and
sequence. A model can widen its policy with a class attribute `rls_extra_using`, an SQL
expression OR-ed into the condition (Membership uses it so a user sees their own memberships
before choosing an org).

tests/tenants/test_rls.py walks every model and fails if any tenant table lacks forced RLS.
"""

from __future__ import annotations

import logging

from django.db import connections

log = logging.getLogger("assay.tenants.rls")

POLICY = "assay_tenant_isolation"
CURRENT_ORG = "NULLIF(current_setting('app.current_org', true), '')::bigint"
CURRENT_USER = "NULLIF(current_setting('app.current_user', true), '')::bigint"
PLATFORM = "current_setting('app.platform', true) = 'on'"


def tenant_models():
    from django.apps import apps

    from .models import TenantModel

    return [m for m in apps.get_models()
            if issubclass(m, TenantModel) and not m._meta.proxy and m._meta.managed]


def policy_condition(model) -> str:
    condition = f"org_id = {CURRENT_ORG} OR {PLATFORM}"
    extra = getattr(model, "rls_extra_using", None)
    if extra:
        condition += f" OR ({extra.format(current_user=CURRENT_USER, current_org=CURRENT_ORG)})"
    return condition


def enable_rls_sql(model) -> list[str]:
    table = connections["default"].ops.quote_name(model._meta.db_table)
    condition = policy_condition(model)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {table}",
        f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})",
    ]


def ensure_app_role(cursor, role: str) -> None:
    """Create the application role if missing: no superuser, no BYPASSRLS, no login by default."""
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    quoted = connections["default"].ops.quote_name(role)
    if row is None:
        cursor.execute(f"CREATE ROLE {quoted} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB")
        log.info("created database role %s", role)
    elif row[0] or row[1]:
        raise RuntimeError(
            f"database role {role} is a superuser or has BYPASSRLS: row-level security would not "
            f"apply to it. Run: ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS;")


def grant_app_role(cursor, role: str) -> None:
    quoted = connections["default"].ops.quote_name(role)
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    cursor.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
    cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}")


def apply(using: str = "default") -> None:
    """Idempotently create the app role, grant it access, and enable RLS on tenant tables."""
    connection = connections[using]
    role = connection.settings_dict.get("APP_ROLE")
    with connection.cursor() as cursor:
        if role:
            ensure_app_role(cursor, role)
        for model in tenant_models():
            for statement in enable_rls_sql(model):
                cursor.execute(statement)
        if role:
            grant_app_role(cursor, role)


def on_post_migrate(sender, using="default", **kwargs) -> None:
    # post_migrate fires once per app after the whole run, when every table exists; doing the
    # work for one sender is enough. `flush` (tests) emits it too, as the app role, which may not
    # alter tables; the policies are already in place then.
    from .db import owner_mode_active

    if sender.name == "tenants" and owner_mode_active():
        apply(using)
