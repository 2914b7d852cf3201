import time

import pytest
from django.conf import settings

from config.redis import redis_client

pytestmark = pytest.mark.django_db


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_names_a_missing_worker(client):
    redis_client().delete(settings.WORKER_HEARTBEAT_KEY)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert set(body["down"]) == {"worker"}
    assert "worker" in body["down"]["worker"]


def test_readyz_reports_a_stale_heartbeat(client):
    redis_client().set(settings.WORKER_HEARTBEAT_KEY, f"{time.time() - 3600:.3f} old-host")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "old" in response.json()["down"]["worker"]


def test_readyz_names_an_unreachable_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    redis_client.cache_clear()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json()["down"]) == {"redis", "worker"}


@pytest.mark.celery_worker
def test_readyz_is_ok_with_a_real_worker(client, celery_worker):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = client.get("/readyz")
        if response.status_code == 200:
            break
        time.sleep(0.2)
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}
