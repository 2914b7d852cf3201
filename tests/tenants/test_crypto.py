import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from tenants import crypto


def test_secrets_round_trip_and_survive_key_rotation(settings):
    old = Fernet.generate_key().decode()
    settings.SECRET_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("oauth-refresh-token")
    assert "oauth-refresh-token" not in token
    settings.SECRET_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert crypto.decrypt(token) == "oauth-refresh-token"
    settings.SECRET_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        crypto.decrypt(token)


def test_a_malformed_key_is_a_configuration_error(settings):
    settings.SECRET_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="SECRET_ENCRYPTION_KEYS is malformed"):
        crypto.encrypt("x")
