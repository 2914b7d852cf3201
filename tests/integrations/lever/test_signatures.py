"""Lever webhook signatures (brief §2.5, §7.1, §7.2, §7.12), checked on recorded payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from integrations.providers.lever.signatures import (
    MAX_AGE_SECONDS,
    is_signed,
    is_stale,
    sign,
    triggered_at_seconds,
    verify,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lever" / "webhooks"
SIGNATURE_TOKEN = "5c2a1f7e9d0b4c3a8e6f1d2b7a9c0e4f5b3d8a1c6e2f7b90"  # see fixtures README


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_bytes())


def test_it_verifies_a_recorded_stage_change() -> None:
    assert verify(load("candidateStageChange__basic.json"), SIGNATURE_TOKEN)


def test_sign_matches_the_documented_formula() -> None:
    payload = load("candidateStageChange__basic.json")
    message = f"{payload['token']}{payload['triggeredAt']}".encode()
    expected = hmac.new(SIGNATURE_TOKEN.encode(), message, hashlib.sha256).hexdigest()
    assert sign(payload["token"], payload["triggeredAt"], SIGNATURE_TOKEN) == expected
    assert expected == payload["signature"]


def test_it_rejects_a_wrong_signature_token() -> None:
    assert not verify(load("candidateStageChange__basic.json"), "another-token")


@pytest.mark.parametrize(
    ("key", "value"),
    [("token", "f" * 48), ("triggeredAt", 1431454330073), ("signature", "0" * 64)],
)
def test_it_rejects_tampered_signed_fields(key: str, value: object) -> None:
    payload = load("candidateStageChange__basic.json")
    payload[key] = value
    assert not verify(payload, SIGNATURE_TOKEN)


def test_the_body_is_not_signed() -> None:
    # Pitfall §7.1: only token + triggeredAt are signed, so data must be re-read from the API.
    payload = load("candidateStageChange__basic.json")
    payload["data"]["toStageId"] = "forged-stage"
    assert verify(payload, SIGNATURE_TOKEN)


def test_unsigned_deliveries_do_not_verify() -> None:
    # Pitfall §7.2: no signing token, no "signature" field.
    payload = load("candidateStageChange__unsigned.json")
    assert not is_signed(payload)
    assert not verify(payload, SIGNATURE_TOKEN)


def test_the_test_button_ping_verifies_with_empty_data() -> None:
    # Pitfall §7.12: Lever's "Test" sends candidateHired with data {}.
    payload = load("candidateHired__test_ping.json")
    assert payload["event"] == "candidateHired" and payload["data"] == {}
    assert verify(payload, SIGNATURE_TOKEN)


def test_it_accepts_any_of_several_tokens() -> None:
    payload = load("candidateStageChange__basic.json")
    assert verify(payload, ["old-token", SIGNATURE_TOKEN])
    assert not verify(payload, ["old-token", ""])
    assert not verify(payload, [])


def test_signature_comparison_ignores_hex_case() -> None:
    payload = load("candidateStageChange__basic.json")
    payload["signature"] = payload["signature"].upper()
    assert verify(payload, SIGNATURE_TOKEN)


@pytest.mark.parametrize("triggered_at", [True, 1431454330072.0, "14314x", None, [1]])
def test_it_rejects_malformed_triggered_at(triggered_at: object) -> None:
    payload = load("candidateStageChange__basic.json")
    payload["triggeredAt"] = triggered_at
    assert not verify(payload, SIGNATURE_TOKEN)


def test_a_digit_string_triggered_at_signs_like_the_integer() -> None:
    payload = load("candidateStageChange__basic.json")
    payload["triggeredAt"] = str(payload["triggeredAt"])
    assert verify(payload, SIGNATURE_TOKEN)


def test_non_mapping_payloads_do_not_verify() -> None:
    assert not verify([], SIGNATURE_TOKEN)  # type: ignore[arg-type]
    assert not verify({"signature": "ab", "token": "", "triggeredAt": 1}, SIGNATURE_TOKEN)


def test_triggered_at_is_milliseconds() -> None:
    assert triggered_at_seconds({"triggeredAt": 1431454330072}) == pytest.approx(1431454330.072)
    assert triggered_at_seconds("1718000000000") == 1718000000.0
    assert triggered_at_seconds({}) is None


def test_staleness() -> None:
    now = 1_718_000_000.0
    ms = int(now * 1000)
    assert not is_stale(ms, now=now)
    assert not is_stale({"triggeredAt": ms - 6 * 86_400_000}, now=now)
    assert is_stale({"triggeredAt": ms - 8 * 86_400_000}, now=now)
    assert is_stale(ms - int(MAX_AGE_SECONDS * 1000) - 1, now=now)
    assert is_stale(ms + 10 * 60_000, now=now)  # from the future
    assert is_stale(int(now), now=now)  # seconds, not ms: reads as 1970
    assert is_stale({}, now=now)


def test_recorded_fixture_is_stale_today() -> None:
    assert is_stale(load("candidateStageChange__basic.json"))
    assert not is_stale(int(time.time() * 1000))
