"""A deleted trigger's id is never given out again: the old id answers 404 forever.

Every way a trigger disappears (DELETE on the API, a canvas save without its node, a change of
its type) and every way a node id comes back (API create, canvas save, rollback) is covered:
fetch, invoke, setup, pause and delete by the stored old id must never reach the new trigger.
"""

from __future__ import annotations

import copy

import pytest

from tests.app.flowdocs import echo_flow, without_node
from tests.app.trigger_helpers import bearer, local_path, publish

OLD_ID_CALLS = [("GET", ""), ("POST", "/invoke"), ("POST", "/setup"), ("POST", "/pause"),
                ("POST", "/rotate-secret"), ("PATCH", ""), ("DELETE", "")]


def _trigger(client, api_key, trigger_id, method="GET", tail="", json=None):
    body = json if json is not None else ({} if method in ("POST", "PATCH") else None)
    return client.open(f"/api/v1/triggers/{trigger_id}{tail}", method=method, json=body, headers=bearer(api_key))


def _assert_gone_forever(client, api_key, old_id):
    for method, tail in OLD_ID_CALLS:
        answer = _trigger(client, api_key, old_id, method, tail)
        assert answer.status_code == 404, (method, tail, answer.json)
        assert answer.json["error"]["code"] == "trigger_not_found"


def _save(client, api_key, flow_id, document):
    answer = client.put(f"/api/v1/flows/{flow_id}", json={"document": document}, headers=bearer(api_key))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_an_api_deleted_trigger_id_is_not_reused_by_the_next_created_trigger(client, api_key):
    flow = publish(client, api_key)
    create = {"flow_id": flow.flow["id"], "config": {"key": "orders"}}
    first = client.post("/api/v1/triggers", json=create, headers=bearer(api_key)).json
    old_id, old_node = first["trigger"]["id"], first["trigger"]["node_id"]
    assert _trigger(client, api_key, old_id, "DELETE").status_code == 200
    second = client.post("/api/v1/triggers", json=create, headers=bearer(api_key))
    assert second.status_code == 201, second.json
    new = second.json["trigger"]
    assert new["id"] != old_id and new["node_id"] != old_node  # a fresh node id, too
    _assert_gone_forever(client, api_key, old_id)
    assert _trigger(client, api_key, new["id"]).json["key"] == "orders"
    listed = client.get(f"/api/v1/triggers?flow_id={flow.flow['id']}", headers=bearer(api_key)).json["triggers"]
    assert old_id not in {t["id"] for t in listed}


@pytest.mark.parametrize("how", ["same node again", "rollback", "type changed"])
def test_a_node_id_that_comes_back_on_the_canvas_is_a_new_trigger(client, api_key, how):
    hook = publish(client, api_key)
    flow_id, old_id, old_secret = hook.flow["id"], hook.trigger["id"], hook.secret
    document = echo_flow()
    if how == "type changed":
        changed = copy.deepcopy(document)
        changed["nodes"][0] = {"id": "api", "type": "manual_trigger", "config": {}, "position": {"x": 0, "y": 0}}
        saved = _save(client, api_key, flow_id, changed)
        new = next(t for t in saved["triggers"] if t["node_id"] == "api")
        assert new["id"] != old_id and new["type"] == "manual_trigger"
        _assert_gone_forever(client, api_key, old_id)
        return
    _save(client, api_key, flow_id, without_node(document, "api"))
    _assert_gone_forever(client, api_key, old_id)
    if how == "rollback":
        back = client.post(f"/api/v1/flows/{flow_id}/rollback", json={"version": 1}, headers=bearer(api_key))
        assert back.status_code == 201, back.json
        saved = back.json
    else:
        saved = _save(client, api_key, flow_id, document)
    new = next(t for t in saved["triggers"] if t["node_id"] == "api")
    assert new["id"] != old_id
    _assert_gone_forever(client, api_key, old_id)
    secret = saved["secrets"]["api"]  # a new trigger gets a new secret, shown once
    assert secret != old_secret
    url = local_path(new["url"])
    assert client.post(url, json={"user_message": "x"}, headers=bearer(old_secret)).status_code == 401
    assert client.post(url, json={"user_message": "x"}, headers=bearer(secret)).status_code == 200


def test_a_trigger_edited_in_place_keeps_its_id_and_secret(client, api_key):
    hook = publish(client, api_key)
    saved = _save(client, api_key, hook.flow["id"], echo_flow(reply="changed: {{ inputs.message }}"))
    assert [t["id"] for t in saved["triggers"]] == [hook.trigger["id"]] and not saved.get("secrets")
    assert hook.call({"user_message": "x"}).json["output"]["text"] == "changed: x"
