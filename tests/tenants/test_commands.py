import pytest
from django.core.management import CommandError, call_command

from tenants.context import platform_context, tenant_context
from tenants.models import ApiKey, Membership, Organization, User, hash_secret

pytestmark = pytest.mark.django_db


def test_create_org_creates_the_org_and_its_owner(capsys):
    call_command("create_org", name="Acme", slug="acme", owner_email="Boss@Acme.test",
                 owner_password="s3cret-pass!")
    org = Organization.objects.get(slug="acme")
    owner = User.objects.get(email="boss@acme.test")
    assert owner.check_password("s3cret-pass!")
    assert owner.is_staff and not owner.is_superuser
    with tenant_context(org):
        assert Membership.objects.get().role == "owner"
    assert "Created organization Acme" in capsys.readouterr().out


def test_create_org_refuses_a_taken_slug(org_a):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_org", name="Again", slug=org_a.slug, owner_email="x@y.test",
                     owner_password="pw-123456!")


@pytest.mark.parametrize(("flags", "prefix", "sandbox"), [
    ([], "assay_live_", False), (["--sandbox"], "assay_test_", True)])
def test_create_api_key_prints_the_key_once_and_stores_only_its_hash(
        org_a, capsys, flags, prefix, sandbox):
    call_command("create_api_key", "--org", org_a.slug, "--name", "ci", *flags)
    raw = capsys.readouterr().out.strip()
    assert raw.startswith(prefix) and len(raw) > 40
    with tenant_context(org_a):
        key = ApiKey.objects.get(name="ci")
    assert key.is_sandbox is sandbox
    assert key.key_hash == hash_secret(raw)
    assert raw not in (key.prefix, key.key_hash) and raw.startswith(key.prefix)


def test_create_api_key_for_an_unknown_org_fails():
    with pytest.raises(CommandError, match="no organization"):
        call_command("create_api_key", "--org", "nope")


def test_seed_demo_is_idempotent_and_the_login_works(client):
    call_command("seed_demo")
    call_command("seed_demo")
    assert Organization.objects.filter(slug="demo").count() == 1
    with platform_context("test"):
        assert Membership.objects.filter(org__slug="demo").count() == 1
    assert client.login(email="demo@assay.local", password="assay-demo")
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Demo Company" in response.content.decode()
