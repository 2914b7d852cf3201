"""Keys the ATSes present to us on partner calls: issued, shown once, stored hashed, rotatable.

Greenhouse sends the key as the Basic username (empty password), Ashby in either Basic field
(which one is unconfirmed), Workable as a Bearer token. `presented_keys` reads every candidate
from the Authorization header; `authenticate` finds the connection whose usable key matches.
Keys are 256-bit random strings, so a plain SHA-256 lookup is safe (no slow hash needed) and
the lookup is one indexed query. Rotation keeps older keys working until `expires_at` so the
customer can paste the new key into the ATS without a gap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants.context import platform_context

from . import registry
from .models import Connection, ConnectionStatus, PartnerKey

log = logging.getLogger("integrations.partner_keys")

KEY_PREFIX = "assay_pk_"
DEFAULT_OVERLAP = timedelta(days=7)
# Greenhouse refuses keys of 171 characters or more; ours are 9 + 43 = 52.
MAX_KEY_LENGTH = 170
LAST_USED_EVERY = timedelta(seconds=60)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(connection: Connection, *, overlap: timedelta | None = DEFAULT_OVERLAP,
          by=None) -> str:
    """Issue a new key for `connection` and return it (the only time it is readable).

    Keys issued before keep working for `overlap` (None or 0: they stop at once).
    """
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        older = PartnerKey.objects.filter(connection=connection, revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now + (overlap or timedelta(0))))
        older.update(expires_at=now + (overlap or timedelta(0)))
        PartnerKey.objects.create(org_id=connection.org_id, connection=connection,
                                  prefix=raw[:len(KEY_PREFIX) + 6], key_hash=hash_key(raw),
                                  created_at=now, created_by=by)
        adapter = registry.adapter(connection)
        before = connection.credentials
        adapter.on_key_issued(raw)
        if connection.credentials != before:
            Connection.objects.filter(pk=connection.pk).update(
                credentials=connection.credentials)
    log.info("integrations.partner_key.issued connection=%s overlap=%s", connection.public_id,
             overlap)
    return raw


def revoke(key: PartnerKey) -> None:
    PartnerKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())


def presented_keys(authorization: str, scheme: str) -> list[str]:
    """The key candidates in an Authorization header for `scheme`.

    scheme "basic-username": the Basic username (Greenhouse); "basic-either": the username and
    the password (Ashby); "bearer": the Bearer token (Workable).
    """
    kind, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    if scheme == "bearer":
        return [value] if kind.lower() == "bearer" and value else []
    if kind.lower() != "basic" or not value:
        return []
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return []
    username, _, password = decoded.partition(":")
    found = [username] if username else []
    if scheme == "basic-either" and password:
        found.append(password)
    return found


def authenticate(provider: str, authorization: str, scheme: str) -> Connection | None:
    """The active connection of `provider` whose usable key is presented, or None."""
    candidates = [k for k in presented_keys(authorization, scheme)
                  if k and len(k) <= MAX_KEY_LENGTH]
    if not candidates:
        return None
    now = timezone.now()
    with platform_context(f"resolve {provider} connection from a partner key"):
        key = (PartnerKey.objects.select_related("connection")
               .filter(key_hash__in=[hash_key(k) for k in candidates],
                       connection__provider=provider, revoked_at__isnull=True)
               .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
               .exclude(connection__status=ConnectionStatus.DISCONNECTED).first())
        if key is None:
            return None
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
            PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.connection
