"""/integrations/…: Lever's OAuth and webhooks, and each partner ATS's endpoints.

A partner provider serves its routes from `integrations/providers/<key>/urls.py`: a
`urlpatterns` list with paths relative to /integrations/ (e.g. "greenhouse/list_tests") and URL
names prefixed with the provider ("greenhouse_list_tests"), in this `integrations` namespace.
"""

import importlib

from django.urls import path

from . import registry, views, webhooks

app_name = "integrations"
urlpatterns = [
    path("lever/connect", views.lever_connect, name="lever_connect"),
    path("lever/callback", views.lever_callback, name="lever_callback"),
    path("lever/<uuid:connection_id>/webhook", webhooks.lever_webhook, name="lever_webhook"),
    path("lever/<uuid:connection_id>/setup", views.lever_setup, name="lever_setup"),
    path("lever/<uuid:connection_id>/refresh", views.lever_refresh, name="lever_refresh"),
    path("lever/<uuid:connection_id>/perform-as", views.lever_perform_as,
         name="lever_perform_as"),
    path("lever/<uuid:connection_id>/disconnect", views.lever_disconnect,
         name="lever_disconnect"),
]


def _provider_urls(key: str) -> list:
    module_name = f"integrations.providers.{key}.urls"
    try:
        return list(importlib.import_module(module_name).urlpatterns)
    except ModuleNotFoundError as exc:
        if exc.name not in (module_name, f"integrations.providers.{key}"):
            raise  # a real import error inside the provider: show it
        return []


for _key in registry.PROVIDERS:
    urlpatterns += _provider_urls(_key)
