"""Liveness and readiness probes.

/healthz answers while the process can serve a request. /readyz also checks what a request or a
task needs: the database, Redis, and a Celery worker heartbeat younger than
WORKER_HEARTBEAT_MAX_AGE; it names what is down in a 503 JSON body.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .redis import redis_client

log = logging.getLogger("assay.health")


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"database unreachable: {exc.__class__.__name__}"


def _check_redis() -> str | None:
    try:
        redis_client().ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"redis unreachable: {exc.__class__.__name__}"


def _check_worker() -> str | None:
    try:
        value = redis_client().get(settings.WORKER_HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001 - reported by the redis check
        return "worker heartbeat unknown (redis unreachable)"
    if not value:
        return "no worker heartbeat yet: is a Celery worker running?"
    age = time.time() - float(value.split()[0])
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return f"worker heartbeat is {age:.0f}s old"
    return None


@never_cache
@require_GET
def readyz(request):
    checks = {"database": _check_database(), "redis": _check_redis(), "worker": _check_worker()}
    down = {name: problem for name, problem in checks.items() if problem}
    if down:
        log.warning("readyz: not ready: %s", "; ".join(f"{k}: {v}" for k, v in down.items()))
        return JsonResponse({"status": "unavailable", "down": down}, status=503)
    return JsonResponse({"status": "ok", "checks": {name: "ok" for name in checks}})
