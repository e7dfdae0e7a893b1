"""POST /api/v1/flows/values: what the value picker lists at a node (contract 1 of the editor round).

It answers for unsaved and broken documents alike, because the canvas asks while the flow is
being drawn; hostile bodies are refused with a 400 (see also test_request_bodies.py).
"""

from __future__ import annotations

import copy
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


def test_an_unknown_node_gets_an_empty_list(client, api_key):
    assert values(client, api_key, greeting_flow(), "ghost") == []


def test_invalid_documents_still_answer(client, api_key):
    broken = greeting_flow()
    broken["nodes"][3]["config"] = {"template": 5, "parse_json": "yes"}
    broken["nodes"].append({"id": "odd", "type": "no_such_type", "config": []})
    broken["edges"].append({"id": "x", "source": "odd", "source_port": "out", "target": "reply", "target_port": "in"})
    broken["edges"].append({"id": "y", "source": "reply"})
    assert values(client, api_key, broken, "reply")
    for document in (None, [], "text", 1e300, {"nodes": "x"}, {"nodes": [None, 1, {"id": 5}], "edges": [[]]}):
        assert values(client, api_key, document, "reply") == []


def test_a_node_id_that_is_not_text_is_a_400_that_says_what_to_send(client, api_key):
    for node_id in (None, 5, ["reply"], {"id": "reply"}):
        answer = client.post(URL, json={"document": greeting_flow(), "node_id": node_id}, headers=bearer(api_key))
        assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_node_id"
    answer = client.post(URL, json={"document": greeting_flow()}, headers=bearer(api_key))
    assert answer.status_code == 400 and "node_id" in answer.json["error"]["message"]


def test_wide_and_long_documents_answer_quickly(client, api_key):
    document = greeting_flow()
    document["nodes"][3]["config"] = {f"k{i}": i for i in range(20_000)}
    chain = copy.deepcopy(document)
    for index in range(2000):
        chain["nodes"].append({"id": f"n{index}", "type": "template", "config": {"template": "x"}})
        chain["edges"].append({"id": f"c{index}", "source": f"n{index - 1}" if index else "reply", "source_port": "out",
                               "target": f"n{index}", "target_port": "in"})
    for doc, node in ((document, "reply"), (chain, "n1999")):
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
