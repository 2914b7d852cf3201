from django.urls import path

from . import webhooks

app_name = "integrations"
urlpatterns = [
    path("lever/<uuid:connection_id>/webhook", webhooks.lever_webhook, name="lever_webhook"),
]
