"""Refusals stay small and keep their reason, whatever the body sends (found by an outside audit).

A 900,000-character key was echoed in full: a 900 KB answer from a REST trigger URL and four API
doors, with a message cut so short that the reason ("is not an input of this flow") was lost.
Every name or value quoted in a refusal is now abridged: its first characters, "…" and its length.
"""

from __future__ import annotations

import pytest

from tests.app.flowdocs import greeting_flow
from tests.app.trigger_helpers import bearer, publish

HUGE = 900_000
SMALL_ANSWER = 4096


def _doors(client, api_key):
    """Each door that refuses a body naming its keys: (label, url, headers, body to add the huge key to)."""
    trigger = publish(client, api_key, greeting_flow())
    flow_id = trigger.flow["id"]
    api = bearer(api_key)
    return [
        ("REST trigger", trigger.path, bearer(trigger.secret), {"message": "hi"}),
        ("run", f"/api/v1/flows/{flow_id}/run", api, {"message": "hi"}),
        ("manual trigger run", f"/api/v1/flows/{flow_id}/triggers/manual/run", api, {"message": "hi"}),
        ("rollback", f"/api/v1/flows/{flow_id}/rollback", api, {"version": 1}),
        ("values", "/api/v1/flows/values", api, {"document": greeting_flow(), "node_id": "reply"}),
    ]


@pytest.mark.parametrize("value", ["x", "v" * 100_000], ids=["short value", "long value"])
def test_a_huge_key_is_refused_in_a_small_answer_that_keeps_the_reason(client, api_key, value):
    for label, url, headers, body in _doors(client, api_key):
        answer = client.post(url, json={**body, "k" * HUGE: value}, headers=headers)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400, (label, text[:300])
        assert len(text) < SMALL_ANSWER, (label, len(text), text[:300])
        error = answer.json["error"]
        assert error["code"] in ("invalid_inputs", "unknown_field"), (label, error["code"])
        message = error["message"]
        assert "k" * 60 in message and "k" * 61 not in message and "(900,000 characters)" in message, (label, message)
        if error["code"] == "invalid_inputs":
            assert f'"{"k" * 60}…" (900,000 characters) is not a declared input; declared inputs: message, person, ' \
                   'count' in message, (label, message)
        else:
            assert message.endswith("… (900,000 characters). Allowed: " + ", ".join(sorted(body)) + "."), (label, message)
        assert "v" * 100 not in text, label
        assert all(len(detail["field"]) < 250 for detail in error["details"]), label  # abridged at 200


def test_a_huge_value_is_refused_without_echoing_it(client, api_key):
    doors = _doors(client, api_key)
    huge = "9" * HUGE
    cases = [(door, {**door[3], "count": huge}, '"count" must be an integer') for door in doors[:3]]
    cases += [(door, {**door[3], "colour": huge}, '"colour" is not a declared input') for door in doors[:3]]
    cases += [(doors[3], {"version": huge}, "version must be an integer"),
              (doors[4], {**doors[4][3], "node_id": huge}, f'"{"9" * 60}…" (900,000 characters)')]
    for (label, url, headers, _), body, reason in cases:
        answer = client.post(url, json=body, headers=headers)
        text = answer.get_data(as_text=True)
        assert answer.status_code in (400, 404) and len(text) < SMALL_ANSWER, (label, len(text), text[:300])
        assert reason in answer.json["error"]["message"], (label, answer.json)
        assert "9" * 61 not in text, label


def test_a_problem_path_the_canvas_matches_to_its_field_stays_whole():
    """The canvas puts a refusal next to the field its `path` names; only an absurd path is abridged."""
    from app.json_body import abridged_details

    real = "config.headers." + "X-Custom-Header-" * 8  # a long but real settings path
    (kept, cut) = abridged_details([{"path": real, "message": "m"}, {"path": "p" * 5000, "message": "m"}])

    assert kept["path"] == real
    assert cut["path"].startswith("p" * 200 + "…") and len(cut["path"]) < 250
