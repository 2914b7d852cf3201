#!/usr/bin/env python
"""Django's command-line utility, with one readable line for configuration and connection errors."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"assay: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line
    from django.db import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        print(f"assay: cannot reach the database (DATABASE_URL): {reason}", file=sys.stderr)
        sys.exit(1)
    except RedisConnectionError as exc:
        print(f"assay: cannot reach Redis (REDIS_URL): {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
