"""What an org offers to ATSes: the hire-eligible catalog tests, and its own test packages.

An *offering* is what an ATS lists and picks (Greenhouse `partner_test_id`, Ashby
`assessment_type_id`, Workable test `id`, a Lever stage mapping's entry): a catalog slug for one
test, or `package:<slug>` for an org's package. `expand` turns a list of offerings into the
ordered catalog slugs an invitation takes, so nothing downstream knows packages exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from .invitations import MAX_TESTS, InvitationError, UnknownTests
from .models import CatalogTest, TestPackage

PACKAGE_PREFIX = "package:"


@dataclass(frozen=True)
class Offering:
    id: str
    name: str
    description: str
    tests: tuple[str, ...]
    minutes: int | None = None

    @property
    def is_package(self) -> bool:
        return self.id.startswith(PACKAGE_PREFIX)


def _catalog() -> dict[str, CatalogTest]:
    rows = (CatalogTest.objects.current().hire_eligible().filter(retired_at__isnull=True)
            .only("slug", "name", "construct", "estimated_minutes").order_by("name"))
    return {t.slug: t for t in rows}


def offerings(org) -> list[Offering]:
    """Every test and active package the org can send, packages first (ordered by name)."""
    catalog = _catalog()
    result = []
    for package in TestPackage.objects.filter(org=org, is_active=True).order_by("name"):
        if not package.tests or any(slug not in catalog for slug in package.tests):
            continue  # a package naming a retired test is not offered until it is fixed
        minutes = sum(catalog[s].estimated_minutes or 0 for s in package.tests) or None
        names = ", ".join(catalog[s].name for s in package.tests)
        result.append(Offering(f"{PACKAGE_PREFIX}{package.slug}", package.name,
                               package.description or f"Package: {names}",
                               tuple(package.tests), minutes))
    for slug, test in catalog.items():
        result.append(Offering(slug, test.name, test.construct or "", (slug,),
                               test.estimated_minutes))
    return result


def find(org, offering_id: str) -> Offering | None:
    """The offering an ATS picked, or None when it is unknown (or retired, or inactive)."""
    offering_id = str(offering_id or "").strip()
    return next((o for o in offerings(org) if o.id == offering_id), None)


def expand(org, items: list[str]) -> list[str]:
    """Offering ids (slugs and `package:<slug>`) → the ordered, de-duplicated catalog slugs.

    Raises UnknownTests naming an unknown or inactive package; unknown single slugs pass through so
    create_invitation reports them with the rest (UnknownTests).
    """
    slugs: list[str] = []
    for item in items:
        if str(item).startswith(PACKAGE_PREFIX):
            package = TestPackage.objects.filter(org=org, is_active=True,
                                                 slug=item[len(PACKAGE_PREFIX):]).first()
            if package is None:
                raise UnknownTests([item])
            slugs.extend(package.tests)
        else:
            slugs.append(item)
    unique = list(dict.fromkeys(slugs))
    if len(unique) > MAX_TESTS:
        raise InvitationError(f"at most {MAX_TESTS} tests per invitation", code="invalid_tests")
    return unique
