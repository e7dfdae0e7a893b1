"""Triggers as managed objects: /api/v1/triggers create, list, fetch, update, pause, resume,
rotate, delete, invoke and setup, each checked through the trigger's URL with a real worker."""

from __future__ import annotations

import pytest

from tests.app.flowdocs import echo_flow
from tests.app.trigger_helpers import bearer, local_path, publish
from tests.conftest import wait_for


@pytest.fixture
def flow(client, api_key):
    return publish(client, api_key)


def _api(client, api_key, method, path, json=None):
    return client.open(f"/api/v1/triggers{path}", method=method, json=json, headers=bearer(api_key))


def test_create_adds_a_node_publishes_and_the_url_works_with_the_secret_shown_once(client, api_key, flow):
    response = _api(client, api_key, "POST", "", {"flow_id": flow.flow["id"], "name": "Orders",
                                                    "config": {"key": "orders", "wait_for_response": True}})
    assert response.status_code == 201, response.json
    created = response.json
    assert created["version"] == 2 and created["published"] is True
    assert created["trigger"]["key"] == "orders" and created["secret"].startswith("sbt_")
    answer = client.post(local_path(created["trigger"]["url"]), json={"text": "via orders"},
                         headers=bearer(created["secret"]))
    assert answer.status_code == 200 and answer.json["output"]["text"] == "via orders"
    fetched = _api(client, api_key, "GET", f"/{created['trigger']['id']}").json
    assert "secret" not in fetched and fetched["secret_hint"].endswith(created["secret"][-4:])
    document = client.get(f"/api/v1/flows/{flow.flow['id']}", headers=bearer(api_key)).json["document"]
    node = next(n for n in document["nodes"] if n["id"] == created["trigger"]["node_id"])
    assert node["name"] == "Orders"
    assert any(e["source"] == node["id"] and e["target"] == "start" for e in document["edges"])


@pytest.mark.parametrize("body, code", [
    ({"flow_id": "nope", "config": {"key": "x"}}, 404),
    ({"config": {"key": "x"}}, 400),
    ({"flow_id": "FLOW", "config": {"key": "bad key!"}}, 400),
    ({"flow_id": "FLOW", "config": {"key": "echo"}}, 400),  # the key is taken by the flow's own trigger
    ({"flow_id": "FLOW", "type": "webhook", "config": {}}, 400),
    ({"flow_id": "FLOW", "config": {"key": "x", "colour": "red"}}, 400),
    ({"flow_id": "FLOW", "config": "key=x"}, 400),
    ({"flow_id": "FLOW", "config": {"key": "x"}, "extra": 1}, 400),
])
def test_create_refuses_bad_requests_and_publishes_nothing(client, api_key, flow, body, code):
    body = {k: (flow.flow["id"] if v == "FLOW" else v) for k, v in body.items()}
    response = _api(client, api_key, "POST", "", body)
    assert response.status_code == code, response.json
    assert client.get(f"/api/v1/flows/{flow.flow['id']}", headers=bearer(api_key)).json["version"] == 1


