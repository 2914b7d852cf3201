"""Workable's provider endpoints under /integrations/ (included by integrations/urls.py).

Workable is given one base URL (`<site>/integrations/workable`) and appends the paths itself.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("workable/tests", views.tests, name="workable_tests"),
    path("workable/assessments", views.assessments, name="workable_assessments"),
    path("workable/assessments/<str:assessment_id>/shared-link", views.shared_link,
         name="workable_shared_link"),
]
