"""Console forms of the integrations: who results are posted as, stage mappings checked against
the ATS's live lists and the current catalog, and the partner-ATS connection forms (add, rotate
the key, replace the credential we present to the ATS)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django import forms

from . import registry
from .base import PARTNER_API
from .models import Connection, StageMapping

TEST_SLOTS = 5  # ordered test pickers per mapping (an invitation takes up to MAX_TESTS)


def test_choices(org=None) -> list[tuple[str, str]]:
    """What a mapping may send: the org's test packages, then the current hire-eligible catalog
    (experimental tests hidden). Without an org, the catalog only."""
    from assessments.models import CatalogTest
    from assessments.packages import offerings

    if org is not None:
        return [(o.id, ("Package: " if o.is_package else "") + o.name
                 + (f" (~{o.minutes} min)" if o.minutes else "")) for o in offerings(org)]
    rows = (CatalogTest.objects.current().hire_eligible().filter(retired_at__isnull=True)
            .order_by("name").only("slug", "name", "estimated_minutes"))
    return [(t.slug, f"{t.name} (~{t.estimated_minutes} min)" if t.estimated_minutes else t.name)
            for t in rows]


class PerformAsForm(forms.Form):
    perform_as = forms.ChoiceField(label="Post results in Lever as")

    def __init__(self, *args, users: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["perform_as"].choices = [("", "— choose a Lever user —")] + [
            (u["id"], f"{u['name']} <{u['email']}>" if u["email"] else u["name"]) for u in users]


class OrderedTestsWidget(forms.MultiWidget):
    def __init__(self, slots: int = TEST_SLOTS):
        super().__init__([forms.Select() for _ in range(slots)])

    def decompress(self, value):
        value = list(value or [])
        return (value + [""] * len(self.widgets))[:len(self.widgets)]


class OrderedTestsField(forms.MultiValueField):
    """An ordered list of catalog slugs, one picker per position; blanks are skipped."""

    widget = OrderedTestsWidget

    def __init__(self, slots: int = TEST_SLOTS, **kwargs):
        fields = [forms.CharField(required=False) for _ in range(slots)]
        kwargs.setdefault("help_text", "Taken in this order. Only current, hire-eligible tests "
                                       "are offered (experimental ones are hidden).")
        kwargs.setdefault("error_messages", {"required": "Choose at least one test."})
        super().__init__(fields, require_all_fields=False, **kwargs)
        self.widget = OrderedTestsWidget(slots)

    def set_choices(self, choices: list[tuple[str, str]], current: list[str]) -> None:
        known = {slug for slug, _ in choices}
        stale = [(slug, f"{slug} (not available)") for slug in current if slug not in known]
        for widget in self.widget.widgets:
            widget.choices = [("", "—")] + choices + stale
        self.allowed = known

    def compress(self, data_list):
        return [slug for slug in (data_list or []) if slug]

    def validate(self, value):
        if not value:
            raise forms.ValidationError("Choose at least one test.", code="required")
        if len(set(value)) != len(value):
            raise forms.ValidationError("A test is chosen twice.", code="duplicate")
        unknown = [slug for slug in value if slug not in getattr(self, "allowed", set())]
        if unknown:
            raise forms.ValidationError(
                "Not in the current catalog or not hire-eligible: %(tests)s.",
                code="unknown_test", params={"tests": ", ".join(unknown)})


@dataclass
class LiveLists:
    """The ATS's stages and postings as the admin sees them (or why they are missing)."""

    stages: list[dict] = field(default_factory=list)
    postings: list[dict] = field(default_factory=list)
    error: str = ""


