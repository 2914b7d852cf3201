"""PostgreSQL backend that runs as the application role and applies the tenant context.

Why a backend and not middleware alone: the context must reach *every* statement, including
those of the admin, allauth, Celery tasks and management commands, and it must be scoped to a
transaction (`set_config(..., true)`) so that a pooled connection never carries one org's
context into another's work. The backend is the one place all statements pass through.

- Identity: unless in owner mode, connections start with `-c role=<APP_ROLE>`, so even when
  DATABASE_URL names a superuser (a developer box, CI) the session runs as a role that is neither
  superuser nor BYPASSRLS. Production should connect as the app role directly (README).
- Context: before the first statement of each transaction, and again whenever the context
  changes inside it, `app.current_org`, `app.current_user` and `app.platform` are set local to
  the transaction. A statement outside a transaction (autocommit) with a context gets a
  transaction of its own, so its setting cannot outlive it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.backends.postgresql import base as postgresql

from tenants import context

from . import owner_mode_active

SET_CONTEXT_SQL = (
    "SELECT set_config('app.current_org', %s, true), set_config('app.current_user', %s, true),"
    " set_config('app.platform', %s, true)"
)


TRANSACTION_CONTROL = ("SAVEPOINT ", "ROLLBACK TO SAVEPOINT ", "RELEASE SAVEPOINT ")


def _as_setting(value) -> str:
    return "" if value is None else str(value)


class DatabaseWrapper(postgresql.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tenant_applied: context.TenantState | None = None
        self.execute_wrappers.append(self._apply_tenant)

    # Identity ---------------------------------------------------------------------------------
    def get_connection_params(self):
        owner = self.settings_dict.get("OWNER")
        if owner_mode_active() and owner:
            params = {**self.settings_dict, **{k: owner[k] for k in
                      ("NAME", "USER", "PASSWORD", "HOST", "PORT") if k in owner}}
            saved, self.settings_dict = self.settings_dict, params
            try:
                return super().get_connection_params()
            finally:
                self.settings_dict = saved
        params = super().get_connection_params()
        role = self.settings_dict.get("APP_ROLE")
        if role and not owner_mode_active() and self.settings_dict.get("USER") != role:
            params["options"] = f"{params.get('options', '')} -c role={role}".strip()
        return params

    # Transaction boundaries reset what was applied -------------------------------------------
    def connect(self):
        self._tenant_applied = None
        super().connect()

    def _set_autocommit(self, autocommit):
        self._tenant_applied = None
        super()._set_autocommit(autocommit)

    def _commit(self):
        self._tenant_applied = None
        return super()._commit()

    def _rollback(self):
        self._tenant_applied = None
        return super()._rollback()

    def _savepoint_rollback(self, sid):
        # set_config(..., true) made inside the savepoint is undone with it.
        self._tenant_applied = None
        return super()._savepoint_rollback(sid)

    # The wrapper ------------------------------------------------------------------------------
    def _set_context(self, cursor, state: context.TenantState) -> None:
        cursor.execute(SET_CONTEXT_SQL, (
            _as_setting(state.org_id), _as_setting(state.user_id), "on" if state.platform else ""))
        self._tenant_applied = state

    def _apply_tenant(self, execute, sql, params, many, ctx):
        # Savepoint control must run as is: after an error the transaction accepts nothing else.
        if owner_mode_active() or sql.startswith(TRANSACTION_CONTROL):
            return execute(sql, params, many, ctx)
        state = context.current()
        raw_cursor = ctx["cursor"].cursor
        if not self.get_autocommit():
            if self._tenant_applied != state:
                self._set_context(raw_cursor, state)
            return execute(sql, params, many, ctx)
        if state == context.EMPTY:
            return execute(sql, params, many, ctx)
        with transaction.atomic(using=self.alias):
            self._set_context(raw_cursor, state)
            return execute(sql, params, many, ctx)
