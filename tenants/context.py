"""Which tenant the current code acts for: one context variable, read by the database backend.

Middleware (requests), TenantTask (Celery) and management commands set it; tenants/db/base.py
copies it into the PostgreSQL settings `app.current_org`, `app.current_user` and `app.platform`
at the start of each transaction, where the row-level-security policies read it. With no
context, the policies match no row: a forgotten scope returns nothing rather than another
org's data.

`platform_context()` is the operator's explicit way to see every org (platform superusers in the
console, sweepers that walk all orgs, resolving a webhook's org from its connection id). It is
never the default and is logged.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from dataclasses import dataclass

log = logging.getLogger("assay.tenants")


@dataclass(frozen=True)
class TenantState:
    org_id: int | None = None
    user_id: int | None = None
    platform: bool = False


EMPTY = TenantState()
_state: contextvars.ContextVar[TenantState] = contextvars.ContextVar("assay_tenant", default=EMPTY)


def current() -> TenantState:
    return _state.get()


def current_org_id() -> int | None:
    return _state.get().org_id


def _pk(obj) -> int | None:
    return getattr(obj, "pk", obj)


@contextlib.contextmanager
def tenant_context(org, *, user=None):
    """Act for one org (a model instance or id); `user` also lets a user see their memberships."""
    token = _state.set(TenantState(org_id=_pk(org), user_id=_pk(user)))
    try:
        yield
    finally:
        _state.reset(token)


@contextlib.contextmanager
def user_context(user):
    """Act for a signed-in user before an org is chosen: only their own memberships are visible."""
    token = _state.set(TenantState(user_id=_pk(user)))
    try:
        yield
    finally:
        _state.reset(token)


@contextlib.contextmanager
def platform_context(reason: str, *, user=None):
    """See every org's rows. Explicit, logged, never the default."""
    log.info("platform access: %s", reason)
    prior = _state.get()
    token = _state.set(TenantState(org_id=prior.org_id, user_id=_pk(user) or prior.user_id,
                                   platform=True))
    try:
        yield
    finally:
        _state.reset(token)


@contextlib.contextmanager
def no_context():
    """Drop any tenant context (tests use it to prove that nothing is visible without one)."""
    token = _state.set(EMPTY)
    try:
        yield
    finally:
        _state.reset(token)
