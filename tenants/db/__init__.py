"""A PostgreSQL backend that enforces the tenant context (see base.py) and owner mode."""

from __future__ import annotations

import contextlib

_owner_mode = False


def owner_mode_active() -> bool:
    return _owner_mode


def set_owner_mode(active: bool) -> None:
    """Imperative form of owner_mode(), for test-session set-up and tear-down."""
    global _owner_mode
    from django.db import connections

    connections.close_all()
    _owner_mode = active


@contextlib.contextmanager
def owner_mode():
    """Connect as the database owner (DATABASE_OWNER_URL, else DATABASE_URL's own user).

    Migrations, test-database creation and role set-up need the owner; everything else runs as
    the application role. Open connections are closed on the way in and out so that none carries
    the wrong identity.
    """
    global _owner_mode
    from django.db import connections

    previous = _owner_mode
    connections.close_all()
    _owner_mode = True
    try:
        yield
    finally:
        connections.close_all()
        _owner_mode = previous
