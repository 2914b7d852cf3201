"""Ashby's partner endpoints under /integrations/ashby/ (DESIGN §3.3).

Ashby appends `/assessment.<method>` to the base URL it was given; how exactly it joins them is
unconfirmed (brief §4.1), so a trailing slash is accepted too.
"""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^ashby/assessment\.list/?$", views.assessment_list, name="ashby_assessment_list"),
    re_path(r"^ashby/assessment\.start/?$", views.assessment_start,
            name="ashby_assessment_start"),
    re_path(r"^ashby/assessment\.cancel/?$", views.assessment_cancel,
            name="ashby_assessment_cancel"),
    re_path(r"^ashby/assessment\.customField\.list/?$", views.custom_field_list,
            name="ashby_custom_field_list"),
]
