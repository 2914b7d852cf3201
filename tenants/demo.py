"""The demo org's identity, shared by `seed_demo` and the `make run` banner (no Django imports).

The demo org also gets a sandbox connection to each built-in partner fake. `seed_demo
--partner-keys-file` keeps the raw partner key of each (a local secret, like `.data/local.json`)
so the launcher can hand it to the fake after every start: the fakes keep nothing across
restarts, and a key is shown only once otherwise.
"""

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@assay.local"
DEMO_PASSWORD = "assay-demo"

DEMO_PARTNERS = ("greenhouse", "ashby", "workable")
PARTNER_KEYS_FILE = "demo_partner_keys.json"  # under the data directory (.data/)
DEMO_PACKAGE_SLUG = "demo-package"
DEMO_PACKAGE_NAME = "Demo package: Big Five + Self-efficacy"
DEMO_PACKAGE_TESTS = ["big-five-mini-ipip-20", "self-efficacy-ipip"]


def partner_name(provider: str) -> str:
    return f"Demo {provider.title()} (sandbox)"


def fake_url(port: int | str) -> str:
    return f"http://127.0.0.1:{port}"
