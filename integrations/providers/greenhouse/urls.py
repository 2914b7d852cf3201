"""Greenhouse's partner endpoints under /integrations/ (DESIGN §3.3); included by
integrations/urls.py. These four URLs are what the customer hands to Greenhouse."""

from django.urls import path

from . import views

urlpatterns = [
    path("greenhouse/list_tests", views.list_tests, name="greenhouse_list_tests"),
    path("greenhouse/send_test", views.send_test, name="greenhouse_send_test"),
    path("greenhouse/test_status", views.test_status, name="greenhouse_test_status"),
    path("greenhouse/response_error", views.response_error, name="greenhouse_response_error"),
]
