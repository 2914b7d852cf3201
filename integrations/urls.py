from django.urls import path

from . import views, webhooks

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
