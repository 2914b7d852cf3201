"""The end-to-end tests use the Lever tests' fake Lever fixture."""

from tests.integrations.lever.conftest import fake_lever  # noqa: F401 - a fixture
