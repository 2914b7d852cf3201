"""Wrong settings stop start-up with one line naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"SECRET_KEY": "k" * 50, "SECRET_ENCRYPTION_KEYS": "x",
        "DATABASE_URL": "postgres://u@127.0.0.1:1/db", "REDIS_URL": "redis://127.0.0.1:1/0"}


def _check(tmp_path, **env):
    full = {k: v for k, v in os.environ.items()
            if k not in GOOD and not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    full.update(ASSAY_DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                           "CRITICAL"], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(("missing", "named"), [
    ("SECRET_KEY", "SECRET_KEY is not set"),
    ("DATABASE_URL", "DATABASE_URL is not set"),
    ("REDIS_URL", "REDIS_URL is not set"),
    ("SECRET_ENCRYPTION_KEYS", "SECRET_ENCRYPTION_KEYS is not set"),
])
def test_a_missing_setting_is_named_in_one_line(tmp_path, missing, named):
    env = {k: v for k, v in GOOD.items() if k != missing}
    result = _check(tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"assay: configuration error: {named}")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("name", "value", "named"), [
    ("DATA_RETENTION_DAYS", "ninety", "DATA_RETENTION_DAYS is malformed"),
    ("DATA_RETENTION_DAYS", "0", "DATA_RETENTION_DAYS is malformed"),
    ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL must be a postgres:// URL"),
    ("REDIS_URL", "http://h", "REDIS_URL is malformed"),
    ("SITE_URL", "example.com", "SITE_URL is malformed"),
])
def test_a_malformed_setting_is_named(tmp_path, name, value, named):
    result = _check(tmp_path, **{**GOOD, name: value})
    assert result.returncode == 2
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file-" + "x" * 40)
    env = {k: v for k, v in GOOD.items() if k != "SECRET_KEY"}
    full = {**os.environ, **env, "SECRET_KEY_FILE": str(secret), "ASSAY_DATA_DIR": str(tmp_path)}
    full.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
         " print(settings.SECRET_KEY)"],
        cwd=ROOT, env={**full, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "from-a-file-" + "x" * 40, result.stderr