class StageMappingForm(forms.ModelForm):
    """Stage (and optional posting) from the live lists → ordered tests → expiry."""

    # Set per request by the inline (integrations/admin.py), once for all its forms.
    lists: LiveLists = LiveLists(error="no connection")
    catalog: list[tuple[str, str]] | None = None

    stage_id = forms.ChoiceField(label="Lever stage", error_messages={
        "invalid_choice": "%(value)s is not a stage in this Lever account (refresh the lists "
                          "if it was just added)."})
    posting_id = forms.ChoiceField(label="Only for posting", required=False, error_messages={
        "invalid_choice": "%(value)s is not a posting in this Lever account (refresh the lists "
                          "if it was just added)."})
    tests = OrderedTestsField(label="Tests")
    expires_in_days = forms.IntegerField(min_value=1, max_value=90, initial=14,
                                         label="Link expires after (days)")

    class Meta:
        model = StageMapping
        fields = ["stage_id", "posting_id", "tests", "expires_in_days", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        stage_choices = [(s["id"], s["text"]) for s in self.lists.stages]
        posting_choices = [(p["id"], f"{p['text']} ({p['state']})" if p.get("state") else
                            p["text"]) for p in self.lists.postings]
        # A saved value Lever no longer lists stays visible (and flagged) rather than vanishing.
        if instance.pk and instance.stage_id not in dict(stage_choices):
            label = instance.stage_name or instance.stage_id
            stage_choices.append((instance.stage_id, f"{label} (not in Lever's list)"))
        if instance.pk and instance.posting_id and instance.posting_id not in dict(
                posting_choices):
            label = instance.posting_name or instance.posting_id
            posting_choices.append((instance.posting_id, f"{label} (not in Lever's list)"))
        self.fields["stage_id"].choices = [("", "— choose a stage —")] + stage_choices
        self.fields["posting_id"].choices = [("", "Every posting")] + posting_choices
        catalog = self.catalog if self.catalog is not None else test_choices()
        self.fields["tests"].set_choices(catalog, list(instance.tests or []))
        if self.lists.error:
            self.fields["stage_id"].help_text = (
                f"Lever's lists could not be loaded ({self.lists.error}); saved values are kept, "
                "new ones cannot be checked until they load.")

    def _check_live(self, name: str, items: list[dict], what: str) -> dict | None:
        value = self.cleaned_data.get(name)
        if not value:
            return None
        found = next((item for item in items if item["id"] == value), None)
        if found is None and name in self.changed_data:
            if self.lists.error:
                raise forms.ValidationError(
                    f"Lever's {what} list could not be loaded ({self.lists.error}); refresh the "
                    "lists and try again.", code="lists_unavailable")
            raise forms.ValidationError(
                f"{value} is not a {what} in this Lever account (refresh the lists if it was "
                "just added).", code=f"unknown_{what}")
        return found

    def clean_stage_id(self):
        found = self._check_live("stage_id", self.lists.stages, "stage")
        if found:
            self.instance.stage_name = found["text"]
        return self.cleaned_data["stage_id"]

    def clean_posting_id(self):
        found = self._check_live("posting_id", self.lists.postings, "posting")
        if found:
            self.instance.posting_name = found["text"]
        elif not self.cleaned_data.get("posting_id"):
            self.instance.posting_name = ""
        return self.cleaned_data.get("posting_id") or ""


# -- partner ATSes (Greenhouse, Ashby, Workable): they call us with a key we issue ---------------

SANDBOX_HELP = ("A sandbox connection is for trying things out (the ATS's sandbox account or the "
                "built-in fakes): it is marked “sandbox” everywhere, its invitations are marked "
                "sandbox, and it never counts towards quotas (there are no quotas yet).")

# Rotation overlap: how long the keys issued before keep working (None: they stop at once).
OVERLAPS = {"now": None, "24h": timedelta(hours=24), "7d": timedelta(days=7)}
OVERLAP_CHOICES = [("now", "Old keys stop now"), ("24h", "Old keys work 24 more hours"),
                   ("7d", "Old keys work 7 more days")]


def partner_providers() -> list[tuple[str, str]]:
    """(key, name) of every provider whose adapter is installed and is called by its ATS with a
    partner key. Lever is absent: it connects with OAuth ("Connect Lever")."""
    found = []
    for key in registry.available():
        cls = registry.adapter_class(key)
        if PARTNER_API in cls.features:
            found.append((key, cls.name or key.title()))
    return found


def credential_field(label: str, help_text: str = "", *, required: bool) -> forms.CharField:
    """Write-only: a password input that never renders the stored value back."""
    return forms.CharField(label=label, required=required, strip=True, max_length=4000,
                           help_text=help_text,
                           widget=forms.PasswordInput(render_value=False,
                                                      attrs={"autocomplete": "off"}))


class PartnerConnectionForm(forms.Form):
    """Add a Greenhouse/Ashby/Workable connection. The outbound credential may be left empty
    when the ATS only issues it after our key is entered there (Workable); the connection page
    then says results cannot be sent until it is entered."""

    provider = forms.ChoiceField(label="ATS")
    name = forms.CharField(max_length=100, help_text="How this connection is listed, e.g. "
                                                     "“Greenhouse (EU account)”.")
    is_sandbox = forms.BooleanField(label="Sandbox", required=False, help_text=SANDBOX_HELP)
    credential = credential_field(
        "Credential Assay presents to the ATS", required=False,
        help_text="Only for ATSes that need one (Ashby: the Ashby API key; Workable: the token "
                  "Workable shows after you enter Assay's key there). Stored encrypted, never "
                  "shown again; you can replace it later.")

    def __init__(self, *args, org, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["provider"].choices = [("", "— choose an ATS —"), *partner_providers()]

    def adapter_class(self):
        return registry.adapter_class(self.cleaned_data["provider"])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the connection a name.", code="required")
        return name

    def clean(self):
        data = super().clean()
        provider, name = data.get("provider"), data.get("name")
        if provider and name and Connection.objects.filter(
                org=self.org, provider=provider, name__iexact=name).exists():
            self.add_error("name", "This organization already has a connection with this "
                                   "name for this ATS (was the form sent twice?).")
        if provider and data.get("credential") and not self.adapter_class().outbound_credential:
            self.add_error("credential", f"{self.adapter_class().name} needs no credential "
                                         "from you: leave this empty.")
        return data


class RotateKeyForm(forms.Form):
    overlap = forms.ChoiceField(choices=OVERLAP_CHOICES, initial="24h",
                                label="Keys issued before")

    def overlap_delta(self) -> timedelta | None:
        return OVERLAPS[self.cleaned_data["overlap"]]


class CredentialForm(forms.Form):
    credential = credential_field("New value", required=True)

    def __init__(self, *args, label: str = "", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["credential"].label = f"New {label}"
        self.fields["credential"].help_text = help_text
