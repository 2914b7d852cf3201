from django import forms
from django.contrib import admin, messages
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from integrations.forms import OrderedTestsField, test_choices
from tenants.admin_base import ManagerOnlyAdmin, OrgScopedAdmin, ReadOnlyMixin

from .forms import ManualInvitationForm
from .invitations import (
    MAX_TESTS,
    InvitationError,
    cancel_invitation,
    candidate_url,
    create_invitation,
    give_verdict,
    resend_invitation,
)
from .models import (
    Attempt,
    Candidate,
    CatalogTest,
    Invitation,
    InvitationTest,
    Result,
    Source,
    TestPackage,
)
from .packages import PACKAGE_PREFIX


@admin.register(CatalogTest)
class CatalogTestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The catalog is read-only in the console: it changes only through `load_catalog`."""

    list_display = ["name", "slug", "version", "evidence", "item_count", "estimated_minutes",
                    "is_current"]
    list_filter = ["evidence", "is_current"]
    search_fields = ["name", "slug", "construct"]
    exclude = ["definition"]
    readonly_fields = ["slug", "version", "name", "construct", "evidence", "item_count",
                       "estimated_minutes", "time_limit_seconds", "content_hash", "is_current",
                       "loaded_at", "retired_at"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


class AttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = Attempt
    fields = ["test", "status", "started_at", "deadline_at", "completed_at", "answers"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "Tests and attempts"

    def has_view_permission(self, request, obj=None):
        return True  # whoever may view the invitation (OrgScopedAdmin's role check) sees these

    def get_queryset(self, request):
        return (super().get_queryset(request)
                .select_related("invitation_test__catalog_test")
                .defer("invitation_test__catalog_test__definition")
                .order_by("invitation_test__position"))

    @admin.display(description="Test")
    def test(self, obj):
        return str(obj.invitation_test)

    @admin.display(description="Answers")
    def answers(self, obj):
        return obj.responses.count()


@admin.register(Invitation)
class InvitationAdmin(OrgScopedAdmin):
    list_display = ["candidate", "status", "verdict", "test_names", "source", "sandbox",
                    "created_at", "sent_at", "completed_at", "expires_at"]
    list_filter = ["status", "source", "sandbox", "created_at"]
    search_fields = ["candidate__email", "candidate__first_name", "candidate__last_name",
                     "external_id", "public_id"]
    date_hierarchy = "created_at"
    list_select_related = ["candidate"]
    actions = ["resend", "cancel", "thumbs_up", "thumbs_down"]
    inlines = [AttemptInline]
    readonly_fields = [
        "public_id", "candidate", "source", "source_ref", "external_id", "sandbox", "locale",
        "status", "created_at", "sent_at", "opened_at", "started_at", "completed_at",
        "expired_at", "cancelled_at", "delivery_failed_at", "expires_at", "extra_time_percent",
        "redirect_url", "consented_at", "reminder_sent_at", "last_email_error", "created_by",
        "verdict", "verdict_at", "verdict_by"]
    fields = readonly_fields

    def get_queryset(self, request):
        tests = InvitationTest.objects.select_related("catalog_test").defer(
            "catalog_test__definition").order_by("position")
        return super().get_queryset(request).prefetch_related(Prefetch("tests", queryset=tests))

    @admin.display(description="Tests")
    def test_names(self, obj):
        return ", ".join(t.catalog_test.name for t in obj.tests.all())

    def has_change_permission(self, request, obj=None):
        return False  # invitations change only through the actions and the candidate

    def has_delete_permission(self, request, obj=None):
        return False

    # "Add" is the manual invitation form, which goes through create_invitation ---------------
    def get_urls(self):
        return [path("add/", self.admin_site.admin_view(self.new_invitation),
                     name="assessments_invitation_add")] + super().get_urls()

    def new_invitation(self, request):
        if not self.has_add_permission(request):
            return TemplateResponse(request, "assessments/admin/forbidden.html", status=403)
        if request.org is None:
            messages.error(request, "Choose an organization first (Switch organization).")
            return redirect("admin:assessments_invitation_changelist")
        form = ManualInvitationForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                data = form.cleaned_data
                try:
                    invitation, raw = create_invitation(
                        request.org,
                        candidate={"email": data["email"], "first_name": data["first_name"],
                                   "last_name": data["last_name"]},
                        tests=data["tests"], source=Source.MANUAL, sandbox=data["sandbox"],
                        expires_in_days=data["expires_in_days"],
                        extra_time_percent=data["extra_time_percent"],
                        redirect_url=data["redirect_url"], send_email=data["send_email"],
                        created_by=request.user)
                except InvitationError as exc:
                    form.add_error(None, exc.message)
                else:
                    sent = "An email with the link is on its way. " if data["send_email"] else ""
                    messages.success(request, format_html(
                        "Invitation created for {}. {}Candidate link (shown once): {}",
                        invitation.candidate.email, sent, candidate_url(raw)))
                    return redirect(reverse("admin:assessments_invitation_change",
                                            args=[invitation.pk]))
            status = 400
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": "New manual invitation"}
        return TemplateResponse(request, "assessments/admin/new_invitation.html", context,
                                status=status)

    # Actions -----------------------------------------------------------------------------------
    @admin.action(description="Resend the invitation (new link, new email)")
    def resend(self, request, queryset):
        if not self._can_write(request):
            messages.error(request, "Your role may not resend invitations.")
            return
        done = 0
        for invitation in queryset:
            try:
                resend_invitation(invitation)
                done += 1
            except InvitationError as exc:
                messages.warning(request, f"{invitation.candidate.email}: {exc.message}")
        if done:
            messages.success(request, f"Resent {done} invitation(s).")

    @admin.action(description="Cancel the invitation (the link stops working)")
    def cancel(self, request, queryset):
        if not self._can_write(request):
            messages.error(request, "Your role may not cancel invitations.")
            return
        done = 0
        for invitation in queryset:
            try:
                done += cancel_invitation(invitation)
            except InvitationError as exc:
                messages.warning(request, f"{invitation.candidate.email}: {exc.message}")
        if done:
            messages.success(request, f"Cancelled {done} invitation(s).")


    def _verdict(self, request, queryset, verdict: str) -> None:
        if not self._can_write(request):
            messages.error(request, "Your role may not give verdicts.")
            return
        done = 0
        for invitation in queryset:
            try:
                done += give_verdict(invitation, verdict, by=request.user)
            except InvitationError as exc:
                messages.warning(request, f"{invitation.candidate.email}: {exc.message}")
        if done:
            messages.success(request, f"Verdict recorded for {done} invitation(s); it is sent "
                                      "to the ATS.")

    @admin.action(description="Verdict: thumbs up (hire)")
    def thumbs_up(self, request, queryset):
        self._verdict(request, queryset, "up")

    @admin.action(description="Verdict: thumbs down (no hire)")
    def thumbs_down(self, request, queryset):
        self._verdict(request, queryset, "down")


@admin.register(Candidate)
class CandidateAdmin(OrgScopedAdmin):
    list_display = ["email", "first_name", "last_name", "external_id", "created_at"]
    search_fields = ["email", "first_name", "last_name", "external_id"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request):
        return False  # candidates come with invitations

    def has_delete_permission(self, request, obj=None):
        return False  # erasure is a GDPR flow with an audit trail, not a delete button


@admin.register(Result)
class ResultAdmin(ReadOnlyMixin, OrgScopedAdmin):
    list_display = ["candidate", "test", "overall", "flags", "sandbox", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["invitation__candidate__email", "public_id", "invitation__public_id"]
    list_select_related = ["invitation__candidate", "catalog_test"]
    fields = ["public_id", "invitation", "test", "created_at", "overall", "flags",
              "dimension_table", "norms", "report"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("catalog_test__definition")

    @admin.display(description="Candidate")
    def candidate(self, obj):
        return obj.invitation.candidate

    @admin.display(description="Test")
    def test(self, obj):
        return obj.envelope["test"]["name"]

    @admin.display(description="Sandbox", boolean=True)
    def sandbox(self, obj):
        return obj.envelope.get("sandbox", False)

    @admin.display(description="Overall")
    def overall(self, obj):
        overall = obj.envelope.get("overall")
        if not overall:
            return "—"
        return f"{overall['score'] if overall['score'] is not None else '—'} ({overall['label']})"

    @admin.display(description="Quality flags")
    def flags(self, obj):
        return ", ".join(obj.envelope["quality"]["flags"]) or "none"

    @admin.display(description="Norms")
    def norms(self, obj):
        norms = obj.envelope["norms"]
        return f"{norms.get('group') or '—'} ({norms.get('source') or 'no source'})"

    @admin.display(description="Report")
    def report(self, obj):
        url = reverse("reports:report", args=[obj.public_id])
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="Dimensions")
    def dimension_table(self, obj):
        def show(value):
            if value is None:
                return "—"
            if isinstance(value, list):
                return "–".join(str(v) for v in value)
            return str(value)

        columns = [("name", "Dimension"), ("score", "Score"), ("percentile", "Percentile"),
                   ("t_score", "T"), ("ci90_t", "90 % CI (T)"), ("sten", "Sten"),
                   ("band", "Band"), ("raw", "Raw"), ("items_answered", "Answered"),
                   ("items_total", "Items")]
        head = format_html_join("", "<th scope=\"col\">{}</th>", ((label,) for _, label in columns))
        rows = format_html_join("", "<tr>{}</tr>", (
            (format_html_join("", "<td>{}</td>", ((show(dim.get(key)),) for key, _ in columns)),)
            for dim in obj.envelope["dimensions"]))
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
                           head, rows)


class TestPackageForm(forms.ModelForm):
    """Name, slug, ordered catalog tests (current and hire-eligible only: no packages inside
    packages), active flag. The slug is the id ATSes store (`package:<slug>`), so it is fixed
    once saved."""

    tests = OrderedTestsField(label="Tests", slots=MAX_TESTS, help_text=(
        "Taken in this order. Only current, hire-eligible catalog tests are offered "
        "(experimental ones are hidden; a package cannot contain another package)."))

    org = None  # set per request by the admin

    class Meta:
        model = TestPackage
        fields = ["org", "name", "slug", "description", "tests", "is_active"]  # org: superusers

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tests"].set_choices(test_choices(), list(self.instance.tests or []))
        if "slug" in self.fields:
            self.fields["slug"].help_text = (
                "Lowercase letters, digits and hyphens. ATSes see the package as "
                f"“{PACKAGE_PREFIX}<slug>”; it cannot be changed once saved.")

    def clean(self):
        data = super().clean()
        slug = data.get("slug")
        org = data.get("org") or (self.instance.org if self.instance.org_id else self.org)
        if slug and org is not None and TestPackage.objects.filter(org=org, slug=slug).exclude(
                pk=self.instance.pk).exists():
            self.add_error("slug", "Another package of this organization has this slug.")
        return data


@admin.register(TestPackage)
class TestPackageAdmin(ManagerOnlyAdmin):
    """An org's named, ordered sets of catalog tests, offered to every ATS (and to Lever stage
    mappings) as one test. Owners and admins edit; everyone else in the org reads."""

    form = TestPackageForm
    list_display = ["name", "offering_id", "test_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="Id the ATSes see", ordering="slug")
    def offering_id(self, obj):
        return f"{PACKAGE_PREFIX}{obj.slug}"

    @admin.display(description="Tests")
    def test_list(self, obj):
        names = dict(CatalogTest.objects.current().filter(slug__in=obj.tests)
                     .values_list("slug", "name"))
        return ", ".join(names.get(slug, f"{slug} (not available)") for slug in obj.tests)

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"org": getattr(request, "org", None)})