def test_list_paginates_with_cursor_take_and_order_and_filters_by_flow(client, api_key):
    flows = [publish(client, api_key, echo_flow(key=f"k{i}")) for i in range(5)]
    seen, cursor = [], None
    while True:
        query = "?take=2" + (f"&cursor={cursor}" if cursor else "")
        page = _api(client, api_key, "GET", query).json
        assert len(page["triggers"]) <= 2
        seen += [t["key"] for t in page["triggers"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["k4", "k3", "k2", "k1", "k0"]
    ascending = _api(client, api_key, "GET", "?order=asc&take=100").json["triggers"]
    assert [t["key"] for t in ascending] == ["k0", "k1", "k2", "k3", "k4"]
    only = _api(client, api_key, "GET", f"?flow_id={flows[2].flow['id']}").json["triggers"]
    assert [t["key"] for t in only] == ["k2"]
    for query in ("?take=0", "?take=1000", "?order=sideways", "?cursor=not-a-cursor"):
        assert _api(client, api_key, "GET", query).status_code == 400


def test_update_changes_settings_in_a_new_version_and_takes_effect(client, api_key, flow):
    trigger_id = flow.trigger["id"]
    response = _api(client, api_key, "PATCH", f"/{trigger_id}", {"config": {"wait_for_response": False}})
    assert response.status_code == 200 and response.json["version"] == 2
    assert response.json["trigger"]["wait_for_response"] is False
    assert flow.call({"text": "x"}).status_code == 202
    bad = _api(client, api_key, "PATCH", f"/{trigger_id}", {"config": {"timeout_seconds": 0}})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_flow"


def test_pause_and_resume(client, api_key, flow):
    trigger_id = flow.trigger["id"]
    paused = _api(client, api_key, "POST", f"/{trigger_id}/pause", {})
    assert paused.status_code == 200 and paused.json["trigger"]["status"] == "paused"
    refused = flow.call({"text": "x"})
    assert refused.status_code == 404 and refused.json["error"]["code"] == "trigger_paused"
    assert _api(client, api_key, "POST", f"/{trigger_id}/resume", {}).json["trigger"]["status"] == "active"
    assert flow.call({"text": "x"}).status_code == 200


def test_rotate_secret_invalidates_the_old_one(client, api_key, flow):
    response = _api(client, api_key, "POST", f"/{flow.trigger['id']}/rotate-secret", {})
    new_secret = response.json["secret"]
    assert client.post(flow.path, json={"text": "x"}, headers=bearer(flow.secret)).status_code == 401
    assert client.post(flow.path, json={"text": "x"}, headers=bearer(new_secret)).status_code == 200


def test_delete_removes_the_node_and_the_url_answers_404(client, api_key, flow):
    trigger_id = flow.trigger["id"]
    created = _api(client, api_key, "POST", "", {"flow_id": flow.flow["id"], "config": {"key": "second"}}).json
    response = _api(client, api_key, "DELETE", f"/{trigger_id}")
    assert response.status_code == 200 and response.json == {"id": trigger_id, "deleted": True, "version": 3}
    assert flow.call({"text": "x"}).status_code == 404
    assert _api(client, api_key, "GET", f"/{trigger_id}").status_code == 404
    assert _api(client, api_key, "DELETE", f"/{trigger_id}").status_code == 404
    remaining = _api(client, api_key, "GET", "").json["triggers"]
    assert [t["id"] for t in remaining] == [created["trigger"]["id"]]


def test_invoke_queues_a_run_now(client, api_key, flow):
    response = _api(client, api_key, "POST", f"/{flow.trigger['id']}/invoke", {"body": {"text": "test run"}})
    assert response.status_code == 202, response.json
    status = local_path(response.json["status_url"])
    run = wait_for(lambda: (r := client.get(status, headers=bearer(api_key)).json)["status"] == "succeeded" and r)
    assert run["output"]["text"] == "test run" and run["trigger"]["type"] == "invoke"
    bad = _api(client, api_key, "POST", f"/{flow.trigger['id']}/invoke", {"body": {"nope": 1}})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_inputs"


def test_setup_reports_ready_or_what_is_wrong(client, api_key, flow):
    ready = _api(client, api_key, "POST", f"/{flow.trigger['id']}/setup", {}).json
    assert ready["ready"] is True and all(p["severity"] != "error" for p in ready["problems"])
    _api(client, api_key, "PATCH", f"/{flow.trigger['id']}", {"config": {"verify_signature": True}})
    _api(client, api_key, "POST", f"/{flow.trigger['id']}/pause", {})
    report = _api(client, api_key, "POST", f"/{flow.trigger['id']}/setup", {}).json
    assert report["ready"] is False
    assert {"trigger_paused", "no_signing_secret"} <= {p["code"] for p in report["problems"]}


def test_other_workspaces_triggers_are_invisible(client, app, api_key, flow, make_account):
    from app.extensions import db
    from app.models import Workspace
    from app.services.workspaces.api_keys import create_api_key

    other = make_account(email="eve@example.com", workspace="Other")
    with app.app_context():
        _, token = create_api_key(db.session.get(Workspace, other.workspace_id), "eve")
        db.session.commit()
    assert _api(client, token, "GET", f"/{flow.trigger['id']}").status_code == 404
    assert _api(client, token, "POST", f"/{flow.trigger['id']}/pause", {}).status_code == 404
    assert _api(client, token, "GET", "").json["triggers"] == []
