"""Turning what a door received into a `StartRequest`: pure parsing, no database, Redis or worker.

These run in milliseconds; the behaviour they pin is also seen end to end in
`test_trigger_contract.py`, `test_rest_trigger.py` and `test_openai_api.py`.
"""

from __future__ import annotations

import json

import pytest

import flows
from app.models import Flow, Trigger
from app.services.chat import openai_chat
from app.services.versions.parsed_versions import PublishedVersion
from app.services.runs.start_request import StartRequest, body_hash, check_filter, parse_trigger_body
from app.json_body import BodyError
from tests.app.flowdocs import greeting_flow


def _version(document: dict | None = None) -> PublishedVersion:
    graph = flows.Graph(document or greeting_flow())
    start_config = (graph.start_node() or {}).get("config") or {}
    return PublishedVersion(id="v1", flow_id="f1", number=1, graph=graph, start_config=start_config,
                            declared=frozenset(item["name"] for item in flows.declared_inputs(start_config)))


def _refused(body: dict, config: dict | None = None, header: str | None = None) -> BodyError:
    with pytest.raises(BodyError) as refused:
        parse_trigger_body(body, config or {}, _version(), header)
    return refused.value


@pytest.mark.parametrize("alias", ["user_message", "text", "instruction", "message"])
def test_every_message_spelling_reaches_the_message_input_with_defaults_filled(alias):
    contract, inputs = parse_trigger_body({alias: "hi"}, {}, _version())
    assert inputs == {"message": "hi", "person": "friend", "count": 1}
    assert contract.environment == "api" and contract.idempotency_key is None


def test_contract_fields_are_taken_out_of_the_inputs():
    body = {"text": "hi", "sessionId": "s-1", "OutId": "crm-7", "Uuid": "k-1", "claimTimeMillis": 1731502129000,
            "contact": {"email": "Ada@example.com"}, "context": {"plan": "pro"}, "Data": {"count": 3}}
    contract, inputs = parse_trigger_body(body, {}, _version())
    assert inputs == {"message": "hi", "person": "friend", "count": 3}
    assert (contract.session_key, contract.out_id, contract.idempotency_key) == ("s-1", "crm-7", "k-1")
    assert contract.event_at.year == 2024 and contract.contact == {"email": "Ada@example.com"}
    assert contract.metadata()["context"] == {"plan": "pro"}


def test_the_idempotency_header_wins_only_when_it_agrees_with_the_body():
    contract, _ = parse_trigger_body({"text": "hi"}, {}, _version(), "hdr-1")
    assert contract.idempotency_key == "hdr-1"
    assert _refused({"text": "hi", "uuid": "body-1"}, header="hdr-1").code == "invalid_idempotency_key"


def test_a_declared_input_named_like_a_contract_field_stays_an_input():
    document = greeting_flow()
    start = next(node for node in document["nodes"] if node["id"] == "start")
    start["config"]["inputs"].append({"name": "context", "type": "string", "default": ""})
    contract, inputs = parse_trigger_body({"text": "hi", "context": "billing"}, {}, _version(document))
    assert inputs["context"] == "billing" and contract.context == {}


def test_default_text_replaces_whatever_message_was_sent():
    _, inputs = parse_trigger_body({"text": "ignored", "count": 2}, {"default_text": "daily report"}, _version())
    assert inputs["message"] == "daily report" and inputs["count"] == 2


def test_an_object_instruction_reaches_a_text_message_as_json():
    _, inputs = parse_trigger_body({"instruction": {"b": 1, "a": [2]}}, {}, _version())
    assert json.loads(inputs["message"]) == {"a": [2], "b": 1}


@pytest.mark.parametrize("body, code, field", [
    ({"text": "hi", "nope": 1}, "invalid_inputs", "nope"),
    ({"text": "hi", "count": "three"}, "invalid_inputs", "count"),
    ({"count": 2}, "invalid_inputs", "message"),
    ({"text": "a", "user_message": "b"}, "invalid_inputs", "text"),
    ({"text": "hi", "session": "a", "sessionId": "b"}, "invalid_body", "session"),
    ({"text": "hi", "contact": {"email": "nope"}}, "invalid_body", "contact.email"),
    ({"text": "hi", "language": "klingon"}, "invalid_body", "language"),
    ({"text": "hi", "Data": [1]}, "invalid_body", "Data"),
])
def test_a_body_that_does_not_fit_names_the_field_to_fix(body, code, field):
    refused = _refused(body)
    assert refused.code == code
    assert field in [detail.get("field") for detail in refused.details or []]


def test_the_filter_drops_what_does_not_match_and_says_where():
    config = {"filter": {"properties": {"event": {"properties": {"kind": {"const": "order"}}}}}}
    check_filter(config, {"event": {"kind": "order"}})
    check_filter({}, {"anything": True})
    with pytest.raises(BodyError) as dropped:
        check_filter(config, {"event": {"kind": "refund"}})
    assert dropped.value.code == "event_dropped" and dropped.value.details[0]["field"] == "event/kind"


def test_the_body_hash_ignores_key_order_and_whitespace_only():
    assert body_hash({"a": 1, "b": [1, 2]}) == body_hash({"b": [1, 2], "a": 1})
    assert body_hash({"a": 1}) != body_hash({"a": "1"})


def test_a_run_without_a_trigger_enters_at_the_start_node():
    request = StartRequest(flow=Flow(id="f1"), version=_version(), trigger=None, source="manual", inputs={})
    assert request.node["id"] == "start" and request.idempotency_key is None
    manual = Trigger(id="t1", node_id="manual", type="manual_trigger", config={})
    assert StartRequest(flow=Flow(id="f1"), version=_version(), trigger=manual, source="manual",
                        inputs={}).node["id"] == "manual"


# ---- the OpenAI door ------------------------------------------------------------------------------

def _chat_request(version: PublishedVersion | None = None, header: str | None = None, **body) -> StartRequest:
    body = {"model": "m", "messages": [{"role": "system", "content": "be brief"},
                                       {"role": "user", "content": "earlier"},
                                       {"role": "assistant", "content": "answer"},
                                       {"role": "user", "content": "now"}], **body}
    trigger = Trigger(id="t1", node_id="api", type="openai_trigger", config={})
    return openai_chat.start_request(Flow(id="f1"), version or _version(), trigger, openai_chat.parse(body), body,
                                     headers={}, idempotency_header=header, session_header=None, request_id="r1")


def test_a_chat_request_becomes_the_message_history_and_options_of_a_run():
    request = _chat_request(metadata={"count": 4, "unknown": "ignored"}, temperature=0.2, user="u-9")
    assert request.inputs == {"message": "now", "person": "friend", "count": 4}
    assert request.history == [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "answer"}]
    assert request.payload["openai"] == {"model": "m", "system": "be brief", "temperature": 0.2}
    assert request.contract.session_key == "u-9" and request.contract.environment == "openai"
    assert request.with_session and request.fingerprint


@pytest.mark.parametrize("case, param", [("metadata", "metadata.count"), ("no message input", "messages"),
                                         ("long key", None)])
def test_a_chat_request_that_does_not_fit_names_the_param(case, param):
    document = greeting_flow()
    if case == "no message input":
        start = next(node for node in document["nodes"] if node["id"] == "start")
        start["config"].pop("message_input")
        start["config"]["inputs"] = [{"name": "count", "type": "integer", "default": 1}]
    with pytest.raises(openai_chat.ChatRequestError) as refused:
        _chat_request(_version(document), header="k" * 300 if case == "long key" else None,
                      metadata={"count": "many"} if case == "metadata" else {})
    assert refused.value.param == param and refused.value.status == 400
