"""Every way a REST request names its conversation fits the 255-character session key.

A session id sent in the body is refused past 255 characters; a contact email (up to 320
characters) that stands in for it must still give a key that fits, and the same conversation on
every request (SQLite keeps a longer key; PostgreSQL refused it with a 500).
"""

from __future__ import annotations

import pytest

from tests.app.trigger_helpers import publish


@pytest.mark.parametrize("field", ["sessionId", "session", "session_id"])
def test_a_body_session_id_over_255_characters_is_400_naming_the_field(client, api_key, field):
    trigger = publish(client, api_key)
    refused = trigger.call({"text": "hi", field: "s" * 256})
    assert refused.status_code == 400 and refused.json["error"]["details"][0]["field"] == field
    assert "at most 255 characters" in refused.json["error"]["message"]
    fits = trigger.call({"text": "hi", field: "s" * 255})
    assert fits.status_code == 200 and fits.json["session_id"] == "s" * 255


def test_a_long_contact_email_names_one_conversation_with_a_key_that_fits(client, api_key):
    trigger = publish(client, api_key)
    email = "a" * 300 + "@example.com"
    first = trigger.call({"text": "one", "contact": {"email": email}})
    again = trigger.call({"text": "two", "contact": {"email": email.upper()}})
    assert first.status_code == again.status_code == 200, (first.json, again.json)
    assert len(first.json["session_id"]) <= 255 and again.json["session_id"] == first.json["session_id"]
    other = trigger.call({"text": "three", "contact": {"email": "b" * 300 + "@example.com"}})
    assert other.json["session_id"] != first.json["session_id"]
    short = trigger.call({"text": "four", "contact": {"email": "Ada@Example.com"}})
    assert short.json["session_id"] == "contact:email:ada@example.com"
