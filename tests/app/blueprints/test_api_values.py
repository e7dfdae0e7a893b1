"""POST /api/v1/flows/values: what the value picker lists at a node (contract 1 of the editor round).

It answers for unsaved and broken documents alike, because the canvas asks while the flow is
being drawn; hostile bodies are refused with a 400 (see also test_request_bodies.py).
"""

from __future__ import annotations

import copy
import json
import time

from tests.app.flowdocs import greeting_flow
from tests.app.trigger_helpers import bearer

URL = "/api/v1/flows/values"


def values(client, api_key, document, node_id):
    answer = client.post(URL, json={"document": document, "node_id": node_id}, headers=bearer(api_key))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["values"]


def test_lists_inputs_trigger_session_and_upstream_outputs_with_readable_labels(client, api_key):
    listed = {v["expression"]: v for v in values(client, api_key, greeting_flow(), "reply")}
    assert listed["inputs.message"] == {"expression": "inputs.message", "label": "Start › message", "group": "Inputs",
                                        "type": "Text", "node_id": "start", "description": "what the user said"}
    assert listed["inputs.count"]["type"] == "Number"
    assert listed["nodes.greet.text"]["label"] == "Compose › text"
    assert listed["nodes.greet.text"]["group"] == "Compose"
    assert listed["nodes.route.port"]["group"] == "Status?"
    assert listed["trigger.body"]["label"] == "REST › Request body" and listed["trigger.body"]["group"] == "Trigger"
    # The trigger's and the conversation's fields in the run page's words, with a one-line hint;
    # the expression inserted keeps the API's name, so existing flows still work.
    assert listed["trigger.out_id"]["label"] == "REST › Caller's reference"
    assert listed["trigger.out_id"]["hint"] == "The caller's own id for this event, if sent."
    assert listed["trigger.request_id"]["label"] == "Trigger › Request id"
    assert listed["trigger.uuid"]["label"] == "REST › Retry key"
    assert listed["trigger.claim_time"]["label"] == "REST › Event time"
    assert listed["session.history"]["type"] == "List" and listed["session.history"]["group"] == "Conversation"
    assert listed["session.id"]["label"] == "Conversation › Id"
    assert {v["type"] for v in listed.values()} <= {"Text", "Number", "Yes/No", "List", "Object", "Any"}


def test_lists_only_nodes_upstream_of_the_node(client, api_key):
    at_greet = {v["expression"] for v in values(client, api_key, greeting_flow(), "greet")}
    assert "inputs.message" in at_greet
    assert not any(e.startswith("nodes.") for e in at_greet)  # itself and later nodes are not available
    at_reply = {v["expression"] for v in values(client, api_key, greeting_flow(), "reply")}
    assert not any(e.startswith("nodes.status_reply") for e in at_reply)  # the other branch


def test_an_unsaved_node_without_a_name_is_labelled_by_its_type_title(client, api_key):
    document = greeting_flow()
    del document["nodes"][3]["name"]
    listed = {v["expression"]: v for v in values(client, api_key, document, "reply")}
    assert listed["nodes.greet.text"]["label"] == "Template › text"


def refusal(client, api_key, body=None, raw: bytes | None = None, content_type="application/json") -> dict:
    """POST `body` (or the bytes `raw`), expect a 400 in a small answer, and return its error."""
    data = raw if raw is not None else json.dumps(body)
    answer = client.post(URL, data=data, content_type=content_type, headers=bearer(api_key))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400, text[:500]
    assert len(text) < 4096, len(text)
    return answer.json["error"]


def test_a_node_the_document_does_not_have_is_a_400_naming_it(client, api_key):
    # 400, not 404: nothing is missing on the server; the body names a node its own document lacks.
    error = refusal(client, api_key, {"document": greeting_flow(), "node_id": "ghost"})
    assert error["code"] == "unknown_node"
    assert error["message"] == 'The document has no node with the id "ghost"; send the id of one of its nodes.'
    assert error["details"] == [{"field": "node_id", "reason": "no such node in the document"}]
    error = refusal(client, api_key, {"document": greeting_flow(), "node_id": "g" * 900_000})
    assert f'"{"g" * 60}…" (900,000 characters)' in error["message"]
    error = refusal(client, api_key, {"document": {"nodes": "x"}, "node_id": "reply"})
    assert error["code"] == "unknown_node"


def test_invalid_documents_still_answer(client, api_key):
    broken = greeting_flow()
    broken["nodes"][3]["config"] = {"template": 5, "parse_json": "yes"}
    broken["nodes"].append({"id": "odd", "type": "no_such_type", "config": []})
    broken["edges"].append({"id": "x", "source": "odd", "source_port": "out", "target": "reply", "target_port": "in"})
    broken["edges"].append({"id": "y", "source": "reply"})
    assert values(client, api_key, broken, "reply")
    odd = {"nodes": [None, 1, {"id": 5}, {"id": "reply", "type": "reply", "config": "x"}], "edges": [[]]}
    assert not any(v["expression"].startswith("nodes.") for v in values(client, api_key, odd, "reply"))


