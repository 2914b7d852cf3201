"""Test harness: the real PostgreSQL (as the application role) and Redis, and a real worker.

- The test database is created and migrated in owner mode, like `migrate`; every test then runs
  as DATABASE_APP_ROLE, so row-level security is in force exactly as in production.
- Tests use their own Redis database (the first free index from 9 to 15 of REDIS_URL's server,
  claimed per pytest process in database 8), so a `make run` beside them keeps its queues and
  two test runs side by side never take each other's Celery tasks.
- `celery_worker` starts a real `celery worker` process on the test database; tests using it
  need `transactional_db` so the worker sees their rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_REDIS_DBS = range(9, 16)
CLAIMS_DB = 8
CLAIM_SECONDS = 6 * 3600  # a killed run's claim lapses on its own
_claimed: list[tuple[str, str]] = []


def _with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def _test_redis_url(url: str) -> str:
    """Claim a free test database for this process (falls back to the first one)."""
    import redis

    claims = redis.Redis.from_url(_with_db(url, CLAIMS_DB), socket_connect_timeout=2)
    try:
        for db in TEST_REDIS_DBS:
            key = f"assay:test-redis-db:{db}"
            if claims.set(key, os.getpid(), nx=True, ex=CLAIM_SECONDS):
                _claimed.append((url, key))
                return _with_db(url, db)
    except redis.RedisError:
        pass  # an unreachable Redis is reported by the tests that need it
    return _with_db(url, TEST_REDIS_DBS[0])


def pytest_unconfigure(config):
    import redis

    for url, key in _claimed:
        try:
            redis.Redis.from_url(_with_db(url, CLAIMS_DB), socket_connect_timeout=2).delete(key)
        except redis.RedisError:
            pass


def pytest_configure(config):
    if not config.pluginmanager.hasplugin("django"):
        return
    from django.conf import settings

    if not settings.configured:
        return
    # The manifest storage needs `collectstatic`; tests render templates without running it.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise expects it
    # Never talk to a developer's running demo fake Lever; tests start their own on port 0.
    settings.FAKE_LEVER_URL = "http://127.0.0.1:9"
    url = _test_redis_url(settings.REDIS_URL)
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    settings.CACHES["default"]["LOCATION"] = url
    from config.celery import app

    app.conf.update(broker_url=url, result_backend=url)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    from django.db import connections

    from tenants.db import set_owner_mode

    # One test database per pytest process, so two runs side by side never drop each other's.
    for alias in connections:
        settings_dict = connections[alias].settings_dict
        test = settings_dict.setdefault("TEST", {})
        base = test.get("NAME") or f"test_{settings_dict['NAME']}"
        test["NAME"] = f"{base}_{os.getpid()}"
    # Create and migrate the test database as the owner (see tenants/db/__init__.py).
    set_owner_mode(True)


@pytest.fixture(scope="session", autouse=True)
def _app_role_session(request):
    """After the test database exists, run every test as the application role."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    request.getfixturevalue("django_db_setup")
    from django.db import connection

    from tenants.db import set_owner_mode

    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock(), connection.cursor() as cursor:
        # Transactional tests flush tables between tests; only the test role gets TRUNCATE.
        role = connection.ops.quote_name(connection.settings_dict["APP_ROLE"])
        cursor.execute(f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {role}")
    set_owner_mode(False)
    yield
    set_owner_mode(True)


@pytest.fixture(autouse=True)
def _clean_test_redis(request):
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from config.redis import redis_client

    redis_client.cache_clear()
    yield


def worker_database_url() -> str:
    """A DATABASE_URL for subprocesses (workers, servers) that points at the test database."""
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = quote(s["HOST"] or "", safe="") + (f":{s['PORT']}" if s.get("PORT") else "")
    return f"postgres://{auth}@{host}/{s['NAME']}"


def subprocess_env(**extra) -> dict:
    from django.conf import settings

    env = dict(os.environ)
    env.update(DATABASE_URL=worker_database_url(), REDIS_URL=settings.REDIS_URL,
               PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real Celery worker process on the test database and the test Redis database."""
    from config.celery import app
    from config.redis import redis_client

    redis_client().flushdb()
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q",
             "default,integrations,email", "--pool", "threads", "--concurrency", "4",
             "-l", "info", "--without-mingle", "--without-gossip", "-n", f"test-{os.getpid()}@%h"],
            cwd=ROOT, env=subprocess_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"celery worker exited early:\n{log.read_text()[-3000:]}")
            if app.control.ping(timeout=0.5):
                break
        else:
            pytest.fail(f"celery worker did not start:\n{log.read_text()[-3000:]}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        redis_client().flushdb()


# --- Tenants -------------------------------------------------------------------------------------

@pytest.fixture
def make_org(db):
    from tenants.context import platform_context
    from tenants.forms import create_organization
    from tenants.models import User

    def make(slug: str, *, owner_email: str | None = None):
        with platform_context("test set-up"):
            owner = User.objects.create_user(owner_email or f"owner@{slug}.test", "pw-123456!")
            return create_organization(name=slug.title(), slug=slug, owner=owner)

    return make


@pytest.fixture
def org_a(make_org):
    return make_org("alpha")


@pytest.fixture
def org_b(make_org):
    return make_org("beta")
