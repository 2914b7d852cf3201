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


# -- seed_demo: the partner fakes (what `make run` passes) ----------------------------------------

def _demo_partner_connections():
    from integrations.models import Connection

    org = Organization.objects.get(slug="demo")
    with tenant_context(org):
        return org, {c.provider: c for c in Connection.objects.exclude(provider="lever")}


def test_seed_demo_connects_the_partner_fakes_idempotently(tmp_path, settings):
    import base64
    import json
    import stat

    from assessments.models import TestPackage as Package
    from integrations import partner_keys, registry
    from integrations.models import PartnerKey

    expected = {p for p in ("greenhouse", "ashby", "workable") if p in registry.available()}
    keys_file = tmp_path / "demo_partner_keys.json"
    call_command("seed_demo", "--partner-keys-file", str(keys_file))
    org, connections = _demo_partner_connections()
    assert set(connections) == expected
    with tenant_context(org):
        [package] = Package.objects.all()
    assert package.tests == ["big-five-mini-ipip-20", "self-efficacy-ipip"]
    if not expected:
        pytest.skip("no partner adapter installed yet")
    keys = json.loads(keys_file.read_text())
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    for provider, connection in connections.items():
        adapter = registry.adapter(connection)
        assert connection.is_sandbox and connection.status == "active"
        assert connection.name == f"Demo {provider.title()} (sandbox)"
        port = getattr(settings, f"FAKE_{provider.upper()}_PORT")
        assert connection.config["fake_url"] == f"http://127.0.0.1:{port}"
        assert keys[provider]["connection"] == str(connection.public_id)
        scheme = adapter.inbound_auth
        raw = keys[provider]["key"]
        header = (f"Bearer {raw}" if scheme == "bearer" else
                  "Basic " + base64.b64encode(f"{raw}:".encode()).decode())
        assert partner_keys.authenticate(provider, header, scheme).pk == connection.pk
    if "ashby" in connections:
        from integrations.providers.ashby.fake import DEFAULT_API_KEY

        ashby = connections["ashby"]
        assert registry.adapter(ashby).credential() == DEFAULT_API_KEY
        assert ashby.config["api_url"] == ashby.config["fake_url"]
    if "workable" in connections:
        from integrations.providers.workable.fake import DEFAULT_WORKABLE_TOKEN

        assert registry.adapter(connections["workable"]).credential() == DEFAULT_WORKABLE_TOKEN

    # Again: the same connections, the same keys, no new key rows, the package kept as edited.
    with tenant_context(org):
        before = PartnerKey.objects.count()
        Package.objects.update(name="Renamed by the demo user")
    call_command("seed_demo", "--partner-keys-file", str(keys_file))
    org, again = _demo_partner_connections()
    assert {p: c.pk for p, c in again.items()} == {p: c.pk for p, c in connections.items()}
    assert json.loads(keys_file.read_text()) == keys
    with tenant_context(org):
        assert PartnerKey.objects.count() == before
        assert Package.objects.get().name == "Renamed by the demo user"

    # A lost keys file: new keys, and the old ones stop working (nobody knows them any more).
    keys_file.unlink()
    call_command("seed_demo", "--partner-keys-file", str(keys_file))
    fresh = json.loads(keys_file.read_text())
    with tenant_context(org):
        usable = [k for k in PartnerKey.objects.all() if k.is_usable()]
    assert len(usable) == len(expected)
    assert all(fresh[p]["key"] != keys[p]["key"] for p in expected)


def test_seed_demo_without_a_keys_file_leaves_the_partner_fakes_alone(capsys):
    call_command("seed_demo")
    _, connections = _demo_partner_connections()
    assert connections == {}
    assert "assay_pk_" not in capsys.readouterr().out
