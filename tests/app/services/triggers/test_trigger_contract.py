"""The seeds' request fields on a REST trigger, each through HTTP with a real worker.

Sessions, default text, environment / language / timezone / customer / context, outId, the
event and discard times, the `Data` wrapper, and the trigger filter.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, local_path, publish, run_rows
from tests.conftest import wait_for

SESSION_REPLY = ("{{ trigger.session.id }}|{{ trigger.session.turn }}|"
                 "{% for t in trigger.session.history %}{{ t.role }}:{{ t.content }};{% endfor %}")


def test_default_text_replaces_the_callers_message(client, api_key):
    trigger = publish(client, api_key, default_text="Summarise today's tickets")
    response = trigger.call({"text": "ignored"})
    assert response.status_code == 200, response.json
    assert response.json["output"]["text"] == "Summarise today's tickets"


def test_without_default_text_the_message_is_used(client, api_key):
    trigger = publish(client, api_key)
    assert trigger.call({"text": "hello"}).json["output"]["text"] == "hello"


def test_object_instruction_reaches_a_text_message_as_json(client, api_key):
    trigger = publish(client, api_key)
    response = trigger.call({"instruction": {"task": "restart", "host": "db1"}})
    assert response.status_code == 200, response.json
    assert response.json["output"]["text"] == '{"host": "db1", "task": "restart"}'


def test_session_continues_with_history_and_is_echoed(client, api_key):
    trigger = publish(client, api_key, reply=SESSION_REPLY)
    first = trigger.call({"sessionId": "chat-42", "text": "hi"})
    assert first.status_code == 200
    assert first.json["session_id"] == "chat-42"
    assert first.json["output"]["text"] == "chat-42|1|"
    second = trigger.call({"session": "chat-42", "text": "again"})
    assert second.json["session_id"] == "chat-42"
    assert second.json["output"]["text"] == "chat-42|2|user:hi;assistant:chat-42|1|;"


def test_requests_without_session_each_start_their_own(client, api_key):
    trigger = publish(client, api_key, reply=SESSION_REPLY)
    one, two = trigger.call({"text": "a"}).json, trigger.call({"text": "b"}).json
    assert one["session_id"] != two["session_id"]
    assert one["output"]["text"].endswith("|1|") and two["output"]["text"].endswith("|1|")


def test_an_expired_session_starts_a_new_conversation(client, api_key):
    trigger = publish(client, api_key, reply=SESSION_REPLY, session_duration_seconds=1)
    first = trigger.call({"sessionId": "s1", "text": "hi"}).json
    time.sleep(1.3)
    later = trigger.call({"sessionId": "s1", "text": "back"}).json
    assert later["session_id"] == "s1"
    assert later["output"]["text"] == "s1|1|"  # no history from the expired conversation
    runs = {r["id"]: r for r in client.get(f"/api/v1/flows/{trigger.flow['id']}/runs", headers=bearer(api_key)).json["runs"]}
    assert runs[first["run_id"]]["conversation_id"] != runs[later["run_id"]]["conversation_id"]


def test_contact_without_session_identifies_the_conversation(client, api_key):
    trigger = publish(client, api_key, reply="{{ trigger.session.turn }} {{ trigger.session.contact.name }}")
    contact = {"name": "Ada", "email": "Ada@Example.com", "phone": "+44 20 7946 0958"}
    first = trigger.call({"text": "a", "contact": contact}).json
    second = trigger.call({"text": "b", "contact": {"email": "ada@example.com"}}).json
    assert first["session_id"] == second["session_id"] == "contact:email:ada@example.com"
    assert first["output"]["text"] == "1 Ada" and second["output"]["text"] == "2 Ada"


@pytest.mark.parametrize("contact, field", [
    ({"email": "not-an-email"}, "contact.email"),
    ({"phone": "call me"}, "contact.phone"),
    ({"nickname": "x"}, "contact.nickname"),
    ("ada@example.com", "contact"),
])
def test_invalid_contact_is_400_naming_the_field(client, app, api_key, contact, field):
    trigger = publish(client, api_key)
    response = trigger.call({"text": "x", "contact": contact})
    assert response.status_code == 400
    assert field in {d["field"] for d in response.json["error"]["details"]}
    assert run_rows(app) == []


def test_request_metadata_is_stored_and_available_to_nodes(client, api_key):
    reply = ("{{ trigger.environment }}/{{ trigger.language }}/{{ trigger.timezone }}/"
             "{{ trigger.customer.id }}/{{ trigger.context.plan }}/{{ trigger.context.seats }}/{{ trigger.out_id }}")
    trigger = publish(client, api_key, reply=reply)
    response = trigger.call({"text": "x", "environment": "website", "language": "pt-BR", "timezone": "America/Sao_Paulo",
                             "customer": {"id": "c-7"}, "context": {"plan": "pro", "seats": 5, "trial": False},
                             "outId": "ORD-1001"})
    assert response.status_code == 200, response.json
    assert response.json["output"]["text"] == "website/pt-BR/America/Sao_Paulo/c-7/pro/5/ORD-1001"
    run = client.get(f"/api/v1/runs/{response.json['run_id']}", headers=bearer(api_key)).json
    assert run["out_id"] == "ORD-1001"
    assert run["trigger"]["context"] == {"plan": "pro", "seats": 5, "trial": False}


def test_environment_defaults_to_api(client, api_key):
    trigger = publish(client, api_key, reply="{{ trigger.environment }}")
    assert trigger.call({"text": "x"}).json["output"]["text"] == "api"


@pytest.mark.parametrize("body, field", [
    ({"language": "english"}, "language"),
    ({"language": "xx"}, "language"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"context": {"nested": {"a": 1}}}, "context.nested"),
    ({"context": ["a"]}, "context"),
    ({"environment": ""}, "environment"),
    ({"customer": 12}, "customer"),
    ({"outId": ""}, "outId"),
    ({"claimTimeMillis": "yesterday"}, "claimTimeMillis"),
    ({"discardTimeMillis": 1731502729}, "discardTimeMillis"),  # seconds, not milliseconds
    ({"sessionId": "a", "session": "b"}, "session"),
    ({"Data": "not an object"}, "Data"),
])
def test_invalid_contract_fields_are_400_naming_the_field(client, app, api_key, body, field):
    trigger = publish(client, api_key)
    response = trigger.call({"text": "x", **body})
    assert response.status_code == 400, response.json
    assert field in {d["field"] for d in response.json["error"]["details"]}, response.json
    assert run_rows(app) == []


def test_data_wrapper_carries_the_inputs(client, api_key):
    inputs = [{"name": "message", "type": "string", "default": ""}, {"name": "service", "type": "string"}]
    trigger = publish(client, api_key, echo_flow(reply="{{ inputs.service }}", inputs=inputs))
    response = trigger.call({"Data": {"service": "billing"}, "OutId": "x-1", "Uuid": "u-1"})
    assert response.status_code == 200, response.json
    assert response.json["output"]["text"] == "billing"


def test_a_declared_input_named_like_a_contract_field_stays_an_input(client, api_key):
    inputs = [{"name": "message", "type": "string", "default": ""}, {"name": "context", "type": "string"}]
    trigger = publish(client, api_key, echo_flow(reply="{{ inputs.context }}", inputs=inputs))
    assert trigger.call({"context": "free text"}).json["output"]["text"] == "free text"


def test_claim_time_is_recorded_and_visible_to_nodes(client, api_key):
    trigger = publish(client, api_key, reply="{{ trigger.claim_time }}")
    response = trigger.call({"text": "x", "claimTimeMillis": 1731502129000})
    assert response.json["output"]["text"] == "2024-11-13T12:48:49+00:00"
    run = client.get(f"/api/v1/runs/{response.json['run_id']}", headers=bearer(api_key)).json
    assert run["event_at"] == "2024-11-13T12:48:49.000Z"


def test_a_discard_time_already_past_records_a_discarded_run_that_never_executes(client, api_key):
    trigger = publish(client, api_key)
    response = trigger.call({"text": "x", "discardTimeMillis": int((time.time() - 5) * 1000)})
    assert response.status_code == 200
    assert response.json["status"] == "discarded"
    run = client.get(f"/api/v1/runs/{response.json['run_id']}", headers=bearer(api_key)).json
    assert run["status"] == "discarded" and run["steps"] == [] and "discardTimeMillis" in run["error"]


def test_a_run_still_queued_at_its_discard_time_is_discarded_not_executed(client, api_key, stack):
    trigger = publish(client, api_key, wait_for_response=False)
    os.kill(stack.worker.pid, signal.SIGSTOP)  # no worker picks the run up in time
    try:
        response = trigger.call({"text": "x", "discardTimeMillis": int((time.time() + 1) * 1000)})
        assert response.status_code == 202
        time.sleep(1.3)
    finally:
        os.kill(stack.worker.pid, signal.SIGCONT)
    status = local_path(response.json["status_url"])
    run = wait_for(lambda: (r := client.get(status, headers=bearer(api_key)).json)["status"] != "queued" and r)
    assert run["status"] == "discarded"
    assert run["steps"] == [] and run["started_at"] is None


def test_a_discard_time_in_the_future_does_not_stop_a_prompt_run(client, api_key):
    trigger = publish(client, api_key)
    response = trigger.call({"text": "ok", "discardTimeMillis": int((time.time() + 60) * 1000)})
    assert response.json["status"] == "succeeded"


def test_filter_drops_events_that_do_not_match_with_the_reason(client, app, api_key):
    schema = {"type": "object", "required": ["order_id"], "properties": {"order_id": {"type": "string"}}}
    trigger = publish(client, api_key, filter=schema, reply="order {{ trigger.out_id }}")
    dropped = trigger.call({"text": "x"})
    assert dropped.status_code == 400
    assert dropped.json["error"]["code"] == "event_dropped"
    assert "order_id" in dropped.json["error"]["message"]
    wrong_type = trigger.call({"order_id": 5})
    assert wrong_type.status_code == 400 and "order_id" in wrong_type.json["error"]["details"][0]["field"]
    assert run_rows(app) == []
    inputs = [{"name": "message", "type": "string", "default": ""}, {"name": "order_id", "type": "string"}]
    trigger = publish(client, api_key, echo_flow(key="orders", reply="order {{ inputs.order_id }}", inputs=inputs,
                                                 filter=schema))
    assert trigger.call({"order_id": "A-1"}).json["output"]["text"] == "order A-1"


@pytest.mark.parametrize("schema", [{"type": "nonsense"}, {"$ref": "https://example.com/schema.json"}])
def test_a_broken_filter_is_refused_at_save(client, api_key, schema):
    response = client.post("/api/v1/flows", json={"document": echo_flow(filter=schema)}, headers=bearer(api_key))
    assert response.status_code == 400
    problems = response.json["error"]["details"]
    assert any(p["node_id"] == "api" and p["path"] == "config.filter" for p in problems), problems
