"""`POST /api/v1/triggers/<id>/setup` says ready only when a run started now would get going.

Each case is a reason a run fails before the flow does any work; setup must name it (with the
node and setting to fix), and say ready once it is fixed.
"""

from __future__ import annotations

import copy

import pytest

from tests.app.flowdocs import echo_flow, schedule_flow
from tests.app.legacy_versions import store_trigger_setting
from tests.app.trigger_helpers import bearer


def _publish(client, api_key, document) -> dict:
    answer = client.post("/api/v1/flows", json={"document": document}, headers=bearer(api_key))
    assert answer.status_code == 201, answer.json
    return answer.json


def _setup(client, api_key, trigger_id) -> dict:
    answer = client.post(f"/api/v1/triggers/{trigger_id}/setup", json={}, headers=bearer(api_key))
    assert answer.status_code == 200, answer.json
    return answer.json


def _errors(report) -> dict[str, dict]:
    return {p["code"]: p for p in report["problems"] if p["severity"] == "error"}


def _with_step(document: dict, node: dict) -> dict:
    """Put `node` between start and reply."""
    changed = copy.deepcopy(document)
    changed["nodes"].append(dict(node, position={"x": 300, "y": 100}))
    changed["edges"] = [e for e in changed["edges"] if e["source"] != "start"] + [
        {"id": "s1", "source": "start", "source_port": "out", "target": node["id"], "target_port": "in"},
        {"id": "s2", "source": node["id"], "source_port": "out", "target": "reply", "target_port": "in"}]
    return changed


@pytest.mark.parametrize("node", [
    {"id": "fetch", "type": "http_request", "name": "Fetch", "config": {"url": "https://example.com/x",
                                                                         "credential": "crm-token"}},
    {"id": "ask", "type": "llm", "name": "Ask", "config": {"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini",
                                                       "credential": "crm-token"}},
])
def test_a_credential_missing_from_the_workspace_is_an_error_until_it_exists(client, api_key, node):
    # Publishing refuses a missing credential, so it goes missing afterwards: deleted after the save.
    first = client.post("/api/v1/credentials", json={"name": "crm-token", "kind": "bearer", "value": "s3cret-value"},
                        headers=bearer(api_key)).json
    flow = _publish(client, api_key, _with_step(echo_flow(), node))
    assert client.delete(f"/api/v1/credentials/{first['id']}", headers=bearer(api_key)).status_code in (200, 204)
    trigger_id = flow["triggers"][0]["id"]
    report = _setup(client, api_key, trigger_id)
    assert report["ready"] is False
    problem = _errors(report)["credential_missing"]
    assert problem["node_id"] == node["id"] and problem["path"] == "config.credential"
    assert "'crm-token' does not exist" in problem["message"] and node["name"] in problem["message"]
    created = client.post("/api/v1/credentials", json={"name": "crm-token", "kind": "bearer", "value": "s3cret-value"},
                          headers=bearer(api_key))
    assert created.status_code == 201, created.json
    assert _setup(client, api_key, trigger_id)["ready"] is True


def test_schedule_inputs_that_the_start_node_refuses_are_an_error(app, client, api_key):
    # Publishing refuses such inputs now; flows saved before it did still have them.
    flow = _publish(client, api_key, schedule_flow())
    store_trigger_setting(app, flow["id"], "every", "inputs", {"colour": "red"})
    trigger_id = flow["triggers"][0]["id"]
    report = _setup(client, api_key, trigger_id)
    assert report["ready"] is False
    problem = _errors(report)["schedule_inputs"]
    assert "colour" in problem["message"] and problem["path"] == "config.inputs"

    required = copy.deepcopy(schedule_flow())
    required["nodes"][1]["config"]["inputs"].append({"name": "city", "type": "string", "required": True})
    required["nodes"][0]["config"]["inputs"] = {"city": "Bergen"}
    flow = _publish(client, api_key, dict(required, name="Needs a city"))
    store_trigger_setting(app, flow["id"], "every", "inputs", {})
    assert "city" in _errors(_setup(client, api_key, flow["triggers"][0]["id"]))["schedule_inputs"]["message"]

    required["nodes"][0]["config"]["inputs"] = {"city": "Oslo"}
    fixed = client.put(f"/api/v1/flows/{flow['id']}", json={"document": dict(required, name="Needs a city")},
                       headers=bearer(api_key))
    assert fixed.status_code == 200, fixed.json
    assert _setup(client, api_key, flow["triggers"][0]["id"])["ready"] is True


def test_a_chat_model_whose_start_node_takes_no_message_is_an_error(client, api_key):
    document = echo_flow(key="m")
    document["nodes"][0] = {"id": "ai", "type": "openai_trigger", "config": {"key": "m"}, "position": {"x": 0, "y": 0}}
    document["edges"][0]["source"] = "ai"
    document["nodes"][1]["config"] = {"inputs": [{"name": "topic", "type": "string", "default": "x"}]}
    document["nodes"][2]["config"]["text"] = "{{ inputs.topic }}"
    flow = _publish(client, api_key, document)
    assert "no_message_input" in _errors(_setup(client, api_key, flow["triggers"][0]["id"]))


def test_a_paused_trigger_is_not_ready_and_a_healthy_one_of_each_type_is(client, api_key):
    document = echo_flow(key="all")
    extra = [{"id": "ai", "type": "openai_trigger", "config": {"key": "all-model"}, "position": {"x": 0, "y": 100}},
             {"id": "hand", "type": "manual_trigger", "config": {}, "position": {"x": 0, "y": 200}},
             dict(schedule_flow()["nodes"][0], id="tick")]
    document["nodes"] += extra
    document["edges"] += [{"id": f"x{i}", "source": n["id"], "source_port": "out", "target": "start",
                           "target_port": "in"} for i, n in enumerate(extra)]
    flow = _publish(client, api_key, document)
    for trigger in flow["triggers"]:
        report = _setup(client, api_key, trigger["id"])
        assert report["ready"] is True, (trigger["type"], report)
    rest = next(t for t in flow["triggers"] if t["node_id"] == "api")
    client.post(f"/api/v1/triggers/{rest['id']}/pause", json={}, headers=bearer(api_key))
    assert "trigger_paused" in _errors(_setup(client, api_key, rest["id"]))
