"""Secrets at rest (OAuth tokens, ATS keys, webhook secrets), encrypted with rotatable keys.

SECRET_ENCRYPTION_KEYS is a list of Fernet keys: the first encrypts, all decrypt, so a key is
rotated by putting a new one first and re-saving (`EncryptedTextField` re-encrypts on save).
`python -m tenants.crypto` prints a new key.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "SECRET_ENCRYPTION_KEYS is malformed: each key must be 32 url-safe base64-encoded "
            "bytes (generate one with `python -m tenants.crypto`)") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.SECRET_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "a stored secret cannot be decrypted with SECRET_ENCRYPTION_KEYS: was a key "
            "removed before every secret was re-encrypted?") from None


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads return plain text."""

    def from_db_value(self, value, expression, connection):
        return value if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)


if __name__ == "__main__":
    print(Fernet.generate_key().decode())
