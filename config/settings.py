"""Django settings, read from environment variables (DESIGN §3.2).

Every variable is documented in README.md ("Configuration"). Wrong settings stop start-up with
one line naming the variable (ImproperlyConfigured, printed by manage.py / the WSGI entry point).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .env import BASE_DIR, DATA_DIR, db_config, parse, required

DEBUG = parse("DEBUG", "bool", default=False)
SECRET_KEY = required("SECRET_KEY", "set it to a long random string (or SECRET_KEY_FILE)")
ALLOWED_HOSTS = parse("ALLOWED_HOSTS", "list", default=["127.0.0.1", "localhost", "[::1]"])
SITE_URL = parse("SITE_URL", "str", default="http://127.0.0.1:8000").rstrip("/")
if urlsplit(SITE_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("SITE_URL is malformed: it must start with http:// or https://")
CSRF_TRUSTED_ORIGINS = parse("CSRF_TRUSTED_ORIGINS", "list", default=[SITE_URL])

INSTALLED_APPS = [
    "tenants",
    "assessments",
    "integrations",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.organization",
            ],
        },
    },
]

# Database. The application runs as DATABASE_APP_ROLE (neither superuser nor BYPASSRLS) so that
# PostgreSQL row-level security applies to it; migrations run as the URL's own user (the owner).
# See tenants/db/ and README "Database roles".
_db = db_config(
    required("DATABASE_URL", "point it at PostgreSQL, or run `make run` for an embedded one"))
_db["ENGINE"] = "tenants.db"
_db["APP_ROLE"] = parse("DATABASE_APP_ROLE", "str", default="assay_app")
_db["CONN_MAX_AGE"] = parse("CONN_MAX_AGE", "int", default=60)
_db["CONN_HEALTH_CHECKS"] = True
_db.setdefault("OPTIONS", {})["connect_timeout"] = 5
_owner_url = parse("DATABASE_OWNER_URL", "str", default="")
if _owner_url:
    _db["OWNER"] = db_config(_owner_url, "DATABASE_OWNER_URL")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = required("REDIS_URL", "point it at Redis, or run `make run` for an embedded one")
if urlsplit(REDIS_URL).scheme not in ("redis", "rediss"):
    raise ImproperlyConfigured("REDIS_URL is malformed: it must be a redis:// or rediss:// URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "assay",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/admin/"
LOGIN_URL = "/accounts/login/"

# django-allauth: email + password; sign-up creates an organization (tenants/forms.py).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = parse(
    "ACCOUNT_EMAIL_VERIFICATION", "str", default="optional" if DEBUG else "mandatory")
ACCOUNT_SIGNUP_FORM_CLASS = "tenants.forms.SignupForm"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}

# Email (EMAIL_URL in django-environ form: smtp://user:pass@host:port, consolemail://, ...).
_email = parse("EMAIL_URL", "email_url", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = parse("DEFAULT_FROM_EMAIL", "str", default="Assay <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Secrets at rest (OAuth tokens, ATS keys, webhook secrets): Fernet keys, first encrypts, all
# decrypt. See tenants/crypto.py.
SECRET_ENCRYPTION_KEYS = [key.strip() for key in required(
    "SECRET_ENCRYPTION_KEYS",
    "set a comma-separated list of Fernet keys (generate one with `python -m tenants.crypto`)",
).split(",") if key.strip()]

DATA_RETENTION_DAYS = parse("DATA_RETENTION_DAYS", "int", default=90)
if DATA_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("DATA_RETENTION_DAYS is malformed: it must be at least 1")

# Candidate experience (assessments/): reminder timing and per-IP rate limits of the anonymous
# candidate pages ("<count>/<s|m|h>", fixed windows in Redis; assessments/ratelimit.py).
INVITATION_REMINDER_DAYS = parse("INVITATION_REMINDER_DAYS", "int", default=3)
CANDIDATE_TOKEN_RATE_LIMIT = parse("CANDIDATE_TOKEN_RATE_LIMIT", "str", default="30/m")
CANDIDATE_ANSWER_RATE_LIMIT = parse("CANDIDATE_ANSWER_RATE_LIMIT", "str", default="600/m")
for _name in ("CANDIDATE_TOKEN_RATE_LIMIT", "CANDIDATE_ANSWER_RATE_LIMIT"):
    _count, _, _period = vars()[_name].partition("/")
    if not _count.strip().isdigit() or _period.strip() not in ("s", "m", "h"):
        raise ImproperlyConfigured(f"{_name} is malformed: use <count>/<s|m|h>, e.g. 30/m")

# Lever
LEVER_API_URL = parse("LEVER_API_URL", "str", default="https://api.lever.co/v1")
LEVER_AUTH_URL = parse("LEVER_AUTH_URL", "str", default="https://auth.lever.co")
LEVER_CLIENT_ID = parse("LEVER_CLIENT_ID", "str", default="")
LEVER_CLIENT_SECRET = parse("LEVER_CLIENT_SECRET", "str", default="")
# The built-in fake Lever (integrations/providers/lever/fake/): `make run` starts it on
# FAKE_LEVER_PORT for the demo; sandbox connections use FAKE_LEVER_URL (empty: no sandbox option).
FAKE_LEVER_PORT = parse("FAKE_LEVER_PORT", "int", default=8001)
if not 1 <= FAKE_LEVER_PORT <= 65535:
    raise ImproperlyConfigured("FAKE_LEVER_PORT is malformed: it must be a port (1-65535)")
FAKE_LEVER_URL = parse("FAKE_LEVER_URL", "str",
                       default=f"http://127.0.0.1:{FAKE_LEVER_PORT}").rstrip("/")
if FAKE_LEVER_URL and urlsplit(FAKE_LEVER_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("FAKE_LEVER_URL is malformed: it must start with http:// or "
                               "https:// (or be empty)")
# Ashby
ASHBY_API_URL = parse("ASHBY_API_URL", "str", default="https://api.ashbyhq.com")
# Greenhouse and Workable tell us where to send results (the PATCH `url`, the `callback_url`);
# production connections only send there when the host is one of these domains or below one
# (an SSRF guard, DESIGN §4). Sandbox connections may call any host, the built-in fakes included.
GREENHOUSE_CALLBACK_DOMAINS = parse("GREENHOUSE_CALLBACK_DOMAINS", "list",
                                    default=["greenhouse.io"])
WORKABLE_CALLBACK_DOMAINS = parse("WORKABLE_CALLBACK_DOMAINS", "list", default=["workable.com"])
# The built-in fakes of the partner ATSes, started by `make run` for the demo org's sandbox
# connections (and by `manage.py run_fake_ats <ats>` without --port).
FAKE_GREENHOUSE_PORT = parse("FAKE_GREENHOUSE_PORT", "int", default=8002)
FAKE_ASHBY_PORT = parse("FAKE_ASHBY_PORT", "int", default=8003)
FAKE_WORKABLE_PORT = parse("FAKE_WORKABLE_PORT", "int", default=8004)
for _name in ("FAKE_GREENHOUSE_PORT", "FAKE_ASHBY_PORT", "FAKE_WORKABLE_PORT"):
    if not 1 <= globals()[_name] <= 65535:
        raise ImproperlyConfigured(f"{_name} is malformed: it must be a port (1-65535)")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = SITE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {"TITLE": "Assay API", "VERSION": "1"}

# Celery (config/celery.py). Redis is the broker and result store; tasks acknowledge late and
# are re-queued if their worker dies, so a killed worker loses nothing.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "integrations.*": {"queue": "integrations"},
    "email.*": {"queue": "email"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = parse("CELERY_TASK_ALWAYS_EAGER", "bool", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
WORKER_HEARTBEAT_KEY = "assay:worker:heartbeat"
WORKER_HEARTBEAT_MAX_AGE = parse("WORKER_HEARTBEAT_MAX_AGE", "int", default=60)

LOG_LEVEL = parse("LOG_LEVEL", "str", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"level": "WARNING"},
    },
}
