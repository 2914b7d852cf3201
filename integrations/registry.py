"""Which adapter serves which provider: lazy dotted paths, so adding a provider is one line here.

Imported lazily (and cached) so loading one provider never imports the others.
"""

from __future__ import annotations

import importlib
from functools import cache

PROVIDERS = {
    "lever": "integrations.providers.lever.adapter.LeverAdapter",
    "greenhouse": "integrations.providers.greenhouse.adapter.GreenhouseAdapter",
    "ashby": "integrations.providers.ashby.adapter.AshbyAdapter",
    "workable": "integrations.providers.workable.adapter.WorkableAdapter",
}

# Each provider's runnable fake ATS: a module with run(host, port, *, site_url, partner_url,
# **options) -> FakeServer and describe(server) -> list[str] (manage.py run_fake_ats).
FAKES = {key: f"integrations.providers.{key}.fake" for key in PROVIDERS}


@cache
def adapter_class(provider: str):
    try:
        path = PROVIDERS[provider]
    except KeyError:
        raise LookupError(f"no provider {provider!r}; known: {', '.join(PROVIDERS)}") from None
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def adapter(connection):
    """The adapter instance for one connection."""
    return adapter_class(connection.provider)(connection)


def installed_class(provider: str):
    """The provider's adapter class, or None when it is unknown or its package is missing."""
    try:
        return adapter_class(provider)
    except (ImportError, LookupError, AttributeError):
        return None


def available() -> list[str]:
    """Providers whose adapter is installed (all four since issue 5)."""
    return [key for key in PROVIDERS if installed_class(key) is not None]