def test_a_document_that_is_not_an_object_is_a_400_naming_document(client, api_key):
    for document in (None, [], "x", "text", 1e300, 5, True):
        error = refusal(client, api_key, {"document": document, "node_id": "reply"})
        assert error["code"] == "invalid_document", document
        assert error["message"].startswith("document must be the flow document, a JSON object")
        assert error["details"] == [{"field": "document", "reason": "not an object"}]


def test_a_node_id_that_is_not_text_is_a_400_that_says_what_to_send(client, api_key):
    for node_id in (None, 5, ["reply"], {"id": "reply"}, "", "  "):
        error = refusal(client, api_key, {"document": greeting_flow(), "node_id": node_id})
        assert error["code"] == "invalid_node_id", node_id
        # Required here: the message must not offer null or leaving it out.
        assert error["message"] == "node_id must be an id, as text.", error
    error = refusal(client, api_key, {"document": greeting_flow()})
    assert error["code"] == "missing_field" and "node_id" in error["message"]


def test_a_document_larger_than_saving_allows_is_refused_before_listing(client, api_key):
    many_inputs = greeting_flow()
    many_inputs["nodes"][2]["config"]["inputs"] = [{"name": f"in{i}", "type": "string"} for i in range(20_000)]
    error = refusal(client, api_key, {"document": many_inputs, "node_id": "reply"})
    assert error["code"] == "document_too_large"
    assert error["message"] == "The start node declares 20,000 inputs; at most 100 are allowed."
    many_nodes = greeting_flow()
    many_nodes["nodes"] += [{"id": f"n{i}", "type": "reply", "config": {"text": "x"}} for i in range(501)]
    error = refusal(client, api_key, {"document": many_nodes, "node_id": "reply"})
    assert error["message"].startswith("The flow has 508 nodes; at most 500 are allowed")
    hundred = greeting_flow()
    hundred["nodes"][2]["config"]["inputs"] = [{"name": f"in{i}", "type": "string"} for i in range(100)]
    assert len(values(client, api_key, hundred, "reply")) > 100  # what saving allows still answers


def test_hostile_bodies_get_a_clear_400(client, api_key):
    document = greeting_flow()
    huge_number = b'{"node_id": "reply", "document": {"nodes": [], "x": 1' + b"0" * 5000 + b"}}"
    assert refusal(client, api_key, raw=huge_number)["code"] == "invalid_number"
    assert refusal(client, api_key, raw=b'{"node_id": "reply", "document": {"x": 1e999}}')["code"] == "invalid_number"
    lone = {"document": {"nodes": [], "name": "\ud800"}, "node_id": "reply"}
    error = refusal(client, api_key, raw=json.dumps(lone).encode())  # json.dumps escapes it as JSON allows
    assert error["code"] == "invalid_text" and "document.name" in error["message"]
    deep = b'{"node_id": "reply", "document": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert refusal(client, api_key, raw=deep)["code"] == "invalid_json"
    wide = {**document, **{f"k{i}": i for i in range(20_000)}}
    assert values(client, api_key, wide, "reply")  # unknown top-level fields do not stop the picker
    wide_body = {"document": document, "node_id": "reply", **{f"k{i}": i for i in range(20_000)}}
    error = refusal(client, api_key, wide_body)
    assert error["code"] == "unknown_field" and "and 19980 more" in error["message"]
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        answer = client.post(URL, data=json.dumps({"document": document, "node_id": "reply"}),
                             content_type=content_type, headers=bearer(api_key))
        assert answer.status_code == 200 and answer.json["values"], content_type  # a JSON body whatever its label
    error = refusal(client, api_key, raw=b"node_id=reply", content_type="application/x-www-form-urlencoded")
    assert error["code"] == "invalid_json"


def test_wide_and_long_documents_answer_quickly(client, api_key):
    document = greeting_flow()
    document["nodes"][3]["config"] = {f"k{i}": i for i in range(20_000)}
    chain = copy.deepcopy(document)
    for index in range(490):  # as long as saving allows (500 nodes); more is refused, see above
        chain["nodes"].append({"id": f"n{index}", "type": "template", "config": {"template": "x"}})
        chain["edges"].append({"id": f"c{index}", "source": f"n{index - 1}" if index else "reply", "source_port": "out",
                               "target": f"n{index}", "target_port": "in"})
    for doc, node in ((document, "reply"), (chain, "n489")):
        started = time.monotonic()
        assert values(client, api_key, doc, node)
        assert time.monotonic() - started < 3


def test_needs_authentication(client):
    answer = client.post(URL, json={"document": greeting_flow(), "node_id": "reply"})
    assert answer.status_code == 401


def test_a_signed_in_user_on_the_canvas_can_ask_with_the_page_csrf_token(client, auth):
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/flows").get_data(as_text=True))
    body = {"document": greeting_flow(), "node_id": "reply"}
    answer = client.post(URL, json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.json["values"]
    assert client.post(URL, json=body).status_code in (400, 403)  # a session call without the token
