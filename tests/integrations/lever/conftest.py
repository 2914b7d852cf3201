"""Shared fixtures for Lever tests: the fake Lever on a free port, and its control API."""

from __future__ import annotations

import pytest
import requests

from integrations.providers.lever.fake import run_fake_lever


@pytest.fixture
def fake_lever():
    server = run_fake_lever()
    yield server
    server.stop()


def control(server, verb: str, path: str, **body):
    """Call the fake's /_control API (state, tokens, faults, opportunities...)."""
    response = requests.request(verb, f"{server.url}/_control/{path}", json=body or None,
                                timeout=10)
    response.raise_for_status()
    return response.json()
