"""Hostile Standard Webhooks headers on a signed REST trigger: each is the documented 401 with a reason.

The headers are read before the caller is authenticated, so anyone who knows the URL can send
them. A timestamp of a few hundred digits (an OverflowError turning it into a float), a signature
with a non-ASCII character or a raw byte (a TypeError comparing text) were 500s, and a timestamp
with underscores was accepted because Python's int() reads `1_764_592_000`.
"""

from __future__ import annotations

import time

import pytest

from tests.app.trigger_helpers import run_rows, signed_headers, signed_trigger

BODY = b'{"text": "signed"}'


def _refused(client, app, trigger, headers: dict, reason: str) -> None:
    response = client.post(trigger.path, data=BODY, headers=headers)
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "invalid_signature"
    assert reason in response.json["error"]["message"], response.json
    assert run_rows(app) == []


@pytest.mark.parametrize("timestamp", [
    "9" * 310, "1" * 4300, "1" * 5000,  # past a float's range (5,000 digits was already refused)
    "{now:_}", "+{now}", " {now}", "{now}.0", "-{now}", "0x{now:x}", "{now}\u00a0",
    "\u0661\u0667\u0666\u0664\u0665\u0669\u0662\u0660\u0660\u0660",  # Arabic-Indic digits, which int() reads
])
def test_a_timestamp_that_is_not_plain_ascii_digits_is_401(client, app, api_key, timestamp):
    trigger, secret = signed_trigger(client, api_key)
    now = int(time.time())
    headers = {**signed_headers(secret, BODY, timestamp=now), "webhook-timestamp": timestamp.format(now=now)}
    _refused(client, app, trigger, headers, "webhook-timestamp must be a UNIX time in seconds")


@pytest.mark.parametrize("signature", ["v1,\u00e9", "v1,\xff", "v1,\u20ac", "v1,\ud800", "\xff,abc v1,\xe9\xe9"])
def test_a_signature_with_non_ascii_characters_is_401(client, app, api_key, signature):
    trigger, secret = signed_trigger(client, api_key)
    headers = {**signed_headers(secret, BODY), "webhook-signature": signature}
    _refused(client, app, trigger, headers, "No webhook-signature matches")


def test_a_valid_signature_still_matches_beside_a_non_ascii_one(client, api_key):
    trigger, secret = signed_trigger(client, api_key)
    response = client.post(trigger.path, data=BODY, headers=signed_headers(secret, BODY, extra_signatures="v1,\xff"))
    assert response.status_code == 200, response.json


def test_a_webhook_id_too_long_to_be_an_idempotency_key_is_401(client, app, api_key):
    trigger, secret = signed_trigger(client, api_key)
    headers = signed_headers(secret, BODY, message_id="m" * 256)
    _refused(client, app, trigger, headers, "webhook-id must be at most 255 characters")
    longest = client.post(trigger.path, data=BODY, headers=signed_headers(secret, BODY, message_id="m" * 255))
    assert longest.status_code == 200, longest.json


def test_an_empty_idempotency_key_beside_a_webhook_id_is_400_not_replaced_by_it(client, app, api_key):
    trigger, secret = signed_trigger(client, api_key)
    response = client.post(trigger.path, data=BODY, headers={**signed_headers(secret, BODY), "Idempotency-Key": ""})
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_idempotency_key"
    assert run_rows(app) == []
