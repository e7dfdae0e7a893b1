"""A trigger's filter can neither break the trigger nor hold a web worker, whatever its author wrote.

Found by an audit: `{"$ref": "#"}` was saved (a new version published) and then every request
was a 500 RecursionError; the filter pattern `(a+)+$` held a worker ~30 s on a 41-character
message until gunicorn killed it, with the requests it was serving. Now saving refuses a filter
no request could be checked against, and a request meets a bounded check: the answer, or a 400
that says what went wrong, in about a second at most.
"""

from __future__ import annotations

import time

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, publish, run_rows

AUDIT_BODY = {"user_message": "a" * 40 + "!"}


def _set_stored_filter(app, trigger_id: str, schema: dict) -> None:
    """Store a filter as a save before these checks could (the save path now refuses it)."""
    from app.extensions import db
    from app.models import Trigger

    with app.app_context():
        trigger = db.session.get(Trigger, trigger_id)
        trigger.config = {**trigger.config, "filter": schema}
        db.session.commit()


def test_saving_a_self_referencing_filter_is_400_and_publishes_nothing(client, api_key):
    trigger = publish(client, api_key)
    flow_path = f"/api/v1/flows/{trigger.flow['id']}"
    refused = client.patch(f"/api/v1/triggers/{trigger.trigger['id']}", json={"config": {"filter": {"$ref": "#"}}},
                           headers=bearer(api_key))
    assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_flow", refused.json
    (problem,) = [p for p in refused.json["error"]["details"] if p["code"] == "invalid_filter"]
    assert problem["path"] == "config.filter" and "refers back to itself ($ref '#')" in problem["message"]
    assert client.get(flow_path, headers=bearer(api_key)).json["version"] == 1
    assert trigger.call({"text": "still works"}).json["output"]["text"] == "still works"


@pytest.mark.parametrize("schema, words", [
    ({"$ref": "#/$defs/missing"}, "points to nothing"),
    ({"properties": {"text": {"pattern": "x{100000}"}}}, "requires more than 10,000 repeated characters"),
    ({"properties": {"text": {"pattern": "[a-"}}}, "not a valid JSON Schema"),
])
def test_publishing_a_filter_that_cannot_be_applied_is_400_naming_the_filter(client, api_key, schema, words):
    response = client.post("/api/v1/flows", json={"document": echo_flow(filter=schema)}, headers=bearer(api_key))
    assert response.status_code == 400, response.json
    (problem,) = [p for p in response.json["error"]["details"] if p["code"] == "invalid_filter"]
    assert problem["node_id"] == "api" and words in problem["message"], problem


def test_the_audits_pattern_drops_the_event_at_once(client, app, api_key):
    trigger = publish(client, api_key, filter={"properties": {"user_message": {"pattern": "(a+)+$"}}})
    began = time.monotonic()
    dropped = trigger.call(AUDIT_BODY)
    assert time.monotonic() - began < 5  # was ~30 s, until gunicorn killed the worker
    assert dropped.status_code == 400 and dropped.json["error"]["code"] == "event_dropped", dropped.json
    assert trigger.call({"user_message": "aaaa"}).status_code == 200


def test_a_pattern_too_slow_on_the_body_is_400_saying_so_within_about_a_second(client, app, api_key):
    trigger = publish(client, api_key, filter={"properties": {"user_message": {"pattern": "(a|aa)+$"}}})
    began = time.process_time()
    slow = trigger.call(AUDIT_BODY)
    assert time.process_time() - began < 2.5  # the filter's budget is 1 s of its own work
    assert slow.status_code == 400 and slow.json["error"]["code"] == "filter_too_slow", slow.json
    assert "pattern '(a|aa)+$' took too long on this body" in slow.json["error"]["message"]
    assert run_rows(app) == []
    assert trigger.call({"user_message": "aaaa"}).status_code == 200


