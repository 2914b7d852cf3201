"""Sign-up creates an organization with the new user as its owner."""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.utils.text import slugify

from .context import platform_context, tenant_context
from .models import Membership, Organization, Role


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organization(*, name: str, owner, slug: str | None = None) -> Organization:
    org = Organization.objects.create(name=name, slug=slug or unique_slug(name),
                                      contact_email=owner.email)
    with tenant_context(org, user=owner):
        Membership.objects.create(org=org, user=owner, role=Role.OWNER)
    if not owner.is_staff:
        # The Django admin is the org console; membership decides what they see in it.
        owner.is_staff = True
        owner.save(update_fields=["is_staff"])
    return org


class SignupForm(forms.Form):
    organization = forms.CharField(max_length=200, label="Organization name")

    def signup(self, request, user) -> None:
        with platform_context("sign-up creates an organization", user=user):
            create_organization(name=self.cleaned_data["organization"], owner=user)
