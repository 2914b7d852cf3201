"""A demo organization and console login, so a newcomer sees the product after `make run`.

Idempotent: running it again changes nothing but makes sure the login works, the sandbox Lever
connection (to the built-in fake Lever at FAKE_LEVER_URL) is connected when the fake is up, and
the demo test package exists.

With `--partner-keys-file F` (what `make run` passes) the demo org also gets a sandbox
connection to each built-in partner fake (Greenhouse, Ashby, Workable on FAKE_<ATS>_PORT) with
its outbound credential and one usable partner key. Keys are shown once, so the raw keys live
in F (mode 600, beside `.data/local.json`) and are reused while they still work: the launcher
hands them to the fakes after each start. Without F nothing is written and no key is printed.
"""

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.context import platform_context, tenant_context
from tenants.demo import (
    DEMO_EMAIL,
    DEMO_PACKAGE_NAME,
    DEMO_PACKAGE_SLUG,
    DEMO_PACKAGE_TESTS,
    DEMO_PARTNERS,
    DEMO_PASSWORD,
    DEMO_SLUG,
    fake_url,
    partner_name,
)
from tenants.forms import create_organization
from tenants.models import Organization, User, audit


def demo_credentials(provider: str, url: str) -> tuple[str, dict]:
    """(outbound credential, extra config) that make a demo connection talk to its fake."""
    if provider == "ashby":
        from integrations.providers.ashby.fake import DEFAULT_API_KEY

        return DEFAULT_API_KEY, {"api_url": url}
    if provider == "workable":
        from integrations.providers.workable.fake import DEFAULT_WORKABLE_TOKEN

        return DEFAULT_WORKABLE_TOKEN, {}
    return "", {}


def read_keys(path: Path | None) -> dict:
    try:
        data = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_keys(path: Path, keys: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(keys, out, indent=1)
    os.replace(tmp, path)


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization and its admin login."

    def add_arguments(self, parser):
        parser.add_argument("--partner-keys-file", type=Path, default=None,
                            help="also connect the demo org to the partner fakes, keeping their "
                                 "raw partner keys in this file (mode 600) and reusing them "
                                 "while they work; `make run` passes .data/"
                                 "demo_partner_keys.json")

    def handle(self, *args, partner_keys_file=None, **options):
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
        self._package(org)
        if partner_keys_file is not None:
            self._partners(org, partner_keys_file)

    def _lever(self, org) -> None:
        from integrations.providers.lever.connect import ensure_demo_connection

        if not settings.FAKE_LEVER_URL:
            self.stdout.write("Demo Lever connection skipped (FAKE_LEVER_URL is empty).")
            return
        result = ensure_demo_connection(org, settings.FAKE_LEVER_URL)
        self.stdout.write(f"Demo Lever connection ({settings.FAKE_LEVER_URL}): {result.note}")

    def _package(self, org) -> None:
        """One test package, so the ATSes list a package next to the single tests. Created
        once: edits made in the console are kept."""
        from assessments.models import TestPackage

        with tenant_context(org):
            _, created = TestPackage.objects.get_or_create(
                org=org, slug=DEMO_PACKAGE_SLUG,
                defaults={"name": DEMO_PACKAGE_NAME, "tests": list(DEMO_PACKAGE_TESTS),
                          "description": "Big Five quick screen, then self-efficacy: two short "
                                         "questionnaires."})
        if created:
            self.stdout.write(f"Demo test package {DEMO_PACKAGE_NAME!r} created.")

    def _partners(self, org, keys_file: Path) -> None:
        from integrations import registry
        from integrations.base import PARTNER_API

        available = registry.available()
        stored = read_keys(keys_file)
        changed = False
        for provider in DEMO_PARTNERS:
            if provider not in available or PARTNER_API not in (
                    registry.adapter_class(provider).features):
                self.stdout.write(f"Demo {provider.title()} connection skipped (its adapter "
                                  "is not installed).")
                continue
            url = fake_url(getattr(settings, f"FAKE_{provider.upper()}_PORT"))
            with tenant_context(org), transaction.atomic():
                connection = self._partner_connection(org, provider, url)
                raw, issued = self._partner_key(connection, stored.get(provider) or {})
            if issued:
                stored[provider] = {"key": raw, "connection": str(connection.public_id)}
                changed = True
            state = "a new partner key issued" if issued else "its partner key still works"
            self.stdout.write(f"Demo {connection.get_provider_display()} connection (sandbox, "
                              f"fake at {url}): {state} (kept in {keys_file}).")
        if changed:
            write_keys(keys_file, stored)

    def _partner_connection(self, org, provider: str, url: str):
        from integrations import registry
        from integrations.models import Connection, ConnectionStatus

        connection = Connection.objects.filter(org=org, provider=provider,
                                               config__demo=True).first()
        if connection is None:
            connection = Connection(org=org, provider=provider, is_sandbox=True,
                                    name=partner_name(provider), config={"demo": True})
        credential, extra = demo_credentials(provider, url)
        connection.config = {**connection.config, "demo": True, "fake_url": url, **extra}
        connection.status = ConnectionStatus.ACTIVE
        adapter = registry.adapter(connection)
        if credential and adapter.outbound_credential and adapter.credential() != credential:
            adapter.set_credential(credential)
        connection.save()
        return connection

    def _partner_key(self, connection, stored: dict) -> tuple[str, bool]:
        """(raw key, issued now): the stored key while it works for this connection, else a
        new one (older keys stop at once: nobody else knows them)."""
        from django.db.models import Q
        from django.utils import timezone

        from integrations import partner_keys
        from integrations.models import PartnerKey

        raw = stored.get("key") or ""
        if raw and (PartnerKey.objects.filter(connection=connection, revoked_at__isnull=True,
                                              key_hash=partner_keys.hash_key(raw))
                    .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
                    .exists()):
            return raw, False
        raw = partner_keys.issue(connection, overlap=None)
        prefix = PartnerKey.objects.get(key_hash=partner_keys.hash_key(raw)).prefix
        audit(connection.org, "partner_key.issued", target=prefix,
              connection=str(connection.public_id), provider=connection.provider,
              via="seed_demo")
        return raw, True

    def _verify_email(self, user) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True})