@pytest.mark.parametrize("schema, words", [
    ({"$ref": "#"}, "refers to itself"),
    ({"anyOf": [{"not": {"$ref": "#"}}]}, "refers to itself"),
    ({"$ref": "#/nope"}, "points to nothing"),
    ({"properties": {"user_message": {"pattern": "a{1000000}"}}}, "requires more than 10,000 repeated characters"),
])
def test_a_stored_filter_that_cannot_be_applied_is_400_never_500(client, app, api_key, schema, words):
    trigger = publish(client, api_key)
    _set_stored_filter(app, trigger.trigger["id"], schema)
    refused = trigger.call(AUDIT_BODY)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "filter_unusable", refused.json
    assert words in refused.json["error"]["message"] and "owner must fix the filter" in refused.json["error"]["message"]
    assert run_rows(app) == []


def test_a_filter_on_a_number_too_large_for_a_float_decides_instead_of_failing(client, api_key):
    trigger = publish(client, api_key, filter={"properties": {"n": {"multipleOf": 0.75}}})
    dropped = trigger.client.post(trigger.path, data=b'{"user_message": "x", "n": 1' + b"0" * 400 + b"}",
                                  headers={**bearer(trigger.secret), "Content-Type": "application/json"})
    assert dropped.status_code == 400 and dropped.json["error"]["code"] == "event_dropped", dropped.json


def _dropped(response, field_start: str, why: str) -> dict:
    """A refused body's answer: small, and still saying which field failed and why."""
    assert response.status_code == 400 and response.json["error"]["code"] == "event_dropped", \
        response.get_data(as_text=True)[:500]
    assert len(response.get_data()) < 3000, len(response.get_data())
    error = response.json["error"]
    (detail,) = error["details"]
    assert detail["field"].startswith(field_start) and why in detail["reason"], detail
    assert why in error["message"] and len(detail["field"]) <= 200 and len(detail["reason"]) <= 300
    return detail


def test_a_refused_megabyte_value_is_not_repeated_in_the_answer(client, app, api_key):
    trigger = publish(client, api_key, filter={"properties": {"user_message": {"maxLength": 100},
                                                              "order": {"type": "integer"}}})
    huge = "a" * 1_000_000
    _dropped(trigger.call({"user_message": huge}), "user_message", "is too long")
    _dropped(trigger.call({"user_message": "hi", "order": huge}), "order", "is not of type 'integer'")
    assert run_rows(app) == []


def test_a_refused_ten_thousand_key_object_is_named_briefly(client, app, api_key):
    wide = {f"key{i}": i for i in range(10_000)}
    trigger = publish(client, api_key, filter={"properties": {"context": {"maxProperties": 50}}})
    _dropped(trigger.call({"user_message": "hi", "context": wide}), "context", "has too many properties")
    closed = publish(client, api_key, echo_flow(key="closed", filter={"properties": {"user_message": {}},
                                                                       "additionalProperties": False}))
    detail = _dropped(closed.call({"user_message": "hi", **wide}), "the body", "were unexpected")
    assert "key0" in detail["reason"]  # names the first unexpected fields, not all 10,000
    assert run_rows(app) == []


def test_a_refusal_deep_in_a_nested_body_names_its_place_briefly(client, app, api_key):
    node = {"type": "object", "properties": {"user_message": {}}, "additionalProperties": {"$ref": "#/$defs/node"}}
    trigger = publish(client, api_key, filter={"$defs": {"node": node}, "$ref": "#/$defs/node"})
    key = "k" * 5_000
    deep: object = 1
    for _ in range(60):
        deep = {key: deep}
    detail = _dropped(trigger.call({"user_message": "hi", **deep}), "kkkk", "is not of type 'object'")
    assert "…" in detail["field"]  # 60 keys of 5,000 characters, abridged
    nested: object = "x"
    for _ in range(60):
        nested = [nested]
    typed = publish(client, api_key, echo_flow(key="typed", filter={"properties": {"order": {"type": "string"}}}))
    _dropped(typed.call({"user_message": "hi", "order": nested}), "order", "is not of type 'string'")
    assert run_rows(app) == []
