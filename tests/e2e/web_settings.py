"""The project's settings for a web server started by the end-to-end tests and the Lever bench.

One change, the same the in-process tests make (tests/conftest.py): plain static storage, so
pages render without `collectstatic` having built a manifest. Everything else is config.settings,
read from the same environment variables as production.
"""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
