from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.catalog_loader import CATALOG_DIR, CatalogLoadError, load_catalog
from assessments.models import CatalogTest
from tenants.context import platform_context


class Command(BaseCommand):
    help = "Validate and load the test catalog (idempotent; versions are never deleted)."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=CATALOG_DIR,
                            help="folder of catalog *.json files (default: the built-in catalog)")

    def handle(self, *, path, **options):
        # Platform context: checking whether results reference a version looks across orgs.
        with platform_context("load_catalog command"):
            try:
                report = load_catalog(path)
            except CatalogLoadError as exc:
                for problem in exc.problems:
                    self.stderr.write(problem)
                raise CommandError(f"catalog not loaded: {exc}") from None
            eligible = CatalogTest.objects.current().hire_eligible().count()
        self.stdout.write(
            f"Catalog: {report.total} tests ({len(report.created)} new, {len(report.updated)} "
            f"updated, {len(report.unchanged)} unchanged, {len(report.retired)} retired); "
            f"{eligible} hire-eligible.")
