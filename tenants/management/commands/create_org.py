from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants.context import platform_context
from tenants.forms import create_organization
from tenants.models import Organization, User


class Command(BaseCommand):
    help = "Create an organization and its owner (an existing user is reused)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", required=True)

    def handle(self, *, name, slug, owner_email, owner_password, **options):
        with platform_context("create_org command"), transaction.atomic():
            if Organization.objects.filter(slug=slug).exists():
                raise CommandError(f"an organization with slug {slug!r} already exists")
            owner = User.objects.filter(email=owner_email.lower()).first()
            if owner is None:
                owner = User.objects.create_user(owner_email, owner_password)
            org = create_organization(name=name, slug=slug, owner=owner)
        self.stdout.write(f"Created organization {org.name} ({org.slug}, id {org.pk}) "
                          f"owned by {owner.email}")
