"""Candidate URLs, mounted at /a/ (config/urls.py; only `enter` carries the token), and the
report URL, mounted at /r/ (`report_patterns`)."""

from django.urls import path, re_path

from .views import candidate, report

app_name = "candidate"
urlpatterns = [
    path("", candidate.home, name="home"),
    path("consent", candidate.consent, name="consent"),
    path("t/<int:position>/", candidate.test_intro, name="test"),
    path("t/<int:position>/items", candidate.items, name="items"),
    path("t/<int:position>/answer", candidate.answer, name="answer"),
    path("done", candidate.done, name="done"),
    re_path(r"^(?P<token>[A-Za-z0-9_-]{20,128})$", candidate.enter, name="enter"),
]

report_patterns = ([path("<uuid:public_id>", report.report, name="report")], "reports")
