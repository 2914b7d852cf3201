"""`migrate` runs as the database owner; the application role then gets its grants and RLS.

The application itself connects as DATABASE_APP_ROLE (tenants/db/base.py), which may not
create tables. This override switches to owner mode for the run; tenants/rls.py's post_migrate
hook creates the role, grants it access and (re)applies the row-level-security policies.
"""

from django.core.management.commands.migrate import Command as MigrateCommand

from tenants.db import owner_mode


class Command(MigrateCommand):
    def handle(self, *args, **options):
        with owner_mode():
            return super().handle(*args, **options)
