"""A demo organization and console login, so a newcomer sees the product after `make run`.

Idempotent: running it again changes nothing but makes sure the login works. Later work adds
the sandbox ATS connections (built-in fakes) to this org.
"""

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

    def _verify_email(self, user) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True})
