"""Read settings from the environment, failing with one readable line per problem.

`<NAME>_FILE` secrets are honoured (django-environ's FileAwareEnv). When DATABASE_URL, REDIS_URL or
the local secrets are unset, values written by the embedded-services manager (`.data/local.json`,
see config/embedded.py) are used, so `python manage.py ...` works beside a running `make run`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ASSAY_DATA_DIR", BASE_DIR / ".data"))
LOCAL_FILE = DATA_DIR / "local.json"

env = environ.FileAwareEnv()


def local_defaults() -> dict[str, str]:
    """Values that `make run` / `make test` generated for this checkout (empty in production)."""
    try:
        return json.loads(LOCAL_FILE.read_text())
    except (OSError, ValueError):
        return {}


def required(name: str, hint: str) -> str:
    """Return a setting from the environment or the local defaults, or fail naming it."""
    value = env.str(name, default="") or local_defaults().get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: {hint}")
    return value


def parse(name: str, cast, default=environ.Env.NOTSET, **kwargs):
    """Cast one variable, turning django-environ's errors into a message that names it."""
    try:
        return getattr(env, cast)(name, default=default, **kwargs)
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # noqa: BLE001 - any cast error is a configuration error
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from None


def db_config(url: str, name: str = "DATABASE_URL") -> dict:
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001
        raise ImproperlyConfigured(f"{name} is malformed: {exc}") from None
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"{name} must be a postgres:// URL (Assay needs PostgreSQL)")
    # A Unix-socket directory travels URL-encoded in the host part (postgres://u@%2Fpath/db).
    config["HOST"] = unquote(config.get("HOST") or "")
    return config
