"""The demo org's identity, shared by `seed_demo` and the `make run` banner (no Django imports)."""

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@assay.local"
DEMO_PASSWORD = "assay-demo"
