"""A demo organization and console login, so a newcomer sees the product after `make run`.

Idempotent: running it again changes nothing but makes sure the login works and the sandbox
Lever connection (to the built-in fake Lever at FAKE_LEVER_URL) is connected when the fake is up.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.context import platform_context
from tenants.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SLUG
from tenants.forms import create_organization
from tenants.models import Organization, User


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization and its admin login."

    def handle(self, *args, **options):
        with platform_context("seed_demo command"), transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, first_name="Demo",
                                                is_staff=True)
            elif not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            org = Organization.objects.filter(slug=DEMO_SLUG).first()
            if org is None:
                org = create_organization(name="Demo Company", slug=DEMO_SLUG, owner=user)
            self._verify_email(user)
        self.stdout.write(f"Demo organization {org.name!r} ready; sign in as {DEMO_EMAIL} / "
                          f"{DEMO_PASSWORD}")
        self._lever(org)

    def _lever(self, org) -> None:
        from integrations.providers.lever.connect import ensure_demo_connection

        if not settings.FAKE_LEVER_URL:
            self.stdout.write("Demo Lever connection skipped (FAKE_LEVER_URL is empty).")
            return
        result = ensure_demo_connection(org, settings.FAKE_LEVER_URL)
        self.stdout.write(f"Demo Lever connection ({settings.FAKE_LEVER_URL}): {result.note}")

    def _verify_email(self, user) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True})
