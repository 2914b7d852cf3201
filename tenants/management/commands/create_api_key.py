from django.core.management.base import BaseCommand, CommandError

from tenants.context import tenant_context
from tenants.models import ApiKey, Organization, audit


class Command(BaseCommand):
    help = "Create an API key for an organization and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--sandbox", action="store_true",
                            help="a sandbox (assay_test_) key: never counts towards quotas")
        parser.add_argument("--name", default="default")

    def handle(self, *, org, sandbox, name, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization with slug {org!r}")
        with tenant_context(organization):
            key, raw = ApiKey.issue(organization, name=name, sandbox=sandbox)
            audit(organization, "api_key.created", target=key.prefix, via="create_api_key")
        self.stderr.write(f"API key {key.name!r} for {organization.slug} "
                          f"({'sandbox' if sandbox else 'live'}); it is shown only once:")
        self.stdout.write(raw)
