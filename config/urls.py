from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from assessments.urls import report_patterns

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # One sign-in page for the console: allauth's (email + password, rate limited).
    path("admin/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("orgs/", include("tenants.urls")),
    path("a/", include("assessments.urls")),  # candidate pages
    path("r/", include(report_patterns)),  # reports (the link written into ATSes)
    path("integrations/", include("integrations.urls")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
