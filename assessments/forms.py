"""Forms of the console (manual invitations) and of the candidate pages (consent)."""

from __future__ import annotations

from django import forms

from .invitations import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS
from .models import EXTRA_TIME_CHOICES, CatalogTest


def test_choices():
    tests = (CatalogTest.objects.current().filter(retired_at__isnull=True).hire_eligible()
             .defer("definition").order_by("name"))
    return [(t.slug, f"{t.name} (~{t.estimated_minutes or '?'} min, {t.get_evidence_display()})")
            for t in tests]


class ManualInvitationForm(forms.Form):
    """A recruiter invites a candidate by email, without any ATS."""

    email = forms.EmailField(label="Candidate email")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    tests = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label="Tests",
        help_text="The candidate takes them in the order listed here.")
    expires_in_days = forms.IntegerField(min_value=1, max_value=MAX_EXPIRY_DAYS,
                                         initial=DEFAULT_EXPIRY_DAYS, label="Expires after (days)")
    extra_time_percent = forms.TypedChoiceField(
        choices=EXTRA_TIME_CHOICES, coerce=int, initial=0, label="Extra time on timed tests",
        help_text="An accommodation, e.g. for candidates with a documented need.")
    redirect_url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                                  label="Link on the completion page (optional)")
    sandbox = forms.BooleanField(required=False, help_text="A trial invitation: marked sandbox.")
    send_email = forms.BooleanField(required=False, initial=True,
                                    label="Email the link to the candidate now")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tests"].choices = test_choices()


class ConsentForm(forms.Form):
    consent = forms.BooleanField(
        required=True,
        label="I have read the privacy notice and agree that my answers are stored and scored "
              "as described.",
        error_messages={"required": "Please tick the box to agree before you start."})
