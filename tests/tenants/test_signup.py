import pytest

from tenants.context import tenant_context
from tenants.models import Membership, Organization, User

pytestmark = pytest.mark.django_db


def test_sign_up_creates_an_org_with_the_user_as_owner(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    response = client.post("/accounts/signup/", {
        "email": "founder@newco.test", "password1": "a-long-pass-phrase!",
        "password2": "a-long-pass-phrase!", "organization": "NewCo Ltd"})
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="founder@newco.test")
    org = Organization.objects.get(name="NewCo Ltd")
    assert org.slug == "newco-ltd"
    assert user.is_staff and not user.is_superuser
    with tenant_context(org):
        assert Membership.objects.get(user=user).role == "owner"
    assert client.get("/admin/").status_code == 200


def test_sign_up_with_mandatory_verification_sends_an_email(client, settings, mailoutbox):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    client.post("/accounts/signup/", {
        "email": "verify@newco.test", "password1": "a-long-pass-phrase!",
        "password2": "a-long-pass-phrase!", "organization": "Verify Co"})
    assert len(mailoutbox) == 1
    assert "verify@newco.test" in mailoutbox[0].to
